# tests/host/paging.mk - host unit tests of the paging core and the frame
# allocator. Included by the top-level Makefile from the repo root; adds its
# programs to HOST_TESTS (run from the repo root by `make test`). Defines no
# test/all/clean targets.
#
# The real paging core (kernel/mm/pt_walk.c, pt_range.c, tlb_policy.c,
# pt_visit.c, pt_space.c, pt_clone.c, pt_swap.c), pt_dump.c, phys_window.c, pmm.c and
# one strategy are compiled with the host compiler, sanitizers on, against
# tests/host/fake_cpu.c: an arena plays physical memory, prepared the way
# stage2 prepares it for that strategy (fake_cpu.h). The paging tests are built once per strategy in
# HOST_STRATEGIES, into build/host/<strategy>/; recursive stays guest-only
# (NOTES.md, "The five strategies"). test_frame_meta adds kernel/mm/frame_meta.c
# (and -Icommon for its mem.h). test_vm and test_vm_model add
# kernel/proc/vm.c on top of that, with tests/host/fake_vm_env.c for kmap
# and the fault handler's two uaccess helpers (vm_sim.h: the simulated
# processes); test_replace and test_livelock replace.c and swap.c (and
# livelock.c) over a disk in memory. test_pmm does not involve a strategy and is built once, with
# offset.

HOST_CC ?= cc
PAGING_HOST_CFLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
                      -Wall -Wextra -Werror -std=gnu11 -Iinclude -Ikernel -Ikernel/mm
PAGING_TEST_DIR := build/host
HOST_STRATEGIES := identity table-offset offset temporary

PAGING_CORE_SRC := kernel/mm/pt_walk.c kernel/mm/pt_range.c kernel/mm/tlb_policy.c \
                   kernel/mm/pt_visit.c kernel/mm/pt_dump.c kernel/mm/phys_window.c kernel/mm/pt_space.c \
                   kernel/mm/pt_clone.c kernel/mm/pt_swap.c kernel/mm/pt_accessed.c kernel/mm/pmm.c \
                   tests/host/fake_cpu.c
PAGING_DEPS := $(PAGING_CORE_SRC) tests/host/fake_cpu.h tests/host/check.h \
               kernel/mm/pt.h kernel/mm/pt_internal.h kernel/mm/phys_window.h kernel/mm/pmm.h \
               kernel/mm/strategy.h kernel/mm/tlb.h \
               kernel/mm/table_pool.h kernel/mm/strategy_temporary.h \
               include/pte.h include/addr.h include/layout.h include/bootinfo.h \
               include/pmm_meta.h common/debug.h

VM_HOST_SRC := kernel/proc/vm.c kernel/proc/replace.c kernel/mm/frame_meta.c kernel/mm/swap.c \
               kernel/config_parse.c tests/host/fake_vm_env.c tests/host/fake_ata.c
VM_HOST_DEPS := kernel/proc/vm.h kernel/proc/replace.h kernel/mm/swap.h kernel/dev/ata.h \
                tests/host/fake_ata.h \
                kernel/config.h kernel/proc/image.h kernel/mm/frame_meta.h kernel/mm/kmap.h \
                kernel/uaccess.h kernel/trap.h include/syscall.h tests/host/vm_sim.h tests/host/swap_sim.h

# host_paging_rules(strategy): that strategy's test programs.
define host_paging_rules
$(1)_HOST_DIR := $(PAGING_TEST_DIR)/$(1)
$(1)_HOST_FLAGS := $(PAGING_HOST_CFLAGS) -DFAKE_STRATEGY=STRATEGY_$(call upper,$(1)) \
                  -DFAKE_STRATEGY_IS_$(call upper,$(1))
$(1)_HOST_SRC := $(PAGING_CORE_SRC) $(call strategy_sources,$(1))
HOST_TESTS += $$($(1)_HOST_DIR)/test_pt $$($(1)_HOST_DIR)/test_pt_model \
              $$($(1)_HOST_DIR)/test_pt_levels $$($(1)_HOST_DIR)/test_space \
              $$($(1)_HOST_DIR)/test_swap \
              $$($(1)_HOST_DIR)/test_frame_meta $$($(1)_HOST_DIR)/test_vm \
              $$($(1)_HOST_DIR)/test_vm_model $$($(1)_HOST_DIR)/test_replace \
              $$($(1)_HOST_DIR)/test_livelock

