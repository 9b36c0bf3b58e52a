/*
 * ring.h - crossing between ring 3 and ring 0 (kernel/cpu/ring_entry.asm
 * and ring.c): SYSCALL/SYSRET set up, the kernel stack ring 3 enters on,
 * the first entry into ring 3 and the way back to the kernel code that
 * made it. The policy (what a system call, a user fault or a tick does)
 * is kernel/syscall.c's and kernel/user.c's.
 */
#ifndef KERNEL_CPU_RING_H
#define KERNEL_CPU_RING_H

#include <stdint.h>
#include "trap.h"

/* RFLAGS bits SYSCALL clears (FMASK, SDM Vol. 3A 5.8.8): IF (the kernel
 * runs with interrupts off), DF (the C ABI's direction), TF (no single
 * step into the kernel), AC (ring 3 cannot lend the kernel an open SMAP
 * window), NT and IOPL (as Linux does). */
#define RING_FMASK (RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC | RFLAGS_NT | RFLAGS_IOPL)

/* Once, after gdt_init: EFER.SCE on, STAR (kernel/cpu/gdt.h's bases),
 * LSTAR = syscall_entry, FMASK = RING_FMASK. Interrupts stay off. */
void ring_init(void);

/*
 * The kernel stack (its top, 16-byte aligned) for every entry from ring 3:
 * interrupts and exceptions (TSS.RSP0) and SYSCALL (ring_entry.asm's
 * ring_kernel_rsp). Must be set before the first user_enter; nothing of
 * the stack is kept between entries.
 */
void ring_set_kernel_stack(uint64_t top);

/*
 * Enters ring 3 with every register of *f (rip, rsp, rflags, cs = USER_CS,
 * ss = USER_SS included; vector and error_code ignored), by IRETQ. Returns
 * when kernel code handling an entry from ring 3 calls user_leave(v): v.
 * Not reentrant (one ring-3 context at a time).
 */
uint64_t user_enter(const struct trap_frame *f);

/* Abandons the current entry from ring 3 (its kernel stack) and returns v
 * from user_enter. Ring 0 only; interrupts stay off. */
__attribute__((noreturn)) void user_leave(uint64_t v);

#endif
