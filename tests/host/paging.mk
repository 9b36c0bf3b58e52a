# tests/host/paging.mk - host unit tests of the paging core and the frame
# allocator. Included by the top-level Makefile from the repo root; adds its
# programs to HOST_TESTS (run from the repo root by `make test`). Defines no
# test/all/clean targets.
#
# The real paging core (kernel/mm/pt_walk.c, pt_range.c, tlb_policy.c,
# pt_visit.c), pt_dump.c, phys_window.c, pmm.c and strategy_offset.c are
# compiled with the host compiler, sanitizers on, against
# tests/host/fake_cpu.c: an arena plays physical memory and is the offset
# strategy's window.

HOST_CC ?= cc
PAGING_HOST_CFLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
                      -Wall -Wextra -Werror -std=gnu11 -Iinclude -Ikernel -Ikernel/mm
PAGING_TEST_DIR := build/host

PAGING_CORE_SRC := kernel/mm/pt_walk.c kernel/mm/pt_range.c kernel/mm/tlb_policy.c \
                   kernel/mm/pt_visit.c kernel/mm/pt_dump.c kernel/mm/phys_window.c \
                   kernel/mm/pmm.c kernel/mm/strategy_offset.c tests/host/fake_cpu.c
PAGING_DEPS := $(PAGING_CORE_SRC) tests/host/fake_cpu.h tests/host/check.h \
               kernel/mm/pt.h kernel/mm/pt_internal.h kernel/mm/phys_window.h kernel/mm/pmm.h \
               kernel/mm/strategy.h kernel/mm/tlb.h \
               include/pte.h include/addr.h include/layout.h include/bootinfo.h \
               include/pmm_meta.h common/debug.h

HOST_TESTS += $(PAGING_TEST_DIR)/test_pt $(PAGING_TEST_DIR)/test_pt_model \
              $(PAGING_TEST_DIR)/test_pmm

$(PAGING_TEST_DIR)/test_pt: tests/host/test_pt.c $(PAGING_DEPS)
	@mkdir -p $(@D)
	$(HOST_CC) $(PAGING_HOST_CFLAGS) -o $@ tests/host/test_pt.c $(PAGING_CORE_SRC)

# The reference model (tests/host/pt_model.c) is shared with tests/fuzz/fuzz_pt.c.
$(PAGING_TEST_DIR)/test_pt_model: tests/host/test_pt_model.c tests/host/pt_model.c \
                                  tests/host/pt_model.h $(PAGING_DEPS)
	@mkdir -p $(@D)
	$(HOST_CC) $(PAGING_HOST_CFLAGS) -o $@ tests/host/test_pt_model.c tests/host/pt_model.c \
	    $(PAGING_CORE_SRC)

$(PAGING_TEST_DIR)/test_pmm: tests/host/test_pmm.c $(PAGING_DEPS)
	@mkdir -p $(@D)
	$(HOST_CC) $(PAGING_HOST_CFLAGS) -o $@ tests/host/test_pmm.c $(PAGING_CORE_SRC)
