/*
 * vmtest.c - the system calls that edit or show an address space, each
 * tried at its limits from user space: sbrk up and down, mmap / mprotect /
 * munmap (and what they refuse), translate and vmstat before and after,
 * spawn + wait, fork + exec + wait, exec and spawn of a module that does
 * not exist, wait without children, bad pointers. One line per check,
 * "vmtest: <check>: ok" or "vmtest: <check>: FAIL (...)", asserted by name
 * in tests/proc_checks.py.
 */
#include "pagelab.h"

#define PAGE 4096UL

static int failures;

static void check(int ok, const char *what, long detail)
{
    if (ok)
        printf("vmtest: %s: ok\n", what);
    else
        printf("vmtest: %s: FAIL (%ld)\n", what, detail);
    failures += !ok;
}

static long frames(void)
{
    struct sys_vmstat v;
    return vmstat(&v) < 0 ? -1 : (long)v.frames;
}

static void test_sbrk(void)
{
    char *start = sbrk(0);
    char *old = sbrk(2 * PAGE);
    check(old == start && !sys_failed(old), "sbrk(2 pages) returns the old break", (long)old);
    old[0] = 1;
    old[2 * PAGE - 1] = 2;                       /* both pages are there, writable */
    check(sbrk(0) == start + 2 * PAGE, "the break moved by exactly 2 pages", (long)sbrk(0));
    long f = frames();
    sbrk(-(long)PAGE);
    check(frames() == f - 1, "sbrk(-1 page) gives the frame back", frames() - f);
    check(sys_failed(sbrk(-(long)(8 * PAGE))), "sbrk below the image is refused", 0);
    check(sys_failed(sbrk(1L << 40)), "sbrk past the heap's room is refused", 0);
}

static void test_mmap(void)
{
    long f = frames();
    char *m = mmap(0, 3 * PAGE, SYS_PROT_WRITE, 0);
    check(!sys_failed(m), "mmap 3 pages", (long)m);
    if (sys_failed(m))
        return;
    m[0] = 'a';
    m[3 * PAGE - 1] = 'z';
    struct sys_translation t;
    /* demand paging: only the two pages touched have frames */
    check(frames() == f + 2 && translate(m + PAGE, &t) < 0,
          "vmstat counts 2 more frames: the untouched middle page has none", frames() - f);
    check(translate(m, &t) == 0 && (t.prot & SYS_PROT_WRITE) && !(t.prot & SYS_PROT_EXEC) &&
              (t.prot & SYS_TR_USER) && t.size == PAGE && t.level == 1,
          "translate: an mmap page is user, writable, not executable, 4 KiB at level 1",
          (long)t.prot);
    check(mprotect(m, PAGE, 0) == 0 && translate(m, &t) == 0 && !(t.prot & SYS_PROT_WRITE),
          "mprotect to read-only: translate agrees", (long)t.prot);
    check(m[0] == 'a', "the read-only page still reads its byte", m[0]);
    check(munmap(m, 3 * PAGE) == 0 && translate(m, &t) < 0 && translate(m + 2 * PAGE, &t) < 0,
          "munmap: translate says unmapped", 0);
    check(frames() == f, "vmstat: the 2 frames are back", frames() - f);
    check(sys_failed(mmap(0, PAGE, SYS_PROT_WRITE | SYS_PROT_EXEC, 0)),
          "mmap writable and executable is refused (W^X)", 0);
    check(sys_failed(mmap(0, 0, SYS_PROT_WRITE, 0)), "mmap of 0 bytes is refused", 0);
    check(sys_failed(mmap((void *)(0x100000000000UL + 1), PAGE, 0, 0)),
          "mmap at a misaligned address is refused", 0);
    check(sys_failed(mmap((void *)0xFFFFFFFF80000000UL, PAGE, 0, 0)),
          "mmap in the kernel's half is refused", 0);
    check(munmap((void *)0xFFFFFFFF80200000UL, PAGE) < 0, "munmap of kernel code is refused", 0);
}

static void test_pointers(void)
{
    struct sys_translation t;
    check(translate((void *)0xFFFFFFFF80200000UL, &t) == -SYS_EFAULT,
          "translate of a kernel address: EFAULT", 0);
    check(translate(&t, (struct sys_translation *)0xFFFFFFFF80200000UL) == -SYS_EFAULT,
          "translate into a kernel buffer: EFAULT", 0);
    check(write((void *)0xFFFFFFFF80200000UL, 8) == -SYS_EFAULT, "write of kernel bytes: EFAULT",
          0);
    check(vmstat((struct sys_vmstat *)8) == -SYS_EFAULT, "vmstat into page 0: EFAULT", 0);
    check(spawn((const char *)0xFFFFFFFF80200000UL) == -SYS_EFAULT,
          "spawn with a kernel pointer: EFAULT", 0);
}

static void test_processes(void)
{
    int status = -1;
    long pid = spawn("hello");
    check(pid > 0 && wait(pid, &status) == pid && status == 0,
          "spawn hello, wait: its pid, status 0", pid);
    check(spawn("no-such-program") == -SYS_ENOENT, "spawn of a missing module: ENOENT", 0);
    check(exec("no-such-program") == -SYS_ENOENT, "exec of a missing module: ENOENT, still here",
          0);
    long child = fork();
    if (child == 0) {
        exec("hello");
        exit(99);                                /* exec failed */
    }
    status = -1;
    check(child > 0 && wait(child, &status) == child && status == 0,
          "fork, exec hello in the child, wait: status 0", status);
    check(wait(-1, &status) == -SYS_ECHILD, "wait without children: ECHILD", 0);
}

/* ticks since boot (vmstat's), 0 when vmstat fails */
static uint64_t ticks(void)
{
    struct sys_vmstat v;
    return vmstat(&v) == 0 ? v.ticks : 0;
}

/* sleep(n) returns 0 after at least n ticks (more when others run) */
static void slept(unsigned long n, const char *what)
{
    uint64_t t0 = ticks();
    long r = sleep(n);
    uint64_t t1 = ticks();
    check(r == 0 && t1 - t0 >= n, what, r ? r : (long)(t1 - t0));
}

/* sleep's limits: 1 to SYS_SLEEP_MAX ticks, at, below and above each */
static void test_sleep(void)
{
    check(sleep(0) == -SYS_EINVAL, "sleep(0) is refused: EINVAL", 0);
    slept(1, "sleep(1) returns after at least 1 tick");
    slept(2, "sleep(2) returns after at least 2 ticks");
    slept(SYS_SLEEP_MAX - 1, "sleep(SYS_SLEEP_MAX - 1) returns after as many ticks");
    slept(SYS_SLEEP_MAX, "sleep(SYS_SLEEP_MAX) returns after as many ticks");
    check(sleep(SYS_SLEEP_MAX + 1) == -SYS_EINVAL, "sleep(SYS_SLEEP_MAX + 1) is refused: EINVAL",
          0);
    check(sleep(-1UL) == -SYS_EINVAL, "sleep(2^64 - 1) is refused: EINVAL", 0);
}

int main(void)
{
    test_sbrk();
    test_mmap();
    test_pointers();
    test_processes();
    test_sleep();
    printf("vmtest: %d failed\n", failures);
    return failures;
}
