/*
 * faultbench.c - what a page fault, a fork, a munmap and an mprotect cost,
 * timed from ring 3 (`make bench`: tests/guest/variant_bench.c runs it
 * alone after the pingpongs; tests/bench.py reads its lines). Under QEMU's
 * -icount shift=0 the TSC counts retired instructions (RDTSC works in ring
 * 3: CR4.TSD is clear), so each figure is guest instructions.
 *
 * Each window is one asm block (the accesses' in user/timing.h): RDTSC,
 * two MOVs keeping its result, the one access or SYSCALL, then RDTSC
 * again. The same block on a page that no longer faults (the access's
 * second touch), or without the SYSCALL (the system calls), is the
 * baseline taken out of every sample, so a figure is the fault's (or the
 * call's) instructions alone: the exception entry, the kernel's
 * resolution, IRETQ and nothing of the access itself.
 * Each figure is the median over PAGES pages (or RUNS calls); medians keep
 * out the few samples a timer tick lands in.
 *
 * Lines, one figure each:
 *   faultbench: <metric> <instructions>
 *   faultbench: fork_pages <P> <instructions>   (fork with P touched heap pages)
 *   faultbench: kinds <metric> <faults of that kind> of <samples>   (vmstat's count)
 * window_store_insns and window_syscall_insns are the baselines themselves
 * (the empty windows: what each sample had taken out).
 */
#include "timing.h"

#define PAGE 4096UL
#define PAGES 256           /* pages per fault kind: one sample each */
#define RUNS 201            /* munmap, mprotect: calls */
#define FORKS 5             /* forks per heap size */

static const unsigned long fork_sizes[] = { 0, 64, 256, 1024, 4096 };
#define FORK_SIZES (sizeof(fork_sizes) / sizeof(fork_sizes[0]))

static unsigned long long samples[RUNS > PAGES ? RUNS : PAGES];
static unsigned long long base[RUNS > PAGES ? RUNS : PAGES];

/* ---- the windows ---- */

/* SYSCALL n(a, b, c) between two RDTSCs, its result in *ret. RDTSC takes
 * RAX and RDX, so the number and the third argument are loaded inside the
 * window; time_nocall is the same block without the SYSCALL: the
 * baseline. fork's child comes out of the same SYSCALL with *ret 0. */
#define SYSCALL_WINDOW(insn)                                                     \
    unsigned lo0, hi0, lo1, hi1;                                                 \
    long r;                                                                      \
    __asm__ volatile("rdtsc\n\t"                                                 \
                     "mov %%eax, %0\n\t"                                         \
                     "mov %%edx, %1\n\t"                                         \
                     "mov %5, %%rax\n\t"                                         \
                     "mov %6, %%rdx\n\t"                                         \
                     insn                                                        \
                     "mov %%rax, %2\n\t"                                         \
                     "rdtsc"                                                     \
                     : "=&r"(lo0), "=&r"(hi0), "=&r"(r), "=&a"(lo1), "=&d"(hi1)  \
                     : "r"(n), "r"(c), "D"(a), "S"(b)                            \
                     : "rcx", "r11", "memory", "cc");                            \
    *ret = r;                                                                    \
    return TSC_JOIN(lo1, hi1) - TSC_JOIN(lo0, hi0)

static inline unsigned long long time_syscall(long n, long a, long b, long c, long *ret)
{
    SYSCALL_WINDOW("syscall\n\t");
}

static inline unsigned long long time_nocall(long n, long a, long b, long c, long *ret)
{
    SYSCALL_WINDOW("");
}

/* ---- medians and lines ---- */

/* The median of samples less the median of base: the fault's own cost. */
static unsigned long long net(unsigned n)
{
    unsigned long long s = median(samples, n), b = median(base, n);
    return s > b ? s - b : 0;
}

static void emit(const char *metric, unsigned long long v)
{
    printf("faultbench: %s %llu\n", metric, v);
}

static struct sys_vmstat before;

static void kinds_start(void)
{
    vmstat(&before);
}

/* How many faults of the kind the metric is about vmstat saw since
 * kinds_start (the samples arrays' own first touches may add a few). */
