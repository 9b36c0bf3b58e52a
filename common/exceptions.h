/*
 * exceptions.h - the names of the 32 exception vectors (Intel SDM Vol. 3A
 * 6.15, table 6-1), for the fault reports of stage2 (stage2/trap.c) and the
 * kernel (kernel/trap.c).
 */
#ifndef PAGELAB_EXCEPTIONS_H
#define PAGELAB_EXCEPTIONS_H

#include "x86.h"

static const char *const x86_exception_names[X86_EXCEPTION_VECTORS] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "BOUND range exceeded",
    "invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
    "invalid TSS", "segment not present", "stack-segment fault", "general protection",
    "page fault", "reserved 15", "x87 floating-point error", "alignment check",
    "machine check", "SIMD floating-point", "virtualization", "control protection",
    "reserved 22", "reserved 23", "reserved 24", "reserved 25", "reserved 26", "reserved 27",
    "hypervisor injection", "VMM communication", "security", "reserved 31",
};

#endif
