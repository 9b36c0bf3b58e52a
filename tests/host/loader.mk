# tests/host/loader.mk - host unit tests of the stage2 libraries (E820
# sanitiser, FAT reader, ELF checks). Included by the top-level Makefile
# from the repo root; adds its programs to HOST_TESTS, which `make test`
# runs from the repo root. Defines no test/all/clean targets.
#
# The libraries are compiled here with the host compiler against the real
# libc and with sanitizers; stage2 compiles the same sources freestanding.

HOST_CC ?= cc
HOST_CFLAGS ?= -g -O1 -fsanitize=address,undefined -Wall -Wextra -Werror \
               -std=gnu11 -Iinclude -Istage2
LOADER_TEST_DIR := build/host

LOADER_TEST_E820 := $(LOADER_TEST_DIR)/test_e820

HOST_TESTS += $(LOADER_TEST_E820)

$(LOADER_TEST_E820): tests/host/test_e820.c tests/host/check.h \
                     stage2/e820.c stage2/e820.h stage2/lib.h \
                     include/bootinfo.h include/layout.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ tests/host/test_e820.c stage2/e820.c
