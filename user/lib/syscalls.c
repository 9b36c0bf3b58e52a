/*
 * syscalls.c - one wrapper per system call (include/syscall.h): the
 * number in RAX, arguments in RDI, RSI, RDX, R10, R8, R9, SYSCALL (SDM
 * Vol. 3A 5.8.8), the result in RAX. SYSCALL itself writes RCX (the return
 * RIP) and R11 (RFLAGS): both are clobbered, as is memory (the kernel may
 * write through a pointer argument).
 */
#include "pagelab.h"

static inline long syscall3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The fourth argument goes in R10: SYSCALL takes RCX for the return RIP. */
static inline long syscall4(long n, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

long write(const void *buf, size_t len)
{
    return syscall3(SYS_WRITE, (long)buf, (long)len, 0);
}

void exit(int status)
{
    for (;;)    /* SYS_EXIT does not return; if it ever did, try again */
        syscall3(SYS_EXIT, status, 0, 0);
}

long getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
long yield(void) { return syscall3(SYS_YIELD, 0, 0, 0); }
long fork(void) { return syscall3(SYS_FORK, 0, 0, 0); }
long spawn(const char *module) { return syscall3(SYS_SPAWN, (long)module, 0, 0); }
long exec(const char *module) { return syscall3(SYS_EXEC, (long)module, 0, 0); }
long wait(long pid, int *status) { return syscall3(SYS_WAIT, pid, (long)status, 0); }
void *sbrk(long increment) { return (void *)syscall3(SYS_SBRK, increment, 0, 0); }

void *mmap(void *addr, size_t len, unsigned prot, unsigned flags)
{
    return (void *)syscall4(SYS_MMAP, (long)addr, (long)len, prot, flags);
}

long refs(void *base, const unsigned *pages, unsigned n, volatile unsigned *pos)
{
    return syscall4(SYS_REFS, (long)base, (long)pages, n, (long)pos);
}

void *shm(const char *name, size_t len, unsigned prot)
{
    return (void *)syscall3(SYS_SHM, (long)name, (long)len, prot);
}

long munmap(void *addr, size_t len) { return syscall3(SYS_MUNMAP, (long)addr, (long)len, 0); }

long mprotect(void *addr, size_t len, unsigned prot)
{
    return syscall3(SYS_MPROTECT, (long)addr, (long)len, prot);
}

long translate(const void *va, struct sys_translation *out)
{
    return syscall3(SYS_TRANSLATE, (long)va, (long)out, 0);
}

long vmstat(struct sys_vmstat *out) { return syscall3(SYS_VMSTAT, (long)out, 0, 0); }
long pause(void) { return syscall3(SYS_PAUSE, 0, 0, 0); }
long sleep(unsigned long ticks) { return syscall3(SYS_SLEEP, (long)ticks, 0, 0); }

const char *sys_strerror(long err)
{
    static const char *const names[SYS_ERROR_COUNT] = {
        [SYS_EFAULT] = "EFAULT", [SYS_EINVAL] = "EINVAL", [SYS_ENOSYS] = "ENOSYS",
        [SYS_ENOMEM] = "ENOMEM", [SYS_ENOENT] = "ENOENT", [SYS_ENOEXEC] = "ENOEXEC",
        [SYS_ECHILD] = "ECHILD", [SYS_EAGAIN] = "EAGAIN",
    };
    long e = err < 0 ? -err : err;
    return e > 0 && e < SYS_ERROR_COUNT && names[e] ? names[e] : "E?";
}