static void kinds_end(const char *metric, unsigned long field_offset, unsigned n)
{
    struct sys_vmstat now;
    vmstat(&now);
    unsigned long long a = *(const unsigned long long *)((const char *)&before + field_offset);
    unsigned long long b = *(const unsigned long long *)((const char *)&now + field_offset);
    printf("faultbench: kinds %s %llu of %u\n", metric, b - a, n);
}
#define KIND(field) __builtin_offsetof(struct sys_vmstat, field)

/* PAGES fresh private pages (nothing mapped until touched). */
static char *fresh(void)
{
    char *m = mmap(0, PAGES * PAGE, SYS_PROT_WRITE, 0);
    if (sys_failed(m)) {
        printf("faultbench: mmap of %lu pages: %s\n", (unsigned long)PAGES,
               sys_strerror((long)m));
        exit(1);
    }
    return m;
}

/* ---- the figures ---- */

/* Writes to never-touched pages: a zeroed frame each. */
static char *bench_zero_fill(void)
{
    char *m = fresh();
    kinds_start();
    for (unsigned i = 0; i < PAGES; i++) {
        samples[i] = time_store(m + i * PAGE);
        base[i] = time_store(m + i * PAGE);
    }
    kinds_end("fault_zero_fill_insns", KIND(zero_fills), PAGES);
    emit("fault_zero_fill_insns", net(PAGES));
    emit("window_store_insns", median(base, PAGES));   /* what every store sample lost */
    return m;
}

/* Reads of never-touched pages: the shared zero frame. */
static void bench_zero_page(void)
{
    char *m = fresh();
    kinds_start();
    for (unsigned i = 0; i < PAGES; i++) {
        samples[i] = time_load(m + i * PAGE);
        base[i] = time_load(m + i * PAGE);
    }
    kinds_end("fault_zero_page_insns", KIND(zero_maps), PAGES);
    emit("fault_zero_page_insns", net(PAGES));
    munmap(m, PAGES * PAGE);
}

/* m's PAGES pages are written; a child's first write to each copies it
 * (the parent still maps it); once the child is gone, the parent's first
 * write to each is the last sharer's: no copy. */
static void bench_cow(char *m)
{
    long child = fork();
    if (child < 0) {
        printf("faultbench: fork: %s\n", sys_strerror(child));
        return;
    }
    if (child == 0) {
        kinds_start();
        for (unsigned i = 0; i < PAGES; i++) {
            samples[i] = time_store(m + i * PAGE);
            base[i] = time_store(m + i * PAGE);
        }
        kinds_end("fault_cow_copy_insns", KIND(cow_copies), PAGES);
        emit("fault_cow_copy_insns", net(PAGES));
        exit(0);
    }
    int status;
    wait(child, &status);
    kinds_start();
    for (unsigned i = 0; i < PAGES; i++) {
        samples[i] = time_store(m + i * PAGE);
        base[i] = time_store(m + i * PAGE);
    }
    kinds_end("fault_cow_reuse_insns", KIND(cow_reuses), PAGES);
    emit("fault_cow_reuse_insns", net(PAGES));
}

/* munmap of one touched page at a time, from the start of a touched
 * region up: the rest of the region keeps the page tables alive. */
static void bench_munmap(void)
{
    char *m = fresh();
    for (unsigned i = 0; i < PAGES; i++)
        m[i * PAGE] = 1;
    long r;
    for (unsigned i = 0; i < PAGES && i < RUNS; i++) {
        base[i] = time_nocall(SYS_MUNMAP, (long)(m + i * PAGE), PAGE, 0, &r);
        samples[i] = time_syscall(SYS_MUNMAP, (long)(m + i * PAGE), PAGE, 0, &r);
        if (r) {
            printf("faultbench: munmap: %s\n", sys_strerror(r));
            return;
        }
    }
    emit("munmap_touched_page_insns", net(RUNS < PAGES ? RUNS : PAGES));
    emit("window_syscall_insns", median(base, RUNS < PAGES ? RUNS : PAGES));
    munmap(m, PAGES * PAGE);
}

/* munmap of a one-page mapping, touched: alone in its page table (the
 * mappings before it are gone), so munmap also frees that table. */
