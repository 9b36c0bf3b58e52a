/*
 * swapbench.c - what swap costs, timed from ring 3: a fault that reads a
 * page back from swap, an eviction with and without a write-back, and
 * Clock's scan per frame examined (`make bench`: tests/guest/
 * variant_bench.c runs it under replace=fifo and again under
 * replace=clock, with a user_frames= limit; tests/bench.py reads its
 * lines; tests/swapbench_check.py boots it from a run list and checks its
 * counts). The limit L and the policy come from vmstat (scope=global:
 * any page may be the victim of any fault); the program's
 * anonymous mappings are its only pages in the replacement domain, so
 * which page each fault evicts follows from the policy's rule alone.
 *
 * A sample is one access between two vmstat calls, timed as faultbench's
 * are (user/timing.h: the window less the same access again, which no
 * longer faults). vmstat's swap_read_tsc and swap_write_tsc say how much
 * of the window the disk commands took (the kernel reads the same TSC
 * around each ATA command: the PIO data transfer and its status waits), so
 * the sample's kernel work is its window less those; under QEMU's -icount
 * that work is exact, and only the transfer follows the host (how long
 * QEMU takes to answer the polls). vmstat's counters also say what the
 * fault did, and each figure's kinds line counts the samples that did
 * exactly what the figure is about (a swap-in without an eviction, an
 * eviction with one write, ...); its counts lines are the sums.
 *
 * FIFO, rounds of one fresh mapping of 3L pages (SAMPLES / L rounds):
 *   1. pages 0..L-1 written: demand-zero faults below the limit
 *      (zero_fill, the baseline of the eviction figures);
 *   2. pages L..2L-1 written: each evicts the oldest, a dirty page without
 *      a copy on swap: written back (evict_writeback);
 *   3. pages 0..L-1 read: swap-ins at the limit, each evicting a dirty page
 *      of step 2 (swapin_evict);
 *   4. pages 2L..3L-1 written: each evicts a page of step 3, read back and
 *      not written since: D clear and a valid copy, dropped (evict_clean);
 *   5. pages 2L..3L-1 unmapped (L frames free), pages L..2L-1 read:
 *      swap-ins with a free frame, no eviction (swapin).
 * Clock, one mapping: L pages written, then faults at the limit, each a
 * store to a fresh page, whose victim is always a dirty page (written
 * back). After a full turn (every resident page's Accessed bit set: the
 * program reads them all first) the hand clears all L and takes the page
 * it started at; then every page ahead of it but the newest has A clear,
 * and reading the first k of them makes the next fault pass over exactly
 * k pages with A set before its victim. The faults alternate: k (for each
 * of CLOCK_KS values below L - 1), then a full turn (k = L). The program
 * keeps the circle's order itself (ring[], from the hand on) to know which
 * pages those are; vmstat's a_cleared and scanned count what Clock did.
 *
 * Lines (each within 80 columns):
 *   swapbench: <metric> <instructions>          a median; evict_*: less
 *                                               evict_base_zero_fill_insns
 *   swapbench: clock_scan <k> <instructions>    a fault passing k pages
 *   swapbench: clock_scan_per_frame_insns <slope>   least squares over k
 *   swapbench: kinds <figure> <exact samples> of <samples>
 *   swapbench: counts <figure> <counter>=<sum> ...
 */
#include "timing.h"

#define PAGE 4096UL
#define SAMPLES 64          /* samples a figure holds */
#define FRAMES_MIN 8        /* Clock's k values below L - 1 stay apart */
#define CLOCK_KS 4          /* k values besides L */
#define CLOCK_PER_K ((SAMPLES - 1) / CLOCK_KS)  /* the first full turn too */
#define FIGURES (5 + CLOCK_KS + 1)
#define COLS 80

