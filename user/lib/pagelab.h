/*
 * pagelab.h - the user library: what a program in user/ calls. One
 * wrapper per system call of include/syscall.h (each returns what the
 * kernel returned: >= 0 on success, a negative SYS_E* on failure), a
 * printf to the console, and sys_strerror for the errors. Programs define
 * `int main(void)`; crt0.c's _start calls it and exits with its result.
 */
#ifndef USER_PAGELAB_H
#define USER_PAGELAB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "syscall.h"

int main(void);

/* ---- system calls (user/lib/syscalls.c) ---- */
long write(const void *buf, size_t len);
__attribute__((noreturn)) void exit(int status);
long getpid(void);
long yield(void);
long fork(void);
long spawn(const char *module);
long exec(const char *module);
long wait(long pid, int *status);
void *sbrk(long increment);           /* (void *)-errno cast on failure: see sys_failed */
void *mmap(void *addr, size_t len, unsigned prot, unsigned flags);
/* Maps the named shared segment (made at its first call): the address. */
void *shm(const char *name, size_t len, unsigned prot);
/* Declares the reference string replace=opt uses (SYS_REFS, include/syscall.h). */
long refs(void *base, const unsigned *pages, unsigned n, volatile unsigned *pos);
long munmap(void *addr, size_t len);
long mprotect(void *addr, size_t len, unsigned prot);
long translate(const void *va, struct sys_translation *out);
long vmstat(struct sys_vmstat *out);
/* Blocks until the boot ends (the address space stays for the listing). */
long pause(void);
/* Blocks for that many timer ticks (1 ms each), 1 to SYS_SLEEP_MAX. */
long sleep(unsigned long ticks);

/* A pointer result (sbrk, mmap) that carries a negative SYS_E* instead. */
static inline int sys_failed(const void *p)
{
    return (uintptr_t)p >= (uintptr_t)-(intptr_t)SYS_ERROR_COUNT;
}

/* The name of an error, positive or negated ("EFAULT"; "E?" for others). */
const char *sys_strerror(long err);

/* ---- the console (user/lib/printf.c) ---- */
/* %d %u %x %ld %lu %lx %lld %llu %llx %p %s %c %%, with a width and the 0
 * flag (%08x, %-10s is not supported). Output is buffered per call and
 * written with one SYS_WRITE; returns the bytes written or a negative
 * SYS_E*. */
int printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int vprintf(const char *fmt, va_list ap);
/* printf into buf of size bytes (always NUL-terminated when size > 0);
 * returns the length it would have had. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(__printf__, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t strlen(const char *s);

#endif
