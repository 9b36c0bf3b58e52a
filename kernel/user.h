/*
 * user.h - running code in ring 3 until it stops (kernel/user.c), in the
 * kernel's own address space, with no process: the harness of the ring-3
 * tests and the bench's null system call (processes: kernel/proc/). One
 * ring-3 context at a time, on
 * one kernel stack (USER_KSTACK_SIZE, in the kernel's bss).
 *
 * It stops in one of four ways: SYS_EXIT; a fault (any exception from ring
 * 3: one named line on the console, "user: ..."; the kernel goes on); the
 * timer, after the tick budget given; or a system call whose return
 * address SYSRET cannot take (refused: one named line). A fault in ring 0
 * is not this file's business: it still panics (kernel/trap.c).
 */
#ifndef KERNEL_USER_H
#define KERNEL_USER_H

#include <stdint.h>
#include "syscalls.h"
#include "trap.h"

#define USER_KSTACK_SIZE 16384

enum user_stop {
    USER_STOP_EXIT = 1,      /* SYS_EXIT: status, exit_frame */
    USER_STOP_FAULT,         /* an exception: vector, error_code, cr2, rip */
    USER_STOP_PREEMPTED,     /* the timer took tick_budget ticks from it */
    USER_STOP_REFUSED,       /* SYSRET to a non-canonical or kernel RIP refused */
};

/* Where ring 3 starts: every general register, RIP and RSP (RFLAGS is
 * RFLAGS_CLEAR | RFLAGS_IF: interrupts on, so the timer can preempt). */
struct user_start {
    struct trap_frame regs;     /* vector, error_code, cs, ss, rflags are filled in */
    uint64_t tick_budget;       /* 0: no preemption; else stop after that many ticks */
};

struct user_outcome {
    enum user_stop stop;
    uint64_t status;                    /* EXIT: SYS_EXIT's argument */
    struct syscall_frame exit_frame;    /* EXIT: the registers at SYS_EXIT */
    uint64_t vector, error_code, cr2, rip; /* FAULT (cr2: page faults); REFUSED: rip */
    uint64_t ticks;                     /* timer ticks taken while it ran */
};

/* Sets up the kernel stack for entries from ring 3 (ring_set_kernel_stack)
 * and runs start until it stops; fills *out. The user pages must be
 * mapped already. */
void user_run(const struct user_start *start, struct user_outcome *out);

/* From the dispatcher: SYS_EXIT. Does not return (back into user_run). */
__attribute__((noreturn)) void user_exit(const struct syscall_frame *f);

/* From trap_dispatch, after an IRQ taken in ring 3 was handled: stops the
 * context (does not return) once its tick budget is spent, else returns
 * (and the IRQ's IRETQ goes back to ring 3). */
void user_interrupted(void);

/* From trap_dispatch, for an exception taken in ring 3: prints its named
 * line and stops the context (does not return). */
__attribute__((noreturn)) void user_fault(const struct trap_frame *f);

#endif
