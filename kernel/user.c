/*
 * user.c - the ring-3 harness (contract in user.h).
 */
#include <stdint.h>
#include "user.h"
#include "console.h"
#include "cpu.h"
#include "gdt.h"
#include "ring.h"
#include "timer.h"
#include "x86.h"
#include "../common/exceptions.h"

static uint8_t kstack[USER_KSTACK_SIZE] __attribute__((aligned(16)));
static struct user_outcome *outcome;
static uint64_t budget, ticks_at_start;

void user_run(const struct user_start *start, struct user_outcome *out)
{
    struct trap_frame f = start->regs;
    f.cs = USER_CS;
    f.ss = USER_SS;
    f.rflags = RFLAGS_CLEAR | RFLAGS_IF;
    *out = (struct user_outcome){ 0 };
    outcome = out;
    budget = start->tick_budget;
    ticks_at_start = timer_ticks();
    ring_set_kernel_stack((uint64_t)(uintptr_t)(kstack + sizeof(kstack)));
    out->stop = (enum user_stop)user_enter(&f);
    out->ticks = timer_ticks() - ticks_at_start;
    outcome = 0;
}

void user_exit(const struct syscall_frame *f)
{
    outcome->status = f->rdi;
    outcome->exit_frame = *f;
    user_leave(USER_STOP_EXIT);
}

/* Called by ring_entry.asm instead of a SYSRET that would fault in ring 0
 * (a RIP at or above USER_END: non-canonical, or the kernel's). */
__attribute__((noreturn)) void ring_refuse_sysret(const struct syscall_frame *f);
void ring_refuse_sysret(const struct syscall_frame *f)
{
    kprintf("user: system call returning to non-canonical or kernel RIP 0x%016lx refused"
            " (SYSRET would fault in ring 0, SDM Vol. 2B SYSRET); back to the kernel\n", f->rip);
    outcome->rip = f->rip;
    user_leave(USER_STOP_REFUSED);
}

/* One named line: what ring 3 did that the CPU refused (SDM Vol. 3A 4.7
 * for a page fault's error code). */
static void report_fault(const struct trap_frame *f, uint64_t cr2)
{
    if (f->vector == X86_VECTOR_PF) {
        char why[96];
        pf_decode(f->error_code, why, sizeof(why));
        kprintf("user: page fault at 0x%016lx: %s (error code 0x%lx), RIP 0x%016lx;"
                " back to the kernel\n", cr2, why, f->error_code, f->rip);
        return;
    }
    kprintf("user: fault %lu (%s), error code 0x%lx, RIP 0x%016lx; back to the kernel\n",
            f->vector, x86_exception_names[f->vector], f->error_code, f->rip);
}

void user_interrupted(void)
{
    if (budget && timer_ticks() - ticks_at_start >= budget)
        user_leave(USER_STOP_PREEMPTED);
}

void user_fault(const struct trap_frame *f)
{
    uint64_t cr2 = f->vector == X86_VECTOR_PF ? read_cr2() : 0;
    report_fault(f, cr2);
    outcome->vector = f->vector;
    outcome->error_code = f->error_code;
    outcome->cr2 = cr2;
    outcome->rip = f->rip;
    user_leave(USER_STOP_FAULT);
}
