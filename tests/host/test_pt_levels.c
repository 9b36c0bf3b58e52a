/*
 * test_pt_levels.c - the strategy sees the right level on every get.
 *
 * Built per strategy with the linker's --wrap (tests/host/paging.mk), so
 * every strategy_table_get and strategy_entry_get the paging core makes
 * reaches the recorder below first. At each call it walks the real tables
 * (fake_phys, from CR3) along va: if `frame` is on that path, the level the
 * core asked for must be the depth the frame sits at, and the pointer the
 * strategy returns must be that frame's memory (the entry: the frame's
 * entry for va). A frame not on the path yet is a new table the core is
 * zeroing before it links it; it is checked again once the operation is
 * over, if it stayed linked.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fake_cpu.h"
#include "layout.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"

#define KIB4 0x1000ULL
#define MIB2 0x200000ULL
#define GIB 0x40000000ULL
#define SLOT (1ULL << 39)
#define BASE (32 * SLOT) /* fresh PML4 slots, as in test_pt.c */
#define FEATURES ((1u << CPU_NX) | (1u << CPU_PAGE1GB))
#define PENDING_MAX 64

enum getter { GET_TABLE, GET_ENTRY };

struct call {
    unsigned level;
    vaddr_t va;
    paddr_t frame;
};

static struct {
    bool on;
    unsigned seen[2][PT_LEVELS + 1];    /* calls checked on the path, by getter, level */
    unsigned wrong;                     /* level, or pointer, did not match */
    unsigned pending_n, unlinked;       /* new tables: waiting; never linked */
    struct call pending[PENDING_MAX];
    char first[256];                    /* the first mismatch */
} rec;

pte_t *__real_strategy_table_get(unsigned level, vaddr_t va, paddr_t frame);
pte_t *__real_strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame);
pte_t *__wrap_strategy_table_get(unsigned level, vaddr_t va, paddr_t frame);
pte_t *__wrap_strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame);

/* The depth (4..1) at which frame sits on va's path; 0 if it is not on it. */
static unsigned depth_of(vaddr_t va, paddr_t frame)
{
    uint64_t t = fake_cpu.cr3;
    for (unsigned level = PT_LEVELS; level >= 1; level--) {
        if (t == frame.pa)
            return level;
        if (level == 1)
            break;
        pte_t e = ((const pte_t *)fake_phys(t))[PT_INDEX(va.va, level)];
        if (!(e & PTE_P) || (e & PTE_PS))
            break;
        t = e & PTE_ADDR_MASK;
    }
    return 0;
}

static void mismatch(const char *what, enum getter g, unsigned level, vaddr_t va, paddr_t frame,
                     unsigned depth)
{
    if (rec.wrong++ == 0)
        snprintf(rec.first, sizeof(rec.first), "%s: %s(level %u, va 0x%llx, frame 0x%llx): depth %u",
                 what, g == GET_TABLE ? "table_get" : "entry_get", level,
                 (unsigned long long)va.va, (unsigned long long)frame.pa, depth);
}

static void record(enum getter g, unsigned level, vaddr_t va, paddr_t frame, const pte_t *got)
{
    if (!rec.on)
        return;
    const pte_t *want = fake_phys(frame.pa);
    if (g == GET_ENTRY)
        want += PT_INDEX(va.va, level);
    if (level < 1 || level > PT_LEVELS || got != want)
        mismatch("wrong level or pointer", g, level, va, frame, 0);
    unsigned depth = depth_of(va, frame);
    if (depth == 0) {
        if (rec.pending_n < PENDING_MAX)
            rec.pending[rec.pending_n++] = (struct call){ level, va, frame };
        return;
    }
    if (depth != level)
        mismatch("level is not the table's depth", g, level, va, frame, depth);
    else
        rec.seen[g][level]++;
}

pte_t *__wrap_strategy_table_get(unsigned level, vaddr_t va, paddr_t frame)
{
    pte_t *t = __real_strategy_table_get(level, va, frame);
    record(GET_TABLE, level, va, frame, t);
    return t;
}

pte_t *__wrap_strategy_entry_get(unsigned level, vaddr_t va, paddr_t frame)
{
    pte_t *e = __real_strategy_entry_get(level, va, frame);
    record(GET_ENTRY, level, va, frame, e);
    return e;
}

/* After an operation: each new table that stayed linked sits at its level. */
static void settle(void)
{
    for (unsigned i = 0; i < rec.pending_n; i++) {
        struct call *c = &rec.pending[i];
        unsigned depth = depth_of(c->va, c->frame);
        if (depth == 0)
            rec.unlinked++;
        else if (depth != c->level)
            mismatch("new table linked at another depth", GET_TABLE, c->level, c->va, c->frame,
                     depth);
        else
            rec.seen[GET_TABLE][c->level]++;
    }
    rec.pending_n = 0;
}

static void start(void)
{
    memset(&rec, 0, sizeof(rec));
    rec.on = true;
    fake_boot(FEATURES); /* strategy_init and pt_init are recorded too */
    settle();
}

static void finish(void)
{
    settle();
    rec.on = false;
    CHECK(rec.wrong == 0, "%u mismatches, the first: %s", rec.wrong, rec.first);
    CHECK_EQ(rec.pending_n, 0);
}

/* ---- a frame source that runs dry ---- */

static int frames_left;