/* The counters a sample's vmstat difference is checked on. */
enum field {
    FAULTS, SWAP_INS, ZERO_FILLS, READS, WRITES, EVICTIONS, WRITEBACKS, CLEAN_DROPS, CLEARED,
    SCANNED, FIELDS
};
#define VM(f) __builtin_offsetof(struct sys_vmstat, f)
static const struct {
    const char *key;
    unsigned long at;
} field[FIELDS] = {
    [FAULTS] = { "faults", VM(faults) },
    [SWAP_INS] = { "swap_ins", VM(swap_ins) },
    [ZERO_FILLS] = { "zero_fills", VM(zero_fills) },
    [READS] = { "swap_reads", VM(swap_reads) },
    [WRITES] = { "swap_writes", VM(swap_writes) },
    [EVICTIONS] = { "evictions", VM(evictions) },
    [WRITEBACKS] = { "writebacks", VM(writebacks) },
    [CLEAN_DROPS] = { "clean_drops", VM(clean_drops) },
    [CLEARED] = { "a_cleared", VM(a_cleared) },
    [SCANNED] = { "scanned", VM(scanned) },
};

static unsigned long counter(const struct sys_vmstat *v, enum field f)
{
    return *(const unsigned long *)((const char *)v + field[f].at);
}

struct figure {
    char name[24];
    unsigned long want[FIELDS];     /* what each sample's fault must do */
    unsigned long sum[FIELDS];      /* what its samples' faults did */
    unsigned n, exact;              /* samples; those that did just want */
    unsigned long long total[SAMPLES];  /* the window less the baseline */
    unsigned long long xfer[SAMPLES];   /* of it, in the disk commands */
};

static struct figure figures[FIGURES];
static unsigned nfigures;
static unsigned long long scratch[SAMPLES];

/* A figure called name whose samples must each be one fault that did
 * want (FIELDS entries; FAULTS is set here). */
static struct figure *figure(const unsigned long *want, const char *name)
{
    struct figure *fg = &figures[nfigures++];
    snprintf(fg->name, sizeof fg->name, "%s", name);
    for (unsigned i = 0; i < FIELDS; i++)
        fg->want[i] = want[i];
    fg->want[FAULTS] = 1;
    return fg;
}

enum access { LOAD, STORE };

/* One sample into fg: the access at p timed between two vmstat calls
 * (the window less the same access again), and what vmstat counted
 * meanwhile, against fg->want. */
static void take(struct figure *fg, volatile char *p, enum access how)
{
    struct sys_vmstat a, b;
    vmstat(&a);
    unsigned long long t = how == STORE ? time_store(p) : time_load(p);
    unsigned long long base = how == STORE ? time_store(p) : time_load(p);
    vmstat(&b);
    unsigned exact = 1;
    for (unsigned i = 0; i < FIELDS; i++) {
        unsigned long d = counter(&b, i) - counter(&a, i);
        fg->sum[i] += d;
        exact &= d == fg->want[i];
    }
    if (fg->n == SAMPLES) {
        printf("swapbench: %s: more than %u samples\n", fg->name, SAMPLES);
        exit(1);
    }
    fg->total[fg->n] = t > base ? t - base : 0;
    fg->xfer[fg->n] = (b.swap_read_tsc - a.swap_read_tsc) + (b.swap_write_tsc - a.swap_write_tsc);
    fg->exact += exact;
    fg->n++;
}

/* ---- the figures ---- */

/* The median of fg's windows less their disk time: the kernel's work. */
static unsigned long long kernel_work(const struct figure *fg)
{
    for (unsigned i = 0; i < fg->n; i++)
        scratch[i] = fg->total[i] > fg->xfer[i] ? fg->total[i] - fg->xfer[i] : 0;
    return median(scratch, fg->n);
}

static unsigned long long transfer(const struct figure *fg)
{
    for (unsigned i = 0; i < fg->n; i++)
        scratch[i] = fg->xfer[i];
    return median(scratch, fg->n);
}

static unsigned long long total(const struct figure *fg)
{
    for (unsigned i = 0; i < fg->n; i++)
        scratch[i] = fg->total[i];
    return median(scratch, fg->n);
}

static void emit(const char *metric, long long v)
{
    printf("swapbench: %s %lld\n", metric, v);
}

/* Every figure's kinds line and counts lines (wrapped at COLS). */
static void emit_counts(void)
{
    for (unsigned f = 0; f < nfigures; f++) {
        const struct figure *fg = &figures[f];
        printf("swapbench: kinds %s %u of %u\n", fg->name, fg->exact, fg->n);
        char line[COLS + 1];
        int head = snprintf(line, sizeof line, "swapbench: counts %s", fg->name), len = head;
        for (unsigned i = 0; i < FIELDS; i++) {
            char item[32];
            int w = snprintf(item, sizeof item, " %s=%lu", field[i].key, fg->sum[i]);
            if (len + w > COLS) {
                printf("%s\n", line);
                len = head;
            }
            snprintf(line + len, sizeof line - (unsigned)len, "%s", item);
            len += w;
        }
        printf("%s\n", line);
    }
}

