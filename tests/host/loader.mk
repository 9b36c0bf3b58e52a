# tests/host/loader.mk - host unit tests of the stage2 libraries (E820
# sanitiser, FAT reader, ELF checks) and of the VGA screen it shares with
# the kernel (common/vga.c: word wrapping, scrolling). Included by the top-level Makefile
# from the repo root; adds its programs to HOST_TESTS, which `make test`
# runs from the repo root. Defines no test/all/clean targets.
#
# The libraries are compiled here with the host compiler against the real
# libc and with sanitizers; stage2 compiles the same sources freestanding.
# Test inputs (FAT images, sample ELF files) are generated into
# $(LOADER_TEST_DIR) as prerequisites of the test programs.

HOST_CC ?= cc
HOST_CFLAGS ?= -g -O1 -fsanitize=address,undefined -Wall -Wextra -Werror -std=gnu11
LOADER_TEST_DIR := build/host
LOADER_TEST_CFLAGS := $(HOST_CFLAGS) -Iinclude -Istage2 -Icommon \
                      -DHOST_BUILD_DIR='"$(LOADER_TEST_DIR)"'
LOADER_TEST_HEADERS := tests/host/check.h stage2/lib.h include/bootinfo.h \
                       include/layout.h

LOADER_TEST_E820 := $(LOADER_TEST_DIR)/test_e820
LOADER_TEST_ELF := $(LOADER_TEST_DIR)/test_elf

HOST_TESTS += $(LOADER_TEST_E820) $(LOADER_TEST_ELF)

$(LOADER_TEST_E820): tests/host/test_e820.c stage2/e820.c stage2/e820.h \
                     $(LOADER_TEST_HEADERS)
	@mkdir -p $(@D)
	$(HOST_CC) $(LOADER_TEST_CFLAGS) -o $@ tests/host/test_e820.c stage2/e820.c

# ---- ELF: real files from the host linker, then the test program ----
# separate-code keeps text, rodata and data on pages of their own, as the
# loader requires (it is the default of Debian's binutils; be explicit).
LOADER_ELF_SAMPLE_FLAGS := -ffreestanding -fno-pie -no-pie -nostdlib -static \
                           -O1 -Wl,-e,_start -Wl,-z,separate-code
LOADER_ELF_SAMPLES := $(LOADER_TEST_DIR)/elf_sample.elf \
                      $(LOADER_TEST_DIR)/elf_sample32.elf \
                      $(LOADER_TEST_DIR)/elf_sample.so

$(LOADER_TEST_DIR)/elf_sample.elf: tests/host/elf_sample.c
	@mkdir -p $(@D)
	$(HOST_CC) -m64 $(LOADER_ELF_SAMPLE_FLAGS) -o $@ $<

$(LOADER_TEST_DIR)/elf_sample32.elf: tests/host/elf_sample.c
	@mkdir -p $(@D)
	$(HOST_CC) -m32 $(LOADER_ELF_SAMPLE_FLAGS) -o $@ $<

$(LOADER_TEST_DIR)/elf_sample.so: tests/host/elf_sample.c
	@mkdir -p $(@D)
	$(HOST_CC) -shared -fPIC -nostdlib -O1 -o $@ $<

$(LOADER_TEST_ELF): tests/host/test_elf.c common/elf.c common/elf.h \
                    $(LOADER_TEST_HEADERS) $(LOADER_ELF_SAMPLES)
	@mkdir -p $(@D)
	$(HOST_CC) $(LOADER_TEST_CFLAGS) -o $@ tests/host/test_elf.c common/elf.c

# ---- FAT: images from mkfs.fat + mtools, then the test program ----
LOADER_FAT_STAMP := $(LOADER_TEST_DIR)/fat/.stamp
LOADER_TEST_FAT := $(LOADER_TEST_DIR)/test_fat
HOST_TESTS += $(LOADER_TEST_FAT)

$(LOADER_FAT_STAMP): tests/host/mkfatimg.sh
	sh tests/host/mkfatimg.sh $(@D)
	@touch $@

$(LOADER_TEST_FAT): tests/host/test_fat.c stage2/fat.c stage2/fat.h \
                    $(LOADER_TEST_HEADERS) $(LOADER_FAT_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(LOADER_TEST_CFLAGS) -o $@ tests/host/test_fat.c stage2/fat.c

# ---- the VGA text screen (common/vga.c) on a fake screen buffer ----
LOADER_TEST_VGA := $(LOADER_TEST_DIR)/test_vga
HOST_TESTS += $(LOADER_TEST_VGA)

$(LOADER_TEST_VGA): tests/host/test_vga.c common/vga.c common/vga.h include/layout.h tests/host/check.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -fno-sanitize-recover=all -Iinclude -Icommon -o $@ tests/host/test_vga.c common/vga.c

# ---- the console's decimal digits (common/divmod10.h), both paths ----
LOADER_TEST_DIVMOD10 := $(LOADER_TEST_DIR)/test_divmod10
HOST_TESTS += $(LOADER_TEST_DIVMOD10)

$(LOADER_TEST_DIVMOD10): tests/host/test_divmod10.c common/divmod10.h tests/host/check.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -fno-sanitize-recover=all -Icommon -o $@ tests/host/test_divmod10.c

# ---- the boot modules' rules (stage2/module_check.c) ----
LOADER_TEST_MODULES := $(LOADER_TEST_DIR)/test_modules
HOST_TESTS += $(LOADER_TEST_MODULES)

$(LOADER_TEST_MODULES): tests/host/test_modules.c stage2/module_check.c stage2/module_check.h \
                        common/elf.h $(LOADER_TEST_HEADERS)
	@mkdir -p $(@D)
	$(HOST_CC) $(LOADER_TEST_CFLAGS) -o $@ tests/host/test_modules.c stage2/module_check.c

# ---- the user library's printf (user/lib/printf.c), its names prefixed
# so that the C library's stay the test's reference ----
LOADER_TEST_UPRINTF := $(LOADER_TEST_DIR)/test_uprintf
HOST_TESTS += $(LOADER_TEST_UPRINTF)

$(LOADER_TEST_UPRINTF): tests/host/test_uprintf.c user/lib/printf.c user/lib/pagelab.h \
                        include/syscall.h tests/host/check.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -ffreestanding -fno-builtin -Iinclude -Iuser/lib \
	    -Dvsnprintf=user_vsnprintf -Dsnprintf=user_snprintf -Dprintf=user_printf \
	    -Dvprintf=user_vprintf -Dwrite=user_write -c user/lib/printf.c -o $@-lib.o
	$(HOST_CC) $(HOST_CFLAGS) -Wno-format-truncation -o $@ tests/host/test_uprintf.c $@-lib.o
