# pagelab - one non-recursive Makefile. `make help` lists the targets.
#
# One stage2 (build/stage2.bin; build/dbg/stage2.bin with the Bochs
# breakpoints) boots every kernel: the kernel's ELF note tells it the
# strategy (include/kernel_note.h). Kernels are built per strategy into
# build/<strategy>/; the strategy reaches the kernel as
# -DPAGELAB_STRATEGY=STRATEGY_<NAME> and picks the kernel/mm/strategy_<name>.c
# that is linked. One pattern rule makes every image (image_rule below).

STRATEGIES := identity table-offset offset temporary recursive
STRATEGY   ?= offset
ifeq ($(filter $(STRATEGY),$(STRATEGIES)),)
$(error unknown STRATEGY '$(STRATEGY)': choose one of $(STRATEGIES))
endif
MEM        ?= 512M
CPU        ?= max
QEMU_EXTRA ?=
FAT        ?= 16
ifeq ($(filter $(FAT),12 16 32),)
$(error unknown FAT '$(FAT)': choose 12, 16 or 32)
endif
# SWAP_MIB=<n>: the swap partition's size (include/layout.h's
# SWAP_DEFAULT_MIB without it; 0: an image without swap)
# (read with sed, not tools/layout.py: make parses this before `make deps`
# has installed python3 on a fresh machine)
ifeq ($(origin SWAP_MIB),undefined)
SWAP_MIB   := $(shell sed -n 's/^\#define SWAP_DEFAULT_MIB[ \t]*\([0-9][0-9]*\).*/\1/p' include/layout.h)
endif
ifeq ($(shell echo '$(SWAP_MIB)' | grep -Ex '[0-9]+'),)
$(error SWAP_MIB '$(SWAP_MIB)' is not a number of MiB)
endif
# KERNEL=<elf>: `make run`/`make gdb` boot that kernel instead of pagelab's
# (README, "Replace the kernel"), in build/<strategy>/custom.img
KERNEL     ?=
# EXIT=1: QEMU exits once the boot ends (status 0 after "pagelab: halted",
# 1 after a named error) instead of idling with the CPU halted
EXIT       ?=
# NO_DEPS=1: no target checks or installs Debian packages (tools/deps.sh)
NO_DEPS    ?=
# make bochs: rfb (headless, VNC on 127.0.0.1) or x (a window)
BOCHS_DISPLAY ?= rfb
# make gdb: the stub's TCP port on 127.0.0.1, one per user (as xv6 does)
GDB_PORT   ?= $(shell expr $$(id -u) % 5000 + 25000)

CC      := gcc
LD      := ld
NASM    := nasm
PYTHON  := python3
QEMU    := qemu-system-x86_64
GEN     := build/gen
# V=1 shows the full commands
Q       := $(if $(V),,@)

WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
COMMON_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                 -fno-asynchronous-unwind-tables -fno-builtin -mgeneral-regs-only \
                 -MMD -MP $(WARN) -Iinclude -Icommon
# -march=i386: no CMOV & co., so that on a CPU too old for pagelab (a
# Pentium, a 486) stage2 still runs far enough to say why it cannot boot
STAGE2_CFLAGS := $(COMMON_CFLAGS) -m32 -march=i386 -Os -g -Istage2
# -flto: the strategy is chosen at link time, and LTO still lets its tiny
# table_get inline into the walker (translate's cost target: 60 instructions)
KERNEL_CFLAGS := $(COMMON_CFLAGS) -m64 -mno-red-zone -mcmodel=kernel -O2 -g -flto=auto -Ikernel -Ikernel/mm -Ikernel/cpu -Ikernel/proc -Ikernel/dev
NASMFLAGS     := -I$(GEN)/ -Icommon/ -Istage2/ -Werror
KERNEL_LDFLAGS := $(filter-out -MMD -MP,$(KERNEL_CFLAGS)) -nostdlib -static -no-pie \
                  -Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none