static enum pt_status dry_alloc(void *ctx, paddr_t *out)
{
    (void)ctx;
    if (frames_left == 0 || pmm_alloc(strategy_table_zone(), out) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    frames_left--;
    return PT_OK;
}

static void dry_free(void *ctx, paddr_t frame)
{
    (void)ctx;
    pmm_free(strategy_table_zone(), frame);
}

static const struct pt_frame_source dry = { dry_alloc, dry_free, NULL };

/* ---- tests ---- */

static void test_single_page_operations_get_each_table_at_its_level(void)
{
    start();
    static const uint64_t sizes[] = { KIB4, MIB2, GIB };
    for (unsigned s = 0; s < 3; s++) {
        uint64_t va = BASE + s * SLOT;
        CHECK_EQ(pt_map(vaddr(va), paddr(GIB), sizes[s], PT_PROT_WRITE, NULL), PT_OK);
        settle();
        CHECK_EQ(pt_protect(vaddr(va), sizes[s], PT_PROT_READ), PT_OK);
        struct pt_translation t;
        CHECK_EQ(pt_translate(vaddr(va + 0x123), &t), PT_OK);
        CHECK_EQ(pt_table_used(s + 1, vaddr(va)), 1); /* the leaf's table holds it */
        CHECK_EQ(pt_unmap(vaddr(va), NULL, NULL), PT_OK);
        settle();
    }
    /* translate ends at every level: 4 KiB, 2 MiB, 1 GiB, an empty slot */
    for (unsigned level = PT_LEVELS; level >= 1; level--)
        CHECK(rec.seen[GET_ENTRY][level] > 0, "no entry_get at level %u", level);
    for (unsigned level = PT_LEVELS; level >= 1; level--)
        CHECK(rec.seen[GET_TABLE][level] > 0, "no table_get at level %u", level);
    finish();
}

static void test_range_operations_get_each_table_at_its_level(void)
{
    start();
    CHECK_EQ(pt_map_range(vaddr(BASE), paddr(2 * GIB), GIB + 3 * MIB2 + 5 * KIB4, PT_PROT_WRITE,
                          PT_RANGE_ALLOW_HUGE, NULL), PT_OK);
    settle();
    CHECK_EQ(pt_map_range(vaddr(BASE + SLOT - 4 * KIB4), paddr(0), 8 * KIB4, PT_PROT_WRITE, 0,
                          NULL), PT_OK); /* across a PML4 slot */
    settle();
    CHECK_EQ(pt_protect_range(vaddr(BASE + GIB), 3 * MIB2 + 5 * KIB4, PT_PROT_READ), PT_OK);
    CHECK_EQ(pt_unmap_range(vaddr(BASE), GIB + 3 * MIB2 + 5 * KIB4), PT_OK);
    CHECK_EQ(pt_unmap_range(vaddr(BASE + SLOT - 4 * KIB4), 8 * KIB4), PT_OK);
    for (unsigned level = PT_LEVELS; level >= 1; level--)
        CHECK(rec.seen[GET_TABLE][level] > 0, "no table_get at level %u", level);
    finish();
}

/* Maps that run out of frames at every level unlink their new tables:
 * those were got at the level they would have had. */
static void test_failed_maps_get_their_new_tables_at_their_level(void)
{
    start();
    for (int limit = 0; limit < 3; limit++) {
        frames_left = limit;
        CHECK_EQ(pt_map(vaddr(BASE), paddr(0), KIB4, 0, &dry), PT_ERR_NO_FRAMES);
        settle();
        frames_left = limit;
        CHECK_EQ(pt_map_range(vaddr(BASE), paddr(0), 3 * MIB2, 0, 0, &dry), PT_ERR_NO_FRAMES);
        settle();
    }
    finish();
    CHECK(rec.unlinked > 0, "no new table was got before it was linked");
}

/* pt_init's recount and the dumps walk every table of a populated tree. */
static void test_recount_and_dumps_get_each_table_at_its_level(void)
{
    start();
    CHECK_EQ(pt_map(vaddr(BASE + 5 * KIB4), paddr(0), KIB4, 0, NULL), PT_OK);
    CHECK_EQ(pt_map(vaddr(BASE + SLOT + MIB2), paddr(0), MIB2, 0, NULL), PT_OK);
    settle();
    memset(rec.seen, 0, sizeof(rec.seen));
    CHECK_EQ(pt_init(&fake_bi), PT_OK);
    for (unsigned level = PT_LEVELS; level >= 1; level--)
        CHECK(rec.seen[GET_TABLE][level] > 0, "pt_init: no table_get at level %u", level);
    memset(rec.seen, 0, sizeof(rec.seen));
    fake_capture_start();
    pt_dump_raw(1);
    pt_dump_ranges();
    fake_capture_end();
    for (unsigned level = PT_LEVELS; level >= 1; level--)
        CHECK(rec.seen[GET_TABLE][level] > 0, "dumps: no table_get at level %u", level);
    finish();
}

static const struct check_test tests[] = {
    CHECK_TEST(test_single_page_operations_get_each_table_at_its_level),
    CHECK_TEST(test_range_operations_get_each_table_at_its_level),
    CHECK_TEST(test_failed_maps_get_their_new_tables_at_their_level),
    CHECK_TEST(test_recount_and_dumps_get_each_table_at_its_level),
};

int main(void)
{
    char suite[64]; /* one program per strategy: the result lines say which */
    snprintf(suite, sizeof(suite), "pt_levels/%s", strategy_name());
    return check_main(suite, tests, CHECK_COUNT(tests));
}
