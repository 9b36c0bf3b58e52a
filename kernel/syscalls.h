/*
 * syscalls.h - the kernel's side of include/syscall.h: the register frame
 * kernel/cpu/ring_entry.asm builds at each SYSCALL and the dispatcher it
 * calls (kernel/syscalls.c).
 */
#ifndef KERNEL_SYSCALLS_H
#define KERNEL_SYSCALLS_H

#include <stdint.h>
#include "syscall.h"

/* The user's registers at SYSCALL, in ring_entry.asm's push order (lowest
 * address first). rip and rflags are what SYSCALL put in RCX and R11;
 * RCX and R11 themselves are not kept (the ABI clobbers them). */
struct syscall_frame {
    uint64_t r15, r14, r13, r12, r10, r9, r8, rbp, rdi, rsi, rdx, rbx;
    uint64_t rax;                 /* the number in, the result out */
    uint64_t rip, rflags, rsp;
};
/* ring_entry.asm reads frame->rip at this offset before SYSRET */
_Static_assert(__builtin_offsetof(struct syscall_frame, rip) == 13 * 8, "ring_entry.asm's frame");
_Static_assert(sizeof(struct syscall_frame) % 16 == 0, "the frame keeps RSP 16-byte aligned");

/* What SYS_GETPID returns in the ring-3 harness (kernel/user.c), where no
 * process runs: its one ring-3 context. */
#define SYSCALL_FIXED_PID 1
/* SYS_WRITE writes at most this many bytes per call (more: -SYS_EINVAL). */
#define SYSCALL_WRITE_MAX 0x10000

/*
 * Carries out the system call in frame->rax with the arguments of
 * include/syscall.h, leaves the result (>= 0, or -SYS_E*) in frame->rax and
 * returns; SYS_EXIT does not return (user_exit). Runs on the kernel stack
 * with interrupts off, AC clear. Implemented: SYS_WRITE, SYS_EXIT,
 * SYS_GETPID; every other number gets -SYS_ENOSYS.
 */
void syscall_dispatch(struct syscall_frame *frame);

#endif
