/*
 * syscalls.c - the system calls the kernel has so far (contract in
 * syscalls.h; numbers and errors in include/syscall.h). Every user pointer
 * goes through kernel/uaccess.c: a bad one is an error code, never a
 * kernel fault.
 */
#include <stdint.h>
#include "syscalls.h"
#include "console.h"
#include "uaccess.h"
#include "user.h"
#include "proc.h"
#include "tlb.h"
#include "../common/debug.h"

#define WRITE_CHUNK 256

static int64_t sys_write(uint64_t buf, uint64_t len)
{
    if (len > SYSCALL_WRITE_MAX)
        return -SYS_EINVAL;
    if (!uaccess_ok(buf, len, UACCESS_READ))
        return -SYS_EFAULT;
    char chunk[WRITE_CHUNK];
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < WRITE_CHUNK ? len - done : WRITE_CHUNK;
        uaccess_copy_from(chunk, buf + done, n);   /* checked above, whole range */
        for (uint64_t i = 0; i < n; i++)
            console_putc(chunk[i]);
        done += n;
    }
    return (int64_t)len;
}

/* Debug builds: Bochs stops at the first system call of a process. */
static void syscall_break(const struct proc *p, const struct syscall_frame *f)
{
    PAGELAB_BREAK_ONCE_CALL("system call entry", kprintf,
        "pid %d (%s), RAX = %lu (include/syscall.h): `x /3gx 0x%lx` is the user's RIP 0x%lx,"
        " RFLAGS 0x%lx and RSP 0x%lx as syscall_entry saved them (ring_entry.asm)"
        "\n  look: `sreg`: cs:0x0008 now (ring 0); `creg`: CR3 0x%lx is still pid %d's PML4,"
        " whose upper half is the kernel's"
        "\n  look: `page 0x%lx`: the user code, U; `page rsp`: pid %d's kernel stack, S and XD",
        p->pid, p->name, f->rax, (uint64_t)(uintptr_t)&f->rip, f->rip, f->rflags, f->rsp,
        cpu_read_cr3().pa, p->pid, f->rip, p->pid);
}

void syscall_dispatch(struct syscall_frame *f)
{
    if (PAGELAB_DEBUG_ON && proc_current())
        syscall_break(proc_current(), f);
    if (proc_current() && f->rax != SYS_WRITE) {
        proc_syscall(f);           /* a process: kernel/proc/sys_proc.c */
        proc_syscall_done();
        return;
    }
    if (proc_current() && f->rax == SYS_WRITE) {
        f->rax = (uint64_t)sys_write(f->rdi, f->rsi);
        proc_syscall_done();
        return;
    }
    switch (f->rax) {
    case SYS_GETPID:
        f->rax = SYSCALL_FIXED_PID;
        return;
    case SYS_WRITE:
        f->rax = (uint64_t)sys_write(f->rdi, f->rsi);
        return;
    case SYS_EXIT:
        user_exit(f);
    default:
        f->rax = (uint64_t)-SYS_ENOSYS;
        return;
    }
}
