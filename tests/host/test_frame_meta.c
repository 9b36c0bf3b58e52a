/*
 * test_frame_meta.c - host tests of the per-frame records
 * (kernel/mm/frame_meta.c) with the strategy the test is built with
 * (tests/host/paging.mk), over fake_cpu.c's simulated machine: a record
 * page is mapped exactly when frame_new first hands out a frame it
 * describes, and costs exactly one frame plus, for the first, the tables
 * of slot 324 from the strategy's zone; counts go up and down exactly, the
 * frame is free exactly at its last reference; overflow, underflow and a
 * reference to a frame never handed out are named panics; exhaustion
 * (of the frame, of the record page's frame, of a table) leaves every
 * count as it was; record pages far apart are all found; and every space,
 * older or newer than the record pages, sees them.
 *
 * Panics are caught in a child process: fake_cpu.c's kpanic prints
 * "PANIC: <message>" on stderr and aborts, and panics() checks both.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"
#include "fake_cpu.h"
#include "frame_meta.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"

#define FEATURES ((1u << CPU_NX) | (1u << CPU_PAGE1GB))
#define FRAMES (FAKE_ARENA_SIZE / PAGE_SIZE)
#define PER_PAGE FRAME_META_PER_PAGE
/* The first record page needs a PDPT, a PD and a PT under PML4 slot 324
 * (one PT covers 512 record pages, 512 MiB of frames: the whole arena). */
#define SLOT_TABLES 3
#define PML4_SLOT_OF_META PT_INDEX(FRAME_META_BASE, 4)

_Static_assert(PER_PAGE == PAGE_SIZE / FRAME_META_SIZE, "whole records per page");

static void boot(void)
{
    fake_boot(FEATURES);
    frame_meta_init(fake_bi.max_phys);
}

static uint64_t free_of(enum pmm_zone z)
{
    struct pmm_counters c;
    pmm_get_counters(z, &c);
    return c.free;
}

/* Tables of slot 324 the first record page takes from the general zone:
 * none in identity and table-offset, whose tables are pool frames. */
static uint64_t general_tables(void)
{
    return strategy_table_zone() == PMM_ZONE_GENERAL ? SLOT_TABLES : 0;
}

static uint64_t page_of(paddr_t f) { return f.pa / PAGE_SIZE / PER_PAGE; }

static struct frame_meta *record(paddr_t f)
{
    return cpu_ptr(vaddr(FRAME_META_BASE + f.pa / PAGE_SIZE * sizeof(struct frame_meta)));
}

static bool record_page_mapped(uint64_t page)
{
    struct pt_translation t;
    return pt_translate(vaddr(FRAME_META_BASE + page * PAGE_SIZE), &t) == PT_OK;
}

/* Is the kernel PML4's slot 324 present (a PDPT of the records linked)? */
static bool slot_present(void)
{
    return ((pte_t *)fake_phys(pt_kernel_space.root.pa))[PML4_SLOT_OF_META] & PTE_P;
}

static struct frame_meta_census census(void)
{
    struct frame_meta_census c;
    frame_meta_census(&c);
    return c;
}

static bool census_is(uint64_t live, uint64_t refs, uint64_t pages)
{
    struct frame_meta_census c = census();
    return CHECK(c.live == live && c.refs == refs && c.pages == pages,
                 "census live %llu refs %llu pages %llu, want %llu %llu %llu",
                 (unsigned long long)c.live, (unsigned long long)c.refs,
                 (unsigned long long)c.pages, (unsigned long long)live,
                 (unsigned long long)refs, (unsigned long long)pages);
}

static paddr_t new_frame(void)
{
    paddr_t f = paddr(0);
    CHECK(frame_new(&f), "frame_new failed");
    return f;
}

/* ---- panics, caught in a child ---- */

/* fn(frame) in a child process: true if it died by kpanic (SIGABRT)
 * with exactly `want` as its message. */