/* A fresh private mapping of n pages (nothing mapped until touched). */
static char *fresh(unsigned long n)
{
    char *m = mmap(0, n * PAGE, SYS_PROT_WRITE, 0);
    if (sys_failed(m)) {
        printf("swapbench: mmap of %lu pages: %s\n", n, sys_strerror((long)m));
        exit(1);
    }
    return m;
}

/* FIFO's figures: SAMPLES / L rounds of the five steps above. */
static void fifo(unsigned long L)
{
    static const unsigned long zero_fill[FIELDS] = { [ZERO_FILLS] = 1 };
    static const unsigned long writeback[FIELDS] = {
        [ZERO_FILLS] = 1, [WRITES] = 1, [EVICTIONS] = 1, [WRITEBACKS] = 1, [SCANNED] = 1 };
    static const unsigned long in_evict[FIELDS] = {
        [SWAP_INS] = 1, [READS] = 1, [WRITES] = 1, [EVICTIONS] = 1, [WRITEBACKS] = 1,
        [SCANNED] = 1 };
    static const unsigned long clean[FIELDS] = {
        [ZERO_FILLS] = 1, [EVICTIONS] = 1, [CLEAN_DROPS] = 1, [SCANNED] = 1 };
    static const unsigned long in_free[FIELDS] = { [SWAP_INS] = 1, [READS] = 1 };
    struct figure *zf = figure(zero_fill, "zero_fill");
    struct figure *wb = figure(writeback, "evict_writeback");
    struct figure *ie = figure(in_evict, "swapin_evict");
    struct figure *cl = figure(clean, "evict_clean");
    struct figure *in = figure(in_free, "swapin");
    for (unsigned r = 0; r < SAMPLES / L; r++) {
        char *m = fresh(3 * L);
        for (unsigned long i = 0; i < L; i++)
            take(zf, m + i * PAGE, STORE);
        for (unsigned long i = L; i < 2 * L; i++)
            take(wb, m + i * PAGE, STORE);
        for (unsigned long i = 0; i < L; i++)
            take(ie, m + i * PAGE, LOAD);
        for (unsigned long i = 2 * L; i < 3 * L; i++)
            take(cl, m + i * PAGE, STORE);
        munmap(m + 2 * L * PAGE, L * PAGE);
        for (unsigned long i = L; i < 2 * L; i++)
            take(in, m + i * PAGE, LOAD);
        munmap(m, 3 * L * PAGE);
    }
    long long base = (long long)kernel_work(zf);
    emit("swapin_kernel_insns", (long long)kernel_work(in));
    emit("swapin_transfer_insns", (long long)transfer(in));
    emit("swapin_total_insns", (long long)total(in));
    emit("evict_base_zero_fill_insns", base);
    emit("evict_writeback_insns", (long long)kernel_work(wb) - base);
    emit("evict_writeback_transfer_insns", (long long)transfer(wb));
    emit("evict_clean_insns", (long long)kernel_work(cl) - base);
    emit("swapin_evict_kernel_insns", (long long)kernel_work(ie));
}

/* A store to the fresh page n of m at the limit, into fg: Clock is to
 * take ring[v] (ring: the L resident pages from its hand on), and the
 * circle from the hand becomes ring[v+1..L) ring[0..v) n (the new page
 * joins just behind the hand). */
static void clock_fault(struct figure *fg, char *m, unsigned *ring, unsigned long L,
                        unsigned v, unsigned n)
{
    take(fg, m + n * PAGE, STORE);
    unsigned next[SAMPLES], j = 0;
    for (unsigned i = v + 1; i < L; i++)
        next[j++] = ring[i];
    for (unsigned i = 0; i < v; i++)
        next[j++] = ring[i];
    next[j] = n;
    for (unsigned i = 0; i < L; i++)
        ring[i] = next[i];
}

/* Reads of ring[0..k): their Accessed bits set (a page Clock cleared was
 * invalidated with it, so the read walks and sets A again). */
