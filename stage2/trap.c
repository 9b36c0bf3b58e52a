/*
 * trap.c - what stage2 says when the CPU raises an exception in its own
 * 32-bit code (stage2/pm_trap.asm): the vector and its name, the error
 * code, where, and CR2 for a page fault (paging is off in stage2, so
 * one would mean a bug in the paging switch itself), then the boot stops
 * with the usual "boot stopped" line. Never returns.
 */
#include <stdint.h>
#include "panic.h"
#include "../common/exceptions.h"

/* What pm_trap_common pushed, lowest address first. */
struct pm_trap_frame {
    uint32_t vector;
    uint32_t error_code;
    uint32_t eip;
    uint32_t cs;
    uint32_t eflags;
};

void stage2_trap(const struct pm_trap_frame *f) __attribute__((noreturn));

void stage2_trap(const struct pm_trap_frame *f)
{
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    const char *name = f->vector < X86_EXCEPTION_VECTORS ? x86_exception_names[f->vector] : "?";
    die("CPU exception 0x%02x (%s, error code 0x%08x) at EIP 0x%08x in stage2, CR2 0x%08x, "
        "EFLAGS 0x%08x: a bug in the loader", f->vector, name, f->error_code, f->eip, cr2,
        f->eflags);
}