static bool panics(void (*fn)(paddr_t), paddr_t frame, const char *want)
{
    int fds[2];
    if (!CHECK(pipe(fds) == 0, "pipe"))
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        fn(frame);
        _exit(0);
    }
    close(fds[1]);
    char buf[1024];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) - 1 && (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    char line[512];
    snprintf(line, sizeof(line), "PANIC: %s\n", want);
    return CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strcmp(buf, line) == 0,
                 "want the panic \"%s\", got status 0x%x, stderr \"%s\"", want, status, buf);
}

static void do_ref(paddr_t f) { frame_ref(f); }
static void do_unref(paddr_t f) { frame_unref(f); }

static const char *msg(const char *fmt, paddr_t f)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), fmt, (unsigned long)f.pa);
    return buf;
}

#define NO_REF_MSG "frame_meta: frame_ref: reference to a frame with no reference: frame 0x%lx"
#define OVERFLOW_MSG "frame_meta: reference count overflow: frame 0x%lx"
#define UNDERFLOW_MSG "frame_meta: reference count underflow: frame 0x%lx"

/* ---- the record pages ---- */

static void test_init_writes_nothing_and_maps_nothing(void)
{
    boot();
    uint64_t free_before = free_of(PMM_ZONE_GENERAL);
    struct pt_stats before, after;
    pt_stats_get(&before);
    frame_meta_init(fake_bi.max_phys);
    pt_stats_get(&after);
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), free_before);
    CHECK(memcmp(&before, &after, sizeof(before)) == 0, "frame_meta_init called the paging core");
    CHECK(!slot_present(), "PML4 slot 324 is present");
    census_is(0, 0, 0);
}

static void test_the_first_frame_maps_exactly_one_record_page_with_its_tables(void)
{
    boot();
    /* the frames frame_new will take hold garbage (the lowest free ones,
     * in order): the record page must be zeroed, not found zero */
    paddr_t dirty[2 + SLOT_TABLES];
    for (unsigned i = 0; i < 2 + SLOT_TABLES; i++) {
        CHECK_EQ(pmm_alloc(PMM_ZONE_GENERAL, &dirty[i]), PMM_OK);
        memset(fake_phys(dirty[i].pa), 0xA5, PAGE_SIZE);
    }
    for (unsigned i = 2 + SLOT_TABLES; i-- > 0;)
        CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, dirty[i]), PMM_OK);
    uint64_t gen = free_of(PMM_ZONE_GENERAL), pool = free_of(PMM_ZONE_TABLE_POOL);
    paddr_t f = new_frame();
    CHECK_EQ(f.pa, dirty[0].pa);
    CHECK_EQ(frame_refs(f), 1);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f), PMM_FRAME_USED);
    census_is(1, 1, 1);
    /* the frame, its record page, and the slot's tables from their zone */
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen - 2 - general_tables());
    CHECK_EQ(free_of(PMM_ZONE_TABLE_POOL), pool - (SLOT_TABLES - general_tables()));
    CHECK(record_page_mapped(page_of(f)), "record page %llu not mapped",
          (unsigned long long)page_of(f));
    CHECK(!record_page_mapped(page_of(f) - 1) && !record_page_mapped(page_of(f) + 1),
          "a neighbouring record page is mapped");
    CHECK_EQ(pt_table_used(1, vaddr(FRAME_META_BASE)), 1);
    /* kernel data: writable, not user, not executable, not global */
    struct pt_translation t;
    CHECK_EQ(pt_translate(vaddr(FRAME_META_BASE + page_of(f) * PAGE_SIZE), &t), PT_OK);
    CHECK_EQ(pt_tr_prot(&t), PT_PROT_WRITE);
    /* zeroed: every other record of the page reads 0 */
    struct frame_meta *m = cpu_ptr(vaddr(FRAME_META_BASE + page_of(f) * PAGE_SIZE));
    unsigned nonzero = 0;
    for (unsigned i = 0; i < PER_PAGE; i++)
        nonzero += (m[i].refs || m[i].flags || m[i].va || m[i].slot) && &m[i] != record(f);
    CHECK_EQ(nonzero, 0);
    CHECK(record(f)->flags == 0 && record(f)->va == 0 && record(f)->slot == 0 &&
              record(f)->owner == 0 && record(f)->next == 0,
          "flags 0x%x va 0x%llx slot %u owner %u next %u", record(f)->flags,
          (unsigned long long)record(f)->va, record(f)->slot, record(f)->owner, record(f)->next);
}