# what a NASM source may include (common/debug.inc pulls in uart.inc)
ASM_INC := $(GEN)/layout.inc $(GEN)/x86.inc $(GEN)/uart.inc common/debug.inc stage2/segments.inc
# user programs (user/): static, at USER_BASE (user/user.ld), linked as
# no PIE; freestanding like the kernel, only their own headers (user/lib)
# and the contracts (include/syscall.h, layout.h). USER_BASE is 512 GiB,
# above the 2 GiB the small code model's absolute addresses reach, so the
# code is compiled position-independent (-fpie: RIP-relative addressing,
# which reaches any address) and linked at its fixed place all the same.
USER_CFLAGS   := -std=gnu11 -ffreestanding -fpie -fno-stack-protector \
                 -fno-asynchronous-unwind-tables -fno-builtin -mgeneral-regs-only \
                 -m64 -mno-red-zone -O2 -g -MMD -MP $(WARN) -Iinclude -Iuser/lib
USER_LDFLAGS  := -m64 -nostdlib -static -no-pie -Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000 \
                 -Wl,--build-id=none
USER_LIB_OBJ  := $(patsubst %,build/user/%.o,$(wildcard user/lib/*.c))
# a program is user/<name>.c, or a folder user/<name>/ of C files (one
# module all the same: stage2 takes at most BOOT_INFO_MAX_MODULES)
USER_DIRS     := $(filter-out lib,$(patsubst user/%/,%,$(sort $(dir $(wildcard user/*/*.c)))))
USER_ELFS     := $(sort $(patsubst user/%.c,build/user/%.elf,$(wildcard user/*.c)) \
                        $(patsubst %,build/user/%.elf,$(USER_DIRS)))
# debug images: `make bochs DEMO=<name>` boots build/<strategy>/debug-<name>.img
DEMOS := stale-tlb
DEMO  ?=
ifneq ($(DEMO),)
ifeq ($(filter $(DEMO),$(DEMOS)),)
$(error unknown DEMO '$(DEMO)': choose one of $(DEMOS))
endif
endif

upper = $(shell echo $(1) | tr 'a-z-' 'A-Z_')
under = $(subst -,_,$(1))

STAGE2_C   := $(wildcard stage2/*.c)
STAGE2_ASM := $(wildcard stage2/*.asm)
COMMON_C   := $(wildcard common/*.c)
# kernel/: the boot flow, traps, console, report, system calls; kernel/mm/:
# memory management (paging core, frame allocator, strategies, TLB,
# protections); kernel/cpu/: GDT/TSS, the ring 3 <-> 0 crossings, PIC, timer.
# strategy_<name>.c: one per build; variant_<name>.c: one per image
# (kernel/variant.h): kernel/variant_none.c for the normal image, the others
# in tests/guest/ with the tests that boot them (and measure.c, which only
# they use).
KERNEL_C   := $(filter-out kernel/variant_%.c,$(wildcard kernel/*.c)) \
              $(filter-out kernel/mm/strategy_%.c kernel/mm/table_pool.c kernel/mm/spaces_plain.c,$(wildcard kernel/mm/*.c)) \
              $(wildcard kernel/cpu/*.c) $(wildcard kernel/proc/*.c) $(wildcard kernel/dev/*.c)
GUEST_DIR  := tests/guest
# strategy_sources(name): the files of one strategy; the two that reach
# tables through the loader's table pool share kernel/mm/table_pool.c, and
# all but recursive share the plain address-space hooks (spaces_plain.c)
POOL_STRATEGIES := identity table-offset
strategy_sources = kernel/mm/strategy_$(call under,$(1)).c \
                   $(if $(filter $(1),$(POOL_STRATEGIES)),kernel/mm/table_pool.c) \
                   $(if $(filter-out recursive,$(1)),kernel/mm/spaces_plain.c)
KERNEL_ASM := $(wildcard kernel/*.asm kernel/cpu/*.asm kernel/proc/*.asm)

.PHONY: all image run bochs gdb test bench experiments clean help images test-images bench-images debug-images \
        deps deps-build deps-run deps-gdb deps-bochs deps-test deps-fuzz deps-bench
all: image

# keep generated includes: they are inputs of many objects
.SECONDARY:

# The FAT type is an input of every image: build/config/fat holds the last
# one used and changes (so images are rebuilt) only when FAT does.
FAT_STAMP := build/config/fat
$(shell mkdir -p build/config && { [ "$$(cat $(FAT_STAMP) 2>/dev/null)" = "$(FAT)" ] || echo "$(FAT)" > $(FAT_STAMP); })
SWAP_STAMP := build/config/swap
$(shell mkdir -p build/config && { [ "$$(cat $(SWAP_STAMP) 2>/dev/null)" = "$(SWAP_MIB)" ] || echo "$(SWAP_MIB)" > $(SWAP_STAMP); })
# what every disk image is made of, besides its stage2 and kernel
IMAGE_DEPS := build/stage1.bin disk/mkimage.py include/layout.h $(FAT_STAMP) $(SWAP_STAMP) $(USER_ELFS)

$(GEN)/%.inc: include/%.h tools/h2inc.sh
	@mkdir -p $(@D)
	tools/h2inc.sh $< > $@

build/stage1.bin: stage1/stage1.asm $(GEN)/layout.inc
	$(NASM) $(NASMFLAGS) -f bin -l build/stage1.lst -o $@ $<
	@test $$(stat -c %s $@) -eq 512 || { echo "stage1 is not 512 bytes"; exit 1; }

# stage2_rules(dir, flags): the one stage2 in build/<dir>/ ("": the normal
# one; dbg/: with -DPAGELAB_DEBUG, for the debug images). Nothing in it
# depends on the strategy.
define stage2_rules
$(1)S2_OBJ := $(patsubst %,build/$(1)s2/%.o,$(STAGE2_C) $(STAGE2_ASM) $(COMMON_C))
build/$(1)s2/%.c.o: %.c Makefile
	@mkdir -p $$(@D)
	@echo "  CC32  $$@"
	$$(Q)$$(CC) $$(STAGE2_CFLAGS) $(2) -c $$< -o $$@
build/$(1)s2/%.asm.o: %.asm $(ASM_INC)
	@mkdir -p $$(@D)
	@echo "  NASM  $$@"
	$$(Q)$$(NASM) $$(NASMFLAGS) $(2) -f elf32 -o $$@ $$<
build/$(1)stage2.elf: $$($(1)S2_OBJ) build/stage2.ld
	@echo "  LD    $$@"
	$$(Q)$$(LD) -m elf_i386 -nostdlib -z noexecstack --no-warn-rwx-segments -T build/stage2.ld -o $$@ $$($(1)S2_OBJ)
build/$(1)stage2.bin: build/$(1)stage2.elf
	objcopy -O binary $$< $$@
-include $$($(1)S2_OBJ:.o=.d)
endef
$(eval $(call stage2_rules,,))
$(eval $(call stage2_rules,dbg/,-DPAGELAB_DEBUG))
build/stage2.ld: stage2/stage2.ld include/layout.h
	@mkdir -p $(@D)
	$(CC) -E -P -x c -Iinclude $< -o $@

# User programs: user/<name>.c with the library user/lib/*.c makes
# build/user/debug/<name>.elf (with its debug information, for gdb's
# add-symbol-file) and build/user/<name>.elf, the same without it, which
# every image carries as /bin/<name> (disk/mkimage.py --bin): stage2 reads
# every module byte through the BIOS, and the debug sections were two
# thirds of each file. Built once for every strategy.
build/user/%.c.o: %.c Makefile
	@mkdir -p $(@D)
	@echo "  CCU   $@"
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@
build/user/user.ld: user/user.ld include/layout.h
	@mkdir -p $(@D)
	$(CC) -E -P -x c -Iinclude $< -o $@
build/user/debug/%.elf: build/user/user/%.c.o $(USER_LIB_OBJ) build/user/user.ld
	@mkdir -p $(@D)
	@echo "  LDU   $@"
	$(Q)$(CC) $(USER_LDFLAGS) -T build/user/user.ld -o $@ $< $(USER_LIB_OBJ)
# user/<name>/*.c: the same, its objects in build/user/user/<name>/
define user_dir_rules
$(1)_USER_OBJ := $$(patsubst %,build/user/%.o,$$(wildcard user/$(1)/*.c))
build/user/debug/$(1).elf: $$($(1)_USER_OBJ) $(USER_LIB_OBJ) build/user/user.ld
	@mkdir -p $$(@D)
	@echo "  LDU   $$@"
	$$(Q)$$(CC) $$(USER_LDFLAGS) -T build/user/user.ld -o $$@ $$($(1)_USER_OBJ) $(USER_LIB_OBJ)
-include $$($(1)_USER_OBJ:.o=.d)
endef
$(foreach d,$(USER_DIRS),$(eval $(call user_dir_rules,$(d))))
build/user/%.elf: build/user/debug/%.elf
	$(Q)objcopy --strip-debug $< $@
-include $(USER_LIB_OBJ:.o=.d) $(USER_ELFS:build/user/%.elf=build/user/user/%.c.d)

# strategy_rules(name): the kernels of one strategy.
define strategy_rules
$(1)_DEFS := -DPAGELAB_STRATEGY=STRATEGY_$(call upper,$(1)) -DPAGELAB_STRATEGY_NAME='"$(1)"'
$(1)_K_OBJ  := $(patsubst %,build/$(1)/k/%.o,$(KERNEL_C) $(KERNEL_ASM) $(COMMON_C) \
                 $(call strategy_sources,$(1)))
$(1)_K_NORMAL := build/$(1)/k/kernel/variant_none.c.o
$(1)_K_RING3  := build/$(1)/k/$(GUEST_DIR)/ring3.c.o build/$(1)/k/$(GUEST_DIR)/ring3_user.asm.o \
                 build/$(1)/k/$(GUEST_DIR)/result.c.o
$(1)_K_TEST   := build/$(1)/k/$(GUEST_DIR)/variant_selftest.c.o build/$(1)/k/$(GUEST_DIR)/measure.c.o \
                 build/$(1)/k/$(GUEST_DIR)/access.c.o build/$(1)/k/$(GUEST_DIR)/spaces.c.o \
                 build/$(1)/k/$(GUEST_DIR)/images.c.o build/$(1)/k/$(GUEST_DIR)/procs.c.o \
                 build/$(1)/k/$(GUEST_DIR)/frames.c.o build/$(1)/k/$(GUEST_DIR)/swapio.c.o \
                 build/$(1)/k/$(GUEST_DIR)/swapent.c.o build/$(1)/k/$(GUEST_DIR)/pagesize.c.o \
                 $$($(1)_K_RING3)
$(1)_K_BENCH  := build/$(1)/k/$(GUEST_DIR)/variant_bench.c.o build/$(1)/k/$(GUEST_DIR)/measure.c.o \
                 $$($(1)_K_RING3)

build/$(1)/k/%.c.o: %.c Makefile
	@mkdir -p $$(@D)
	@echo "  CC64  $$@"
	$$(Q)$$(CC) $$(KERNEL_CFLAGS) $$($(1)_DEFS) -c $$< -o $$@
build/$(1)/k/%.asm.o: %.asm $(ASM_INC)
	@mkdir -p $$(@D)
	@echo "  NASM  $$@"
	$$(Q)$$(NASM) $$(NASMFLAGS) -f elf64 -g -o $$@ $$<

build/$(1)/kernel.ld: kernel/kernel.ld include/layout.h
	@mkdir -p $$(@D)
	$$(CC) -E -P -x c -Iinclude $$< -o $$@
build/$(1)/kernel.elf: $$($(1)_K_OBJ) $$($(1)_K_NORMAL) build/$(1)/kernel.ld
	@echo "  LD    $$@"
	$$(Q)$$(CC) $$(KERNEL_LDFLAGS) -T build/$(1)/kernel.ld -o $$@ $$($(1)_K_OBJ) $$($(1)_K_NORMAL)
build/$(1)/kernel-test.elf: $$($(1)_K_OBJ) $$($(1)_K_TEST) build/$(1)/kernel.ld
	@echo "  LD    $$@"
	$$(Q)$$(CC) $$(KERNEL_LDFLAGS) -T build/$(1)/kernel.ld -o $$@ $$($(1)_K_OBJ) $$($(1)_K_TEST)
build/$(1)/kernel-bench.elf: $$($(1)_K_OBJ) $$($(1)_K_BENCH) build/$(1)/kernel.ld
	@echo "  LD    $$@"
	$$(Q)$$(CC) $$(KERNEL_LDFLAGS) -T build/$(1)/kernel.ld -o $$@ $$($(1)_K_OBJ) $$($(1)_K_BENCH)
-include $$($(1)_K_OBJ:.o=.d) $$($(1)_K_TEST:.o=.d) $$($(1)_K_NORMAL:.o=.d) $$($(1)_K_BENCH:.o=.d)
endef
$(foreach s,$(STRATEGIES),$(eval $(call strategy_rules,$(s))))

# debug_rules(name): the debug kernels of one strategy (`make bochs`,
# tests/bochs_check.py). The kernel is compiled again into build/<name>/dbg/
# with -DPAGELAB_DEBUG (Bochs magic breakpoints, common/debug.h), as is the
# one debug stage2 (build/dbg/), and the kernel variant is
# tests/guest/variant_debug.c: debug.img; debug-stale-tlb.img adds its
# stale-TLB demo. bochs-<image>.sym: stage2's and the kernel's symbols for
# Bochs's debugger.
define debug_rules
$(1)_DBG_K_OBJ  := $(patsubst %,build/$(1)/dbg/k/%.o,$(KERNEL_C) $(KERNEL_ASM) $(COMMON_C) \
                     $(call strategy_sources,$(1)))
$(1)_DBG_DEFS   := $$($(1)_DEFS) -DPAGELAB_DEBUG

build/$(1)/dbg/k/%.c.o: %.c
	@mkdir -p $$(@D)
	@echo "  CC64  $$@"
	$$(Q)$$(CC) $$(KERNEL_CFLAGS) $$($(1)_DBG_DEFS) -c $$< -o $$@
build/$(1)/dbg/k/%.asm.o: %.asm $(ASM_INC)
	@mkdir -p $$(@D)
	@echo "  NASM  $$@"
	$$(Q)$$(NASM) $$(NASMFLAGS) -DPAGELAB_DEBUG -f elf64 -g -o $$@ $$<
build/$(1)/dbg/k/$(GUEST_DIR)/variant_debug-stale-tlb.c.o: $(GUEST_DIR)/variant_debug.c
	@mkdir -p $$(@D)
	@echo "  CC64  $$@"
	$$(Q)$$(CC) $$(KERNEL_CFLAGS) $$($(1)_DBG_DEFS) -DPAGELAB_DEMO_STALE_TLB=1 -c $$< -o $$@

build/$(1)/dbg/kernel-%.elf: $$($(1)_DBG_K_OBJ) build/$(1)/dbg/k/$(GUEST_DIR)/variant_%.c.o build/$(1)/kernel.ld
	@echo "  LD    $$@"
	$$(Q)$$(CC) $$(KERNEL_LDFLAGS) -T build/$(1)/kernel.ld -o $$@ $$($(1)_DBG_K_OBJ) build/$(1)/dbg/k/$(GUEST_DIR)/variant_$$*.c.o
build/$(1)/dbg/bochs-%.sym: build/dbg/stage2.elf build/$(1)/dbg/kernel-%.elf
	@echo "  SYM   $$@"
	$$(Q)nm -n $$^ | awk 'NF == 3 && $$$$2 ~ /^[tTdDbBrR]$$$$/ && $$$$3 !~ /^\.\.@/ { print $$$$1, $$$$3 }' > $$@
-include $$($(1)_DBG_K_OBJ:.o=.d) build/$(1)/dbg/k/$(GUEST_DIR)/variant_debug.c.d \
         build/$(1)/dbg/k/$(GUEST_DIR)/variant_debug-stale-tlb.c.d
endef
$(foreach s,$(STRATEGIES),$(eval $(call debug_rules,$(s))))

# The stack-overflow test kernel (tests/guest/variant_overflow.c), offset only:
# booted by tests/robustness.py, which expects the double-fault report.
OVERFLOW_OBJ := build/offset/k/$(GUEST_DIR)/variant_overflow.c.o
build/offset/kernel-overflow.elf: $(offset_K_OBJ) $(OVERFLOW_OBJ) build/offset/kernel.ld
	@echo "  LD    $@"
	$(Q)$(CC) $(KERNEL_LDFLAGS) -T build/offset/kernel.ld -o $@ $(offset_K_OBJ) $(OVERFLOW_OBJ)
-include $(OVERFLOW_OBJ:.o=.d)

# KERNEL=<elf>: the same loader with someone else's kernel (its own image,
# so build/<strategy>/disk.img keeps pagelab's), made anew every time: the
# file named may be older than the image made from another one
IMAGE := build/$(STRATEGY)/$(if $(KERNEL),custom,disk).img
.PHONY: FORCE

# The one image rule: build/<strategy>/<image>.img is stage1, a stage2 and
# the kernel image_kernel names. disk: kernel.elf; vm, swap: kernel.elf with
# $(VM_CONFIG), $(SWAP_CONFIG) as /boot/pagelab.cfg; test, bench, overflow:
# kernel-<image>.elf; debug, debug-stale-tlb: the debug stage2 and
# dbg/kernel-<image>.elf (plus Bochs's symbols, and $(DEBUG_CONFIG) as
# /boot/pagelab.cfg); custom: $(KERNEL), made anew every time (FORCE).
image_strategy = $(firstword $(subst /, ,$(1)))
image_name     = $(lastword $(subst /, ,$(1)))
image_debug    = $(filter debug%,$(call image_name,$(1)))
image_stage2   = build/$(if $(call image_debug,$(1)),dbg/)stage2.bin
image_elf      = $(if $(call image_debug,$(1)),dbg/)kernel$(if $(filter-out disk vm swap,$(call image_name,$(1))),-$(call image_name,$(1))).elf
image_kernel   = $(if $(filter custom,$(call image_name,$(1))),$(KERNEL),build/$(call image_strategy,$(1))/$(call image_elf,$(1)))
image_extra    = $(if $(call image_debug,$(1)),build/$(call image_strategy,$(1))/dbg/bochs-$(call image_name,$(1)).sym) \
                 $(call image_cfg,$(1)) \
                 $(if $(filter custom,$(call image_name,$(1))),FORCE)
# debug images carry a /boot/pagelab.cfg whose run list reaches every
# process milestone (a user page fault needs iso_kread)
DEBUG_CONFIG   := $(GUEST_DIR)/debug.cfg
# vm.img: the normal kernel running only the virtual-memory suite
# (user/vmsuite), so its free-frame counts are exact (tests/vm_checks.py)
VM_CONFIG      := $(GUEST_DIR)/vm.cfg
# swap.img: the normal kernel running swaptest alone under a user_frames=
# limit (tests/swap_checks.py puts other policies' lines in copies of it)
SWAP_CONFIG    := $(GUEST_DIR)/swap.cfg
image_cfg      = $(if $(call image_debug,$(1)),$(DEBUG_CONFIG),$(if $(filter vm,$(call image_name,$(1))),$(VM_CONFIG),$(if $(filter swap,$(call image_name,$(1))),$(SWAP_CONFIG))))
image_config   = $(if $(call image_cfg,$(1)),--config $(call image_cfg,$(1)))
.SECONDEXPANSION:
build/%.img: $(IMAGE_DEPS) $$(call image_stage2,$$*) $$(call image_kernel,$$*) $$(call image_extra,$$*)
	@echo "  IMAGE $@$(if $(filter custom,$(call image_name,$*)), (kernel: $(KERNEL)))"
	$(Q)$(PYTHON) disk/mkimage.py --layout include/layout.h --stage1 build/stage1.bin \
	    --stage2 $(call image_stage2,$*) --kernel $(call image_kernel,$*) --fat $(FAT) \
	    --swap-mib $(SWAP_MIB) \
	    --bin $(USER_ELFS) $(call image_config,$*) --out $@
image: deps-build $(IMAGE)
images: deps-build $(foreach s,$(STRATEGIES),build/$(s)/disk.img)
test-images: $(foreach s,$(STRATEGIES),build/$(s)/test.img build/$(s)/bench.img build/$(s)/vm.img \
                                     build/$(s)/swap.img) \
             build/offset/overflow.img
bench-images: $(foreach s,$(STRATEGIES),build/$(s)/bench.img)
debug-images: $(foreach s,$(STRATEGIES),build/$(s)/debug.img build/$(s)/debug-stale-tlb.img)

# Debian packages: each target checks (and as root installs) what it needs,
# tools/deps.sh says which; `make deps` installs what every target needs.
DEPS_TARGETS := deps deps-build deps-run deps-gdb deps-bochs deps-test deps-fuzz deps-bench
$(DEPS_TARGETS):
	$(if $(NO_DEPS),@:,@BOCHS_DISPLAY=$(BOCHS_DISPLAY) tools/deps.sh $@)

# The QEMU of `make run` and `make gdb`. Serial and the monitor share the
# terminal (-serial mon:stdio, as xv6 does): Ctrl-A X quits, Ctrl-A C
# switches between the guest's serial and the monitor (`info mem`,
# `info tlb`, `gva2gpa <va>`, `xp /8gx <pa>`). Without a graphical session
# (no $$DISPLAY) QEMU's window cannot open: the VGA screen is not lost,
# since everything on it also goes to serial. -nographic in QEMU_EXTRA
# brings its own mon:stdio, so ours steps aside.
# EXIT=1: the isa-debug-exit device at DEBUG_EXIT_PORT (include/layout.h),
# which the loader and kernel write when the boot ends; QEMU exits with
# 2v+1, which tools/qemu_exit.sh turns into 0 (halted) or 1 (stopped).
# snapshot=on: the kernel's writes (its swap partition) go to a temporary
# overlay, never into the image, so every run starts from the same disk.
QEMU_RUN = $(QEMU) -drive file=$(IMAGE),format=raw,if=ide,snapshot=on -m $(MEM) -cpu $(CPU) -no-reboot \
            $(if $(findstring -nographic,$(QEMU_EXTRA)),,$(if $(DISPLAY),,-display none) -serial mon:stdio) \
            $(if $(EXIT),-device isa-debug-exit$(,)iobase=$(DEBUG_EXIT_PORT)$(,)iosize=1)
, := ,
DEBUG_EXIT_PORT = $(shell $(PYTHON) tools/layout.py DEBUG_EXIT_PORT)
# MEM below what pagelab boots with is refused here, before QEMU starts
# (below about 1 MiB QEMU's own BIOS stops without a word)
CHECK_MEM = $(PYTHON) tools/check_mem.py $(MEM)

run: deps-run $(IMAGE)
	@$(CHECK_MEM)
	@echo "pagelab: QEMU on this terminal: Ctrl-A X quits, Ctrl-A C toggles the QEMU monitor"
	$(if $(EXIT),@tools/qemu_exit.sh) $(QEMU_RUN) $(QEMU_EXTRA)

# Bochs stops at every paging milestone of the debug image (NOTES.md,
# "Stepping through paging in Bochs"); -unlock: a Bochs that was killed
# leaves a lock on the image. BOCHS_EXTRA: one more bochsrc line. The disk
# is volatile (writes go to a redo log Bochs discards), as QEMU's is
# snapshot=on above: what the kernel writes to swap never reaches the
# image, and every run starts from the same disk.
BOCHS_VARIANT := debug$(if $(DEMO),-$(DEMO))
bochs: deps-bochs build/$(STRATEGY)/$(BOCHS_VARIANT).img build/tools/bind_local.so
	BOCHS_DISPLAY=$(BOCHS_DISPLAY) tools/bochs.sh -q -unlock -f bochsrc \
	    'ata0-master: type=disk, path="build/$(STRATEGY)/$(BOCHS_VARIANT).img", mode=volatile' \
	    'debug_symbols: file="build/$(STRATEGY)/dbg/bochs-$(BOCHS_VARIANT).sym"' \
	    $(if $(BOCHS_EXTRA),'$(BOCHS_EXTRA)')

# tools/bochs.sh preloads it so that Bochs's VNC display binds 127.0.0.1
build/tools/bind_local.so: tools/bind_local.c
	@mkdir -p $(@D)
	@echo "  CCSO  $@"
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# gdb: QEMU paused, its stub on 127.0.0.1:GDB_PORT only. build/gdb-session
# names this image's strategy, kernel symbols and port; tools/gdbinit reads
# it, so the gdb in the other terminal loads the symbols of the image that
# runs (and warns if PAGELAB_STRATEGY asks for another).
gdb: deps-gdb $(IMAGE)
	@$(CHECK_MEM)
	@printf '%s\n' "# written by make gdb: the QEMU it started (tools/gdbinit reads this)" \
	    "image=$(IMAGE)" "strategy=$(STRATEGY)" \
	    "kernel=$(or $(KERNEL),build/$(STRATEGY)/kernel.elf)" \
	    "target=127.0.0.1:$(GDB_PORT)" > build/gdb-session
	@echo "pagelab: QEMU waits for gdb on 127.0.0.1:$(GDB_PORT); in another terminal, here:"
	@echo "  gdb -x tools/gdbinit"
	@echo "pagelab: Ctrl-A X quits QEMU, Ctrl-A C toggles the QEMU monitor"
	$(QEMU_RUN) -S -gdb tcp:127.0.0.1:$(GDB_PORT) $(QEMU_EXTRA)

HOST_TESTS :=
-include tests/host/loader.mk
-include tests/host/paging.mk
-include tests/host/config.mk
-include tests/fuzz/fuzz.mk

test: deps-test images test-images debug-images build/tools/bind_local.so $(HOST_TESTS)
	@$(PYTHON) tests/run_tests.py --host $(HOST_TESTS) --strategies $(STRATEGIES) $(if $(KVM),--kvm)

# KVM=1 adds cycle counts under KVM where /dev/kvm exists (never required)
bench: deps-bench images bench-images
	@$(PYTHON) tests/bench.py --strategies $(STRATEGIES) $(if $(KVM),--kvm)

# page replacement's experiments (tests/experiments.py): the workloads of
# user/refs.h in copies of build/$(STRATEGY)/swap.img, one boot per policy,
# limit and workload: build/experiments/replacement.csv and its plots; and
# the page-size trade-off (tests/pagesize.py), one boot of the test image:
# build/experiments/pagesize.csv
experiments: deps-bench build/$(STRATEGY)/swap.img build/$(STRATEGY)/test.img
	@$(PYTHON) tests/experiments.py --strategy $(STRATEGY)

clean:
	rm -rf build

help:
	@echo "make image  [STRATEGY=name]   build build/<name>/disk.img (default strategy: offset)"
	@echo "make run    [STRATEGY= MEM= CPU= KERNEL= EXIT=1 QEMU_EXTRA=]  boot it in QEMU; serial and"
	@echo "                              monitor on the terminal (Ctrl-A X quits, Ctrl-A C: monitor)"
	@echo "make bochs  [STRATEGY= DEMO=stale-tlb BOCHS_DISPLAY=rfb|x]  the debug image in Bochs's debugger"
	@echo "make gdb    [STRATEGY= KERNEL= GDB_PORT=]  QEMU paused for gdb; then: gdb -x tools/gdbinit"
	@echo "make test   [KVM=1]           host tests + boot tests of all strategies (KVM=1: also under KVM)"
	@echo "make fuzz   [FUZZ_SECONDS=60] each libFuzzer harness for that long (tests/fuzz)"
	@echo "make bench  [KVM=1]           costs per strategy and memory size: build/bench/results.csv, PNGs, summary.md"
	@echo "make experiments [STRATEGY=]  page replacement: build/experiments/replacement.csv and PNGs,"
	@echo "                              the page-size trade-off: pagesize.csv"
	@echo "make clean                    remove build/"
	@echo "NO_DEPS=1 on any target: no Debian package check (tools/deps.sh)"
	@echo "strategies: $(STRATEGIES)"