static void bench_munmap_lone(void)
{
    long r;
    for (unsigned i = 0; i < RUNS; i++) {
        char *m = mmap(0, PAGE, SYS_PROT_WRITE, 0);
        if (sys_failed(m)) {
            printf("faultbench: mmap of a page: %s\n", sys_strerror((long)m));
            return;
        }
        m[0] = 1;
        base[i] = time_nocall(SYS_MUNMAP, (long)m, PAGE, 0, &r);
        samples[i] = time_syscall(SYS_MUNMAP, (long)m, PAGE, 0, &r);
        if (r) {
            printf("faultbench: munmap: %s\n", sys_strerror(r));
            return;
        }
    }
    emit("munmap_lone_page_insns", net(RUNS));
}

/* mprotect of one touched page, read-only then writable again, RUNS
 * times each (the first call splits the region; later ones find it cut). */
static void bench_mprotect(void)
{
    char *m = fresh();
    m[0] = 1;
    static unsigned long long rw[RUNS];
    long r;
    for (unsigned i = 0; i < RUNS; i++) {
        base[i] = time_nocall(SYS_MPROTECT, (long)m, PAGE, 0, &r);
        samples[i] = time_syscall(SYS_MPROTECT, (long)m, PAGE, 0, &r);
        rw[i] = time_syscall(SYS_MPROTECT, (long)m, PAGE, SYS_PROT_WRITE, &r);
        if (r) {
            printf("faultbench: mprotect: %s\n", sys_strerror(r));
            return;
        }
    }
    unsigned long long b = median(base, RUNS), w = median(rw, RUNS);
    emit("mprotect_page_insns", net(RUNS));
    emit("mprotect_page_rw_insns", w > b ? w - b : 0);
    munmap(m, PAGES * PAGE);
}

/* fork with P touched heap pages (written before each fork, so every one
 * is private and writable when fork finds it), FORKS times per P, each
 * timed in the parent from before its SYSCALL to its return, in a fresh
 * time slice; the child exits at once. Then the least-squares slope over the medians. */
static void bench_fork(void)
{
    char *heap = sbrk(0);
    unsigned long have = 0;
    long long sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (unsigned k = 0; k < FORK_SIZES; k++) {
        unsigned long p = fork_sizes[k];
        if (sys_failed(sbrk((long)((p - have) * PAGE)))) {
            printf("faultbench: sbrk to %lu pages refused\n", p);
            return;
        }
        have = p;
        for (unsigned f = 0; f < FORKS; f++) {
            for (unsigned long i = 0; i < p; i++)
                heap[i * PAGE] = (char)f;
            long pid;
            base[f] = time_nocall(SYS_FORK, 0, 0, 0, &pid);
            /* a fresh time slice (yield alone renews it): a slice ending in
             * the window would run the child's exit inside it */
            yield();
            samples[f] = time_syscall(SYS_FORK, 0, 0, 0, &pid);
            if (pid == 0)
                exit(0);
            if (pid < 0) {
                printf("faultbench: fork with %lu pages: %s\n", p, sys_strerror(pid));
                return;
            }
            int status;
            wait(pid, &status);
        }
        long long y = (long long)net(FORKS);
        printf("faultbench: fork_pages %lu %lld\n", p, y);
        sx += (long long)p;
        sy += y;
        sxx += (long long)(p * p);
        sxy += (long long)p * y;
    }
    long long n = FORK_SIZES, den = n * sxx - sx * sx;
    /* tenths of an instruction, rounded: printf has no %f */
    long long tenths = den ? (20 * (n * sxy - sx * sy) + den) / (2 * den) : 0;
    printf("faultbench: fork_per_page_insns %lld.%lld\n", tenths / 10, tenths % 10);
    sbrk(-(long)(have * PAGE));
}

int main(void)
{
    /* the arrays' first touches (and the stack's) are not in any window */
    for (unsigned i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
        samples[i] = base[i] = 0;
    char *m = bench_zero_fill();
    bench_zero_page();
    bench_cow(m);
    munmap(m, PAGES * PAGE);
    bench_munmap();
    bench_munmap_lone();
    bench_mprotect();
    bench_fork();
    printf("faultbench: done\n");
    return 0;
}