/* Every frame of the first record page's PER_PAGE that was free goes to
 * frame_new (or to the record page and its tables) without another page;
 * the first frame beyond them maps exactly one more, and no table. */
static void test_frames_of_one_record_page_map_no_more_and_the_next_page_exactly_one(void)
{
    boot();
    paddr_t f0 = new_frame();
    uint64_t p0 = page_of(f0);
    /* free frames of p0 before the first frame_new: f0, the record page,
     * the tables, and those still free now */
    uint64_t free_in_p0 = 0;
    for (uint64_t i = 0; i < PER_PAGE; i++)
        free_in_p0 += pmm_frame_state(PMM_ZONE_GENERAL, paddr((p0 * PER_PAGE + i) * PAGE_SIZE)) ==
                      PMM_FRAME_FREE;
    free_in_p0 += 2 + general_tables();
    uint64_t handed = 1;
    paddr_t f;
    for (;;) {
        uint64_t gen = free_of(PMM_ZONE_GENERAL);
        f = new_frame();
        if (page_of(f) != p0) {
            CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen - 2);  /* the frame and its record page */
            break;
        }
        CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen - 1);
        handed++;
        if (!census_is(handed, handed, 1))
            return;
    }
    CHECK_EQ(handed, free_in_p0 - 1 - general_tables());
    census_is(handed + 1, handed + 1, 2);
    CHECK_EQ(frame_refs(f), 1);
    CHECK_EQ(pt_table_used(1, vaddr(FRAME_META_BASE)), 2);
}

static void test_ref_and_unref_count_exactly_and_free_at_the_last(void)
{
    boot();
    paddr_t a = new_frame(), b = new_frame();
    uint64_t gen = free_of(PMM_ZONE_GENERAL);
    frame_ref(a);
    frame_ref(a);
    frame_ref(a);
    CHECK_EQ(frame_refs(a), 4);
    CHECK_EQ(frame_refs(b), 1);
    census_is(2, 5, 1);
    for (unsigned left = 3; left >= 1; left--) {
        CHECK(!frame_unref(a), "unref to %u said last", left);
        CHECK_EQ(frame_refs(a), left);
        CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, a), PMM_FRAME_USED);
        CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen);
    }
    CHECK(frame_unref(a), "the last unref did not say so");
    CHECK_EQ(frame_refs(a), 0);
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, a), PMM_FRAME_FREE);
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen + 1);
    census_is(1, 1, 1);
    /* handed out again: the lowest free frame, one reference, no new page */
    paddr_t again = new_frame();
    CHECK_EQ(again.pa, a.pa);
    CHECK_EQ(frame_refs(again), 1);
    census_is(2, 2, 1);
}

/* After every reference is gone the allocator has every frame back but
 * the record pages and the slot's tables: they are kept for good. */
static void test_after_the_last_unref_only_the_record_pages_stay(void)
{
    boot();
    uint64_t gen = free_of(PMM_ZONE_GENERAL), pool = free_of(PMM_ZONE_TABLE_POOL);
    enum { N = 600 };  /* more than two record pages' worth */
    static paddr_t f[N];
    for (unsigned i = 0; i < N; i++) {
        f[i] = new_frame();
        for (unsigned r = 0; r < i % 3; r++)
            frame_ref(f[i]);
    }
    struct frame_meta_census c = census();
    CHECK_EQ(c.live, N);
    CHECK_EQ(c.refs, N + (N / 3) * (0 + 1 + 2));
    for (unsigned i = 0; i < N; i++) {
        for (unsigned r = 0; r < i % 3; r++)
            CHECK(!frame_unref(f[i]), "frame %u: early last", i);
        CHECK(frame_unref(f[i]), "frame %u: not last", i);
    }
    struct frame_meta_census end = census();
    CHECK_EQ(end.live, 0);
    CHECK_EQ(end.refs, 0);
    CHECK_EQ(end.pages, c.pages);
    CHECK(c.pages >= 3, "%llu record pages for %u frames", (unsigned long long)c.pages, N);
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen - c.pages - general_tables());
    CHECK_EQ(free_of(PMM_ZONE_TABLE_POOL), pool - (SLOT_TABLES - general_tables()));
    CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
}