static void touch(const char *m, const unsigned *ring, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        (void)*(const volatile char *)(m + ring[i] * PAGE);
}

/* Clock's scan: faults passing k = ks[j] pages, each followed by a full
 * turn (k = L); the kernel work of each k, and its slope over k. */
static void clock(unsigned long L)
{
    unsigned long want[FIELDS] = {
        [ZERO_FILLS] = 1, [WRITES] = 1, [EVICTIONS] = 1, [WRITEBACKS] = 1 };
    unsigned ks[CLOCK_KS + 1];
    struct figure *fk[CLOCK_KS + 1];
    for (unsigned j = 0; j <= CLOCK_KS; j++) {
        ks[j] = (unsigned)(j * L / CLOCK_KS);      /* 0, L/4, L/2, 3L/4 and L */
        want[CLEARED] = ks[j];
        want[SCANNED] = ks[j] + 1;
        char name[sizeof figures[0].name];
        snprintf(name, sizeof name, "clock_k%u", ks[j]);
        fk[j] = figure(want, name);
    }
    char *m = fresh(L + 1 + 2 * CLOCK_PER_K * CLOCK_KS);
    unsigned ring[SAMPLES], n = 0;
    for (; n < L; n++) {
        m[n * PAGE] = 1;
        ring[n] = n;
    }
    clock_fault(fk[CLOCK_KS], m, ring, L, 0, n++);  /* all A set: a full turn */
    for (unsigned s = 0; s < CLOCK_PER_K; s++)
        for (unsigned j = 0; j < CLOCK_KS; j++) {
            touch(m, ring, ks[j]);
            clock_fault(fk[j], m, ring, L, ks[j], n++);
            touch(m, ring, (unsigned)L);
            clock_fault(fk[CLOCK_KS], m, ring, L, 0, n++);
        }
    munmap(m, (L + 1 + 2 * CLOCK_PER_K * CLOCK_KS) * PAGE);
    long long sx = 0, sy = 0, sxx = 0, sxy = 0, np = CLOCK_KS + 1;
    for (unsigned j = 0; j <= CLOCK_KS; j++) {
        long long y = (long long)kernel_work(fk[j]);
        printf("swapbench: clock_scan %u %lld\n", ks[j], y);
        sx += ks[j];
        sy += y;
        sxx += (long long)ks[j] * ks[j];
        sxy += (long long)ks[j] * y;
    }
    long long den = np * sxx - sx * sx;
    /* tenths of an instruction, rounded: printf has no %f */
    long long tenths = den ? (20 * (np * sxy - sx * sy) + den) / (2 * den) : 0;
    printf("swapbench: clock_scan_per_frame_insns %lld.%lld\n", tenths / 10, tenths % 10);
}

static int same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The stack's pages the samples will use, touched now: a first touch
 * between a sample's two vmstat calls (vmstat's own buffer) would count
 * as one of its zero-fills. */
__attribute__((noinline)) static void stack_warm(void)
{
    volatile char pad[4 * PAGE];
    for (unsigned long i = 0; i < sizeof pad; i += 64)
        pad[i] = 0;
}

int main(void)
{
    /* the arrays' first touches (data and BSS: outside the domain) and the
     * stack's are not in any sample */
    stack_warm();
    for (unsigned f = 0; f < FIGURES; f++)
        for (unsigned i = 0; i < SAMPLES; i++)
            figures[f].total[i] = figures[f].xfer[i] = 0;
    for (unsigned i = 0; i < SAMPLES; i++)
        scratch[i] = 0;
    struct sys_vmstat v;
    vmstat(&v);
    unsigned long L = v.user_frames;
    printf("swapbench: policy %s, user_frames=%lu\n", v.policy, L);
    if (L < FRAMES_MIN || L > SAMPLES || v.quota || v.resident) {
        printf("swapbench: needs scope=global, user_frames= from %u to %u, no pages yet\n",
               FRAMES_MIN, SAMPLES);
        return 1;
    }
    if (same(v.policy, "fifo")) {
        fifo(L);
    } else if (same(v.policy, "clock")) {
        clock(L);
    } else {
        printf("swapbench: measures under replace=fifo and replace=clock only\n");
        return 1;
    }
    emit_counts();
    printf("swapbench: done\n");
    return 0;
}
