# tests/fuzz/fuzz.mk - libFuzzer harnesses (clang, AddressSanitizer and
# UBSan) for the E820 sanitiser, the FAT reader, the ELF checks and
# sequences of paging operations against a reference model. Included by
# the top-level Makefile from the repo root.
#
#   make fuzz [FUZZ_SECONDS=60]   each fuzzer for FUZZ_SECONDS, one after the other
#   make test                     each for FUZZ_SMOKE_SECONDS, through the
#                                 HOST_TESTS program build/fuzz/smoke
#
# tests/fuzz/run_fuzz.sh does the running: it first replays every input in
# tests/fuzz/regress/<name>/ (each crash found so far, kept as a
# regression test), then fuzzes from the seeds in tests/fuzz/corpus/<name>/
# (made by tests/fuzz/mkseeds.py); new inputs go to build/fuzz/corpus/,
# crashes to build/fuzz/crashes/<name>/. Warnings are not errors here:
# clang's set differs from gcc's, and the code under test is gcc-checked.

FUZZ_CC := clang
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Wall -Wextra -std=gnu11 -Iinclude
FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZERS := e820 fat elf pt
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZERS))

$(FUZZ_DIR)/fuzz_e820: tests/fuzz/fuzz_e820.c stage2/e820.c stage2/e820.h include/bootinfo.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Istage2 -o $@ tests/fuzz/fuzz_e820.c stage2/e820.c

$(FUZZ_DIR)/fuzz_fat: tests/fuzz/fuzz_fat.c stage2/fat.c stage2/fat.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Istage2 -o $@ tests/fuzz/fuzz_fat.c stage2/fat.c

$(FUZZ_DIR)/fuzz_elf: tests/fuzz/fuzz_elf.c common/elf.c common/elf.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Istage2 -Icommon -o $@ tests/fuzz/fuzz_elf.c common/elf.c

# fuzz_pt decodes its operands arithmetically from the input, so tracing
# comparisons (to steer mutations) buys little and costs 5x in speed. Its
# reference model, tests/host/pt_model.c, is shared with test_pt_model.
FUZZ_PT_SRC := kernel/mm/pt_walk.c kernel/mm/pt_range.c kernel/mm/tlb_policy.c \
               kernel/mm/pt_visit.c kernel/mm/pt_dump.c kernel/mm/phys_window.c kernel/mm/pt_space.c \
               kernel/mm/pt_clone.c kernel/mm/pt_swap.c \
               kernel/mm/pmm.c kernel/mm/strategy_offset.c kernel/mm/spaces_plain.c tests/host/fake_cpu.c \
               tests/host/pt_model.c
$(FUZZ_DIR)/fuzz_pt: tests/fuzz/fuzz_pt.c $(FUZZ_PT_SRC) kernel/mm/pt.h kernel/mm/pt_internal.h \
                     kernel/mm/phys_window.h kernel/mm/pmm.h kernel/mm/strategy.h \
                     tests/host/fake_cpu.h tests/host/pt_model.h include/pte.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fno-sanitize-coverage=trace-cmp -Ikernel -Ikernel/mm -Itests/host \
	    -DFAKE_STRATEGY=STRATEGY_OFFSET -o $@ tests/fuzz/fuzz_pt.c $(FUZZ_PT_SRC)

# Seeds that are compiled, not written: the host-built sample executables
# (tests/host/loader.mk), stripped. They are build outputs, so they live in
# build/fuzz/seeds/ and run_fuzz.sh adds that directory to the committed
# seeds of tests/fuzz/corpus/.
FUZZ_BUILT_SEEDS := $(patsubst $(LOADER_TEST_DIR)/%,$(FUZZ_DIR)/seeds/elf/%,$(LOADER_ELF_SAMPLES))
$(FUZZ_DIR)/seeds/elf/%: $(LOADER_TEST_DIR)/%
	@mkdir -p $(@D)
	strip -o $@ $<

# The HOST_TESTS entry: a two-line script, so that run_tests.py can run it
# like the other host test programs (it prints PASS/FAIL lines).
$(FUZZ_DIR)/smoke: tests/fuzz/fuzz.mk $(FUZZ_BINS) $(FUZZ_BUILT_SEEDS)
	@printf '#!/bin/sh\nexec tests/fuzz/run_fuzz.sh %s %s\n' '$(FUZZ_SMOKE_SECONDS)' \
	    '$(FUZZ_BINS)' > $@
	@chmod +x $@
HOST_TESTS += $(FUZZ_DIR)/smoke

.PHONY: fuzz
fuzz: deps-fuzz $(FUZZ_BINS) $(FUZZ_BUILT_SEEDS)
	@tests/fuzz/run_fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)