/* ---- the limits of a count ---- */

static void test_ref_reaches_the_maximum_and_one_more_panics(void)
{
    boot();
    paddr_t f = new_frame();
    record(f)->refs = FRAME_REFS_MAX - 2;     /* below: two more fit */
    frame_ref(f);
    CHECK_EQ(frame_refs(f), FRAME_REFS_MAX - 1);
    frame_ref(f);                             /* just below: reaches the maximum */
    CHECK_EQ(frame_refs(f), FRAME_REFS_MAX);
    census_is(1, FRAME_REFS_MAX, 1);
    panics(do_ref, f, msg(OVERFLOW_MSG, f));  /* at the maximum: one more */
    CHECK_EQ(frame_refs(f), FRAME_REFS_MAX);  /* the parent's count is untouched */
    CHECK(!frame_unref(f), "unref from the maximum said last");
    CHECK_EQ(frame_refs(f), FRAME_REFS_MAX - 1);
}

static void test_unref_below_zero_panics(void)
{
    boot();
    paddr_t f = new_frame();
    frame_ref(f);
    CHECK(!frame_unref(f), "2 -> 1 said last");
    CHECK(frame_unref(f), "1 -> 0 did not say last");
    panics(do_unref, f, msg(UNDERFLOW_MSG, f));   /* 0 -> -1 */
    CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, f), PMM_FRAME_FREE);
}

/* The allocator refusing the last unref's free is a panic naming both:
 * here the frame was freed behind frame_meta's back (a double free). */
static void test_a_refused_free_at_the_last_unref_panics(void)
{
    boot();
    paddr_t f = new_frame();
    CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, f), PMM_OK);
    char want[256];
    snprintf(want, sizeof(want), "frame_meta: frame 0x%lx: pmm_free: %s", (unsigned long)f.pa,
             pmm_status_name(PMM_ERR_DOUBLE_FREE));
    panics(do_unref, f, want);
}

/* A frame with no reference: freed, never handed out in a mapped record
 * page, in a page not mapped, beyond the array. Each ref and unref is a
 * named panic; frame_refs reads 0 and maps nothing. */
static void test_a_frame_with_no_reference_panics_and_reads_zero(void)
{
    boot();
    paddr_t f = new_frame(), freed = new_frame();
    CHECK(frame_unref(freed), "not last");
    paddr_t never = paddr(f.pa + 8 * PAGE_SIZE);          /* same record page, never handed out */
    paddr_t unmapped = paddr(FAKE_ARENA_SIZE - PAGE_SIZE); /* its record page is not mapped */
    paddr_t beyond = paddr(FAKE_ARENA_SIZE);              /* the first frame past max_phys */
    CHECK_EQ(page_of(never), page_of(f));
    CHECK(!record_page_mapped(page_of(unmapped)), "the last page's records are mapped");
    const paddr_t none[] = { freed, never, unmapped, beyond };
    struct pt_stats before, after;
    for (unsigned i = 0; i < 4; i++) {
        pt_stats_get(&before);
        CHECK_EQ(frame_refs(none[i]), 0);
        pt_stats_get(&after);
        CHECK(before.op[PT_OP_MAP].calls == after.op[PT_OP_MAP].calls, "frame_refs mapped");
        panics(do_ref, none[i], msg(NO_REF_MSG, none[i]));
        panics(do_unref, none[i], msg(UNDERFLOW_MSG, none[i]));
    }
    /* an address inside a frame is not a frame's: the caller's bug, named */
    paddr_t inside = paddr(f.pa + 8);
    panics(do_ref, inside, msg("frame_meta: frame_ref: 0x%lx is not a frame address", inside));
    panics(do_unref, inside, msg("frame_meta: frame_unref: 0x%lx is not a frame address", inside));
    census_is(1, 1, 1);
}

/* ---- exhaustion ---- */