# The per-frame records (kernel/mm/frame_meta.c) on the real core.
$$($(1)_HOST_DIR)/test_frame_meta: tests/host/test_frame_meta.c kernel/mm/frame_meta.c \
                                   kernel/mm/frame_meta.h $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -Icommon -o $$@ tests/host/test_frame_meta.c \
	    kernel/mm/frame_meta.c $$($(1)_HOST_SRC)

# Regions and page faults (kernel/proc/vm.c) on the real core, pmm and frame
# records: the directed cases and the randomised model test; page
# replacement and swap (kernel/proc/replace.c, kernel/mm/swap.c) over a
# disk in memory (tests/host/fake_ata.c).
$$($(1)_HOST_DIR)/test_vm $$($(1)_HOST_DIR)/test_vm_model $$($(1)_HOST_DIR)/test_replace: \
        $$($(1)_HOST_DIR)/%: tests/host/%.c \
        $(VM_HOST_SRC) $(VM_HOST_DEPS) $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -Icommon -Ikernel/proc -Ikernel/dev -o $$@ $$< $(VM_HOST_SRC) \
	    $$($(1)_HOST_SRC)

# Livelock detection (kernel/proc/livelock.c): the rule on frames of its
# own, and instructions run on the fault path as in test_replace.
$$($(1)_HOST_DIR)/test_livelock: tests/host/test_livelock.c kernel/proc/livelock.c \
        kernel/proc/livelock.h $(VM_HOST_SRC) $(VM_HOST_DEPS) $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -Icommon -Ikernel/proc -Ikernel/dev -o $$@ $$< \
	    kernel/proc/livelock.c $(VM_HOST_SRC) $$($(1)_HOST_SRC)

# Address spaces (kernel/mm/pt_space.c, pt_clone.c): create, edit inactive,
# destroy, clone, remap.
$$($(1)_HOST_DIR)/test_space: tests/host/test_space.c $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -o $$@ tests/host/test_space.c $$($(1)_HOST_SRC)

# Swap entries (kernel/mm/pt_swap.c, and what the rest of the core does
# with them): entry_get, swap_out/in/clear, next swap, destroy, clone.
$$($(1)_HOST_DIR)/test_swap: tests/host/test_swap.c $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -o $$@ tests/host/test_swap.c $$($(1)_HOST_SRC)

$$($(1)_HOST_DIR)/test_pt: tests/host/test_pt.c $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -o $$@ tests/host/test_pt.c $$($(1)_HOST_SRC)

# The reference model (tests/host/pt_model.c) is shared with tests/fuzz/fuzz_pt.c.
$$($(1)_HOST_DIR)/test_pt_model: tests/host/test_pt_model.c tests/host/pt_model.c \
                                 tests/host/pt_model.h $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -o $$@ tests/host/test_pt_model.c tests/host/pt_model.c \
	    $$($(1)_HOST_SRC)

# --wrap: every call the core makes to the strategy's two getters passes
# through the test's recorder first (the linker's seam, not the kernel's).
$$($(1)_HOST_DIR)/test_pt_levels: tests/host/test_pt_levels.c $(PAGING_DEPS) $$($(1)_HOST_SRC)
	@mkdir -p $$(@D)
	$$(HOST_CC) $$($(1)_HOST_FLAGS) -Wl,--wrap=strategy_table_get,--wrap=strategy_entry_get \
	    -o $$@ tests/host/test_pt_levels.c $$($(1)_HOST_SRC)
endef
$(foreach s,$(HOST_STRATEGIES),$(eval $(call host_paging_rules,$(s))))

HOST_TESTS += $(PAGING_TEST_DIR)/test_pmm
$(PAGING_TEST_DIR)/test_pmm: tests/host/test_pmm.c $(PAGING_DEPS) $(offset_HOST_SRC)
	@mkdir -p $(@D)
	$(HOST_CC) $(offset_HOST_FLAGS) -o $@ tests/host/test_pmm.c $(offset_HOST_SRC)