/* Takes every free general frame, then gives back the `left` highest
 * (their record page is the arena's last, not mapped). */
static paddr_t taken[FRAMES];
static uint64_t taken_n;

static void leave_highest(uint64_t left)
{
    taken_n = 0;
    paddr_t f;
    while (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK)
        taken[taken_n++] = f;
    for (uint64_t i = 0; i < left; i++)
        CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, taken[--taken_n]), PMM_OK);
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), left);
}

/* The first record page costs 2 + general_tables() frames: for every
 * number of frames left from 0 to one above that, frame_new succeeds
 * exactly when they suffice, and a failure leaves every frame free,
 * nothing mapped and no table behind. */
static void test_exhaustion_with_the_record_page_unmapped_at_below_and_above(void)
{
    uint64_t need = 2 + general_tables();
    for (uint64_t left = 0; left <= need + 1; left++) {
        boot();
        leave_highest(left);
        uint64_t pool = free_of(PMM_ZONE_TABLE_POOL);
        paddr_t f = paddr(0x5A5A000);
        bool ok = frame_new(&f);
        if (left >= need) {
            CHECK(ok, "%llu frames left (need %llu): refused", (unsigned long long)left,
                  (unsigned long long)need);
            CHECK_EQ(free_of(PMM_ZONE_GENERAL), left - need);
            CHECK_EQ(frame_refs(f), 1);
            census_is(1, 1, 1);
        } else {
            CHECK(!ok, "%llu frames left (need %llu): accepted", (unsigned long long)left,
                  (unsigned long long)need);
            CHECK_EQ(f.pa, 0x5A5A000);   /* *out untouched */
            CHECK_EQ(free_of(PMM_ZONE_GENERAL), left);
            CHECK_EQ(free_of(PMM_ZONE_TABLE_POOL), pool);
            CHECK(!slot_present(), "PML4 slot 324 left behind");
            for (uint64_t i = 0; i < left; i++)
                CHECK_EQ(pmm_frame_state(PMM_ZONE_GENERAL, taken[taken_n + i]), PMM_FRAME_FREE);
            census_is(0, 0, 0);
        }
        CHECK_EQ(pmm_verify(PMM_ZONE_GENERAL), PMM_OK);
    }
}

/* With the record page mapped a frame costs itself only: 0 left fails
 * with nothing changed, 1 left succeeds, 2 left leaves 1. */
static void test_exhaustion_with_the_record_page_mapped_at_below_and_above(void)
{
    for (uint64_t left = 0; left <= 2; left++) {
        boot();
        paddr_t first = new_frame();
        leave_highest(0);
        /* give back frames of first's record page (lowest first) */
        uint64_t given = 0;
        for (uint64_t i = 0; i < taken_n && given < left; i++)
            if (page_of(taken[i]) == page_of(first)) {
                CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, taken[i]), PMM_OK);
                given++;
            }
        CHECK_EQ(given, left);
        paddr_t f;
        bool ok = frame_new(&f);
        CHECK(ok == (left >= 1), "%llu left: frame_new %d", (unsigned long long)left, ok);
        CHECK_EQ(free_of(PMM_ZONE_GENERAL), left - ok);
        census_is(1 + ok, 1 + ok, 1);
    }
}

/* identity, table-offset: with the pool empty the slot's tables cannot
 * be had; the frame and the record page go back. */
static void test_an_empty_table_zone_fails_cleanly(void)
{
    boot();
    if (strategy_table_zone() != PMM_ZONE_TABLE_POOL) {
        CHECK_EQ(strategy_table_zone(), PMM_ZONE_GENERAL);  /* covered by the test above */
        return;
    }
    paddr_t t;
    uint64_t n = 0;
    while (pmm_alloc(PMM_ZONE_TABLE_POOL, &t) == PMM_OK)
        n++;
    CHECK(n > 0, "the pool was empty at boot");
    uint64_t gen = free_of(PMM_ZONE_GENERAL);
    paddr_t f;
    CHECK(!frame_new(&f), "frame_new without a table frame");
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen);
    CHECK_EQ(free_of(PMM_ZONE_TABLE_POOL), 0);
    census_is(0, 0, 0);
    CHECK_EQ(pmm_free(PMM_ZONE_TABLE_POOL, t), PMM_OK);  /* one table is not enough either */
    CHECK(!frame_new(&f), "frame_new with one table frame of three");
    CHECK_EQ(free_of(PMM_ZONE_TABLE_POOL), 1);
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), gen);
}

/* ---- record pages far apart ---- */

/* Frames handed out in record pages two apart (none touching another):
 * up to FRAME_META_RUNS of them each map their page alone; one more
 * (just above the limit) maps the page between it and the nearest run
 * too; then the pages between, each joining two runs into one. Every
 * page is mapped once, found again and counted once. */
/* pages FIRST, FIRST + 2, ..: from 16 MiB up, general RAM */
enum { FAR = FRAME_META_RUNS + 2, FIRST = (16u << 20) / PAGE_SIZE / PER_PAGE };

/* Frees the `n` frames at the start of record page `page`: the lowest
 * free ones, so frame_new takes them in order. */
static void free_at(uint64_t page, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        CHECK_EQ(pmm_free(PMM_ZONE_GENERAL, paddr((page * PER_PAGE + i) * PAGE_SIZE)), PMM_OK);
}

static void test_record_pages_far_apart_are_each_mapped_once_and_found(void)
{
    boot();
    leave_highest(0);
    static paddr_t f[2 * FAR];
    unsigned n = 0;
    uint64_t pages = 0;
    for (unsigned k = 0; k < FAR; k++) {
        uint64_t page = FIRST + 2 * k;
        /* below and at the limit a page of its own; above it, and the gap's */
        uint64_t gap = k >= FRAME_META_RUNS;
        free_at(page, 2 + gap + (k == 0 ? general_tables() : 0));
        f[n] = new_frame();
        CHECK_EQ(f[n].pa, page * PER_PAGE * PAGE_SIZE);
        n++;
        pages += 1 + gap;
        census_is(n, n, pages);
        CHECK_EQ(free_of(PMM_ZONE_GENERAL), 0);
    }
    /* the gap pages filled above: FIRST + 2*RUNS - 1 and the next far page's */
    for (unsigned k = 0; k + 1 < FAR; k++) {
        uint64_t page = FIRST + 2 * k + 1;
        if (k + 1 >= FRAME_META_RUNS) {
            CHECK(record_page_mapped(page), "gap page %llu not mapped", (unsigned long long)page);
            continue;
        }
        CHECK(!record_page_mapped(page), "page %llu mapped early", (unsigned long long)page);
        CHECK_EQ(frame_refs(paddr(page * PER_PAGE * PAGE_SIZE)), 0);
        free_at(page, 2);
        f[n++] = new_frame();
        pages++;
        census_is(n, n, pages);
    }
    for (unsigned i = 0; i < n; i++) {
        CHECK_EQ(frame_refs(f[i]), 1);
        frame_ref(f[i]);
        CHECK_EQ(frame_refs(f[i]), 2);
    }
    census_is(n, 2 * n, pages);
    CHECK_EQ(pages, 2 * FAR - 1);   /* every page from FIRST to the last far one */
    for (unsigned i = 0; i < n; i++) {
        CHECK(!frame_unref(f[i]), "frame %u: 2 -> 1 said last", i);
        CHECK(frame_unref(f[i]), "frame %u: 1 -> 0 did not say last", i);
    }
    census_is(0, 0, pages);
    CHECK_EQ(free_of(PMM_ZONE_GENERAL), n);
}

/* With every run taken, a page that touches none needs its frame, the
 * gap page's and its own: at 3 frames left it works, at 2 the gap page
 * stays mapped (in a run) and the frame goes back, at 1 nothing changes. */
static void test_a_gap_fill_short_of_frames_fails_cleanly(void)
{
    for (uint64_t left = 1; left <= 3; left++) {
        boot();
        leave_highest(0);
        for (unsigned k = 0; k < FRAME_META_RUNS; k++) {
            free_at(FIRST + 2 * k, 2 + (k == 0 ? general_tables() : 0));
            new_frame();
        }
        uint64_t page = FIRST + 2 * FRAME_META_RUNS, gap = page - 1;
        free_at(page, left);   /* the frame, then the gap page's, then the page's */
        paddr_t f = paddr(0x5A5A000);
        bool ok = frame_new(&f);
        CHECK(ok == (left == 3), "%llu left: frame_new %d", (unsigned long long)left, ok);
        CHECK_EQ(free_of(PMM_ZONE_GENERAL), left == 3 ? 0 : 1);
        CHECK(record_page_mapped(gap) == (left >= 2), "%llu left: gap page mapped %d",
              (unsigned long long)left, record_page_mapped(gap));
        CHECK(record_page_mapped(page) == ok, "the page mapped %d", record_page_mapped(page));
        census_is(FRAME_META_RUNS + ok, FRAME_META_RUNS + ok, FRAME_META_RUNS + left - 1);
        if (!ok)
            CHECK_EQ(f.pa, 0x5A5A000);
    }
}

/* ---- every address space sees the records ---- */

static void test_every_space_sees_the_record_pages_whenever_it_was_made(void)
{
    boot();
    static struct pt_space older, newer;
    CHECK_EQ(pt_space_create(&older), PT_OK);
    /* the first record page mapped while the older space is active and
     * selected: its PDPT is linked there and copied to the kernel's PML4 */
    pt_space_select(&older);
    pt_space_activate(&older);
    paddr_t a = new_frame();
    frame_ref(a);
    pt_space_activate(NULL);
    pt_space_select(NULL);
    CHECK_EQ(pt_space_create(&newer), PT_OK);
    const struct pt_space *spaces[] = { &pt_kernel_space, &older, &newer };
    pte_t slot = ((pte_t *)fake_phys(pt_kernel_space.root.pa))[PML4_SLOT_OF_META];
    CHECK(slot & PTE_P, "the kernel's PML4 has no slot 324");
    for (unsigned i = 0; i < 3; i++) {
        CHECK_EQ(((pte_t *)fake_phys(spaces[i]->root.pa))[PML4_SLOT_OF_META], slot);
        pt_space_activate(spaces[i]);
        CHECK_EQ(frame_refs(a), 2);
        /* through the simulated MMU, from that space's CR3 */
        CHECK_EQ(record(a)->refs, 2);
    }
    pt_space_activate(NULL);
    CHECK_EQ(pt_space_destroy(&older, NULL, NULL), PT_OK);
    CHECK_EQ(pt_space_destroy(&newer, NULL, NULL), PT_OK);
    CHECK_EQ(frame_refs(a), 2);
}

static const struct check_test tests[] = {
    CHECK_TEST(test_init_writes_nothing_and_maps_nothing),
    CHECK_TEST(test_the_first_frame_maps_exactly_one_record_page_with_its_tables),
    CHECK_TEST(test_frames_of_one_record_page_map_no_more_and_the_next_page_exactly_one),
    CHECK_TEST(test_ref_and_unref_count_exactly_and_free_at_the_last),
    CHECK_TEST(test_after_the_last_unref_only_the_record_pages_stay),
    CHECK_TEST(test_ref_reaches_the_maximum_and_one_more_panics),
    CHECK_TEST(test_unref_below_zero_panics),
    CHECK_TEST(test_a_refused_free_at_the_last_unref_panics),
    CHECK_TEST(test_a_frame_with_no_reference_panics_and_reads_zero),
    CHECK_TEST(test_exhaustion_with_the_record_page_unmapped_at_below_and_above),
    CHECK_TEST(test_exhaustion_with_the_record_page_mapped_at_below_and_above),
    CHECK_TEST(test_an_empty_table_zone_fails_cleanly),
    CHECK_TEST(test_record_pages_far_apart_are_each_mapped_once_and_found),
    CHECK_TEST(test_a_gap_fill_short_of_frames_fails_cleanly),
    CHECK_TEST(test_every_space_sees_the_record_pages_whenever_it_was_made),
};

int main(void) { return check_main("frame_meta", tests, CHECK_COUNT(tests)); }
