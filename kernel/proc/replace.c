/*
 * replace.c - page replacement (contract and model in replace.h): the
 * list of resident domain pages, the policies that pick a victim from it,
 * and the eviction that writes a victim to swap and leaves a swap entry
 * in its place.
 *
 * The list is circular and doubly linked through the frame records
 * (frame numbers in next/prev), `head` its oldest page: FIFO's next
 * victim and Clock's hand. A page comes in at the tail, just behind the
 * hand, so Clock looks at it last, as the textbook clock puts a new page
 * behind its hand.
 *
 * An eviction (evict): the victim's leaf is read in its owner's space
 * (selected for the while; an inactive space needs no invalidation, rule
 * 6 of tlb_policy.c); a page with a valid swap copy (FRAME_F_SLOT) that
 * the CPU has not written since (D clear: the CPU sets D in the entry
 * before the first write through a translation, SDM Vol. 3A 4.8, and a
 * leaf made by pt_swap_in starts with D clear) is dropped without I/O;
 * any other is written to a slot first, its own if nobody else's entry
 * names it, a new one otherwise. Then pt_swap_out puts the swap entry in
 * the leaf's place (one INVLPG when the owner is the active space) and
 * the frame goes back with its last reference. The slot's reference that
 * the frame held passes to the entry.
 */
#include "replace.h"
#include "config.h"
#include "console.h"
#include "frame_meta.h"
#include "kmap.h"
#include "layout.h"
#include "mem.h"
#include "syscall.h"
#include "swap.h"

#define NONE 0xFFFFFFFFu
#define OWNERS RP_OWNERS
_Static_assert(OWNERS < RP_NO_OWNER, "an owner id fits the record's byte");

struct owner {
    bool used;
    struct pt_space *as;
    int pid;                /* rp_owner_label's, for scope=pff's lines (0: none given) */
    uint32_t resident;
    uint32_t hand;          /* scope=local, Clock: its hand (a frame on the list), or NONE */
    uint32_t quota;         /* scope=pff: its quota now */
    uint32_t window_faults; /* scope=pff: its domain faults in the window so far */
    struct rp_counters c;
};

static struct owner owners[OWNERS];
static enum config_policy policy;
static enum config_scope scope;
static uint32_t limit, quota;
static uint32_t resident;
static uint32_t head = NONE;
static struct rp_counters all;

/* scope=pff's settings (rp_configure_pff) and where the window is */
static struct rp_pff pff;
static uint32_t window_ticks;
static uint64_t samples;    /* ticks that sampled the Accessed bits (NRU, aging) */

/* replace=opt's strings (rp_declare), one per owner: 64 KiB of BSS at
 * SYS_REFS_MAX references of two bytes (page numbers below SYS_REFS_PAGES). */
_Static_assert(SYS_REFS_PAGES <= 65536, "a page number fits two bytes");
static struct opt_string {
    uint32_t n;                 /* 0: none declared */
    uint64_t base, pos_va;
} opt[OWNERS];
static uint16_t opt_refs[OWNERS][SYS_REFS_MAX];

/* A frame on the list, by number (its record checked when it joined). */
static struct frame_meta *rec(uint32_t fn)
{
    return frame_meta_known(fn);
}
static uint32_t fn_of(paddr_t f) { return (uint32_t)(f.pa / PAGE_SIZE); }

static uint32_t arrivals;
/* Whether any owner has a Clock hand of its own (a local scope's): until
 * one has, a page leaving the list has no hand to move on (list_remove
 * skips the look at every owner, a munmap's and an exit's cost). */
static bool hands;

void rp_reset(void)
{
    for (unsigned i = 0; i < OWNERS; i++)
        owners[i] = (struct owner){ 0 };
    for (unsigned i = 0; i < OWNERS; i++)
        opt[i].n = 0;
    resident = 0;
    head = NONE;
    arrivals = 0;
    hands = false;
    all = (struct rp_counters){ 0 };
    limit = quota = 0;
    pff = (struct rp_pff){ 0 };
    window_ticks = 0;
    samples = 0;
    policy = CONFIG_POLICY_CLOCK;
    scope = CONFIG_SCOPE_GLOBAL;
}

void rp_configure(enum config_policy p, uint32_t frames)
{
    policy = p;
    limit = frames;
}

void rp_configure_local(uint32_t frames_each)
{
    scope = frames_each ? CONFIG_SCOPE_LOCAL : CONFIG_SCOPE_GLOBAL;
    quota = frames_each;
}

void rp_configure_pff(const struct rp_pff *p)
{
    scope = CONFIG_SCOPE_PFF;
    pff = *p;
    window_ticks = 0;
    for (unsigned i = 0; i < OWNERS; i++)
        owners[i].quota = pff.start;
}

/* scope=pff's settings from the configuration: the bounds default to 1
 * and the limit; the first quota to quota= or the middle of the bounds.
 * Settings that contradict each other are named, and the defaults used. */
static void pff_from_config(const struct config *cfg)
{
    struct rp_pff p = { .window = cfg->pff_window, .low = cfg->pff_low,
                        .high = cfg->pff_high, .min = cfg->pff_min, .max = cfg->pff_max };
    if (!p.max)
        p.max = limit ? limit : USER_FRAMES_MAX;
    if (p.low > p.high) {
        kprintf("replacement: error: pff_low=%u is above pff_high=%u: using %u and %u\n",
                p.low, p.high, PFF_LOW_DEFAULT, PFF_HIGH_DEFAULT);
        p.low = PFF_LOW_DEFAULT;
        p.high = PFF_HIGH_DEFAULT;
    }
    if (p.min > p.max) {
        kprintf("replacement: error: pff_min=%u is above pff_max=%u: using 1 and %u\n",
                p.min, p.max, limit ? limit : USER_FRAMES_MAX);
        p.min = 1;
        p.max = limit ? limit : USER_FRAMES_MAX;
    }
    p.start = cfg->quota ? cfg->quota : p.min + (p.max - p.min) / 2;
    if (p.start < p.min || p.start > p.max) {
        uint32_t to = p.start < p.min ? p.min : p.max;
        kprintf("replacement: error: quota=%u is outside pff_min=%u to pff_max=%u:"
                " using %u\n", p.start, p.min, p.max, to);
        p.start = to;
    }
    rp_configure_pff(&p);
}

void rp_init(void)
{
    const struct config *cfg = config_get();
    rp_configure(cfg->policy, cfg->user_frames);
    if (cfg->scope == CONFIG_SCOPE_LOCAL)
        rp_configure_local(cfg->quota);
    scope = cfg->scope;                 /* local without quota=: no per-process limit */
    if (scope == CONFIG_SCOPE_PFF)
        pff_from_config(cfg);
    if (limit)
        kprintf("replacement: user_frames=%u: heap and anonymous pages in at most %u frames\n",
                limit, limit);
    else
        kprintf("replacement: no limit (no user_frames= line); evictions once frames run out\n");
    kprintf("  policy %s, scope %s", config_policy_name(policy), config_scope_name(scope));
    if (scope == CONFIG_SCOPE_LOCAL && quota)
        kprintf(", %u frames each (quota=)", quota);
    else if (scope == CONFIG_SCOPE_LOCAL)
        kprintf(", no quota= line");
    else if (scope == CONFIG_SCOPE_PFF)
        kprintf(": quotas from %u in %u..%u", pff.start, pff.min, pff.max);
    kprintf("%s\n", swap_present() || !(limit || quota || scope == CONFIG_SCOPE_PFF)
                        ? "" : "; no swap: past it, out of memory");
    if (scope == CONFIG_SCOPE_PFF)
        kprintf("  pff: every %u ticks, more than %u faults: +1 frame, fewer than %u: -1\n",
                pff.window, pff.high, pff.low);
}

uint8_t rp_owner_new(struct pt_space *as)
{
    for (unsigned i = 0; i < OWNERS; i++)
        if (!owners[i].used) {
            owners[i] = (struct owner){ .used = true, .as = as, .hand = NONE,
                                        .quota = pff.start };
            return (uint8_t)i;
        }
    return RP_NO_OWNER;
}

void rp_owner_label(uint8_t id, int pid)
{
    if (id < OWNERS)
        owners[id].pid = pid;
}

uint32_t rp_owner_quota(uint8_t id)
{
    if (id >= OWNERS)
        return 0;
    return scope == CONFIG_SCOPE_PFF ? owners[id].quota
         : scope == CONFIG_SCOPE_LOCAL ? quota : 0;
}

uint32_t rp_owner_bound(uint8_t id, const char **key)
{
    (void)id;           /* the same for every owner: quotas of the moment do not count */
    uint32_t own = scope == CONFIG_SCOPE_LOCAL ? quota : scope == CONFIG_SCOPE_PFF ? pff.max : 0;
    *key = "user_frames";
    if (own && (!limit || own < limit)) {
        *key = scope == CONFIG_SCOPE_LOCAL ? "quota" : "pff_max";
        return own;
    }
    return limit;
}

void rp_owner_free(uint8_t id)
{
    if (id >= OWNERS)
        return;
    if (owners[id].resident)
        kpanic("replace: owner %u freed with %u pages still on the list", id,
               owners[id].resident);
    owners[id].used = false;
    opt[id].n = 0;                  /* its string goes with it */
}

/* ---- the list ---- */

/* fn joins the circle just behind `at` (the global hand: the tail; a
 * local Clock's hand: behind that one, so its owner's hand meets it last). */
static void list_add(uint32_t fn, struct frame_meta *m, uint32_t at)
{
    if (head == NONE) {
        m->next = m->prev = fn;
        head = fn;
        return;
    }
    struct frame_meta *h = rec(at);
    uint32_t before = h->prev;
    m->next = at;
    m->prev = before;
    rec(before)->next = fn;
    h->prev = fn;
}

static void list_remove(uint32_t fn, struct frame_meta *m)
{
    uint32_t next = m->next == fn ? NONE : m->next;
    if (next == NONE) {
        head = NONE;
    } else {
        rec(m->prev)->next = m->next;
        rec(m->next)->prev = m->prev;
        if (head == fn)
            head = next;
    }
    if (hands)                                  /* a hand on it moves on */
        for (unsigned i = 0; i < OWNERS; i++)
            if (owners[i].hand == fn)
                owners[i].hand = next;
    m->next = m->prev = 0;
}

void rp_track(uint8_t id, paddr_t f, uint64_t va)
{
    struct frame_meta *m = frame_meta_of(f);
    if (!m || id >= OWNERS || !owners[id].used)
        kpanic("replace: rp_track of frame 0x%lx for owner %u", f.pa, id);
    if (m->flags & FRAME_F_RESIDENT)
        kpanic("replace: frame 0x%lx is on the list already", f.pa);
    m->owner = id;
    m->va = va;
    m->age = 0;
    m->flags |= FRAME_F_RESIDENT;
    m->loaded = arrivals++;
    uint32_t at = head;
    if (scope == CONFIG_SCOPE_LOCAL && policy == CONFIG_POLICY_CLOCK && owners[id].hand != NONE)
        at = owners[id].hand;
    list_add(fn_of(f), m, at);
    resident++;
    owners[id].resident++;
}

static void forget(uint32_t fn, struct frame_meta *m)
{
    list_remove(fn, m);
    resident--;
    owners[m->owner].resident--;
    if (m->flags & FRAME_F_SLOT)
        swap_slot_unref(m->slot);
    m->flags &= (uint16_t)~(FRAME_F_RESIDENT | FRAME_F_SLOT);
}

/* The leaf at va in owner id's space, count bits masked (0: none). */
static pte_t leaf_in(uint8_t id, uint64_t va)
{
    const struct pt_space *prev = pt_space_selected();
    pt_space_select(owners[id].as);
    pte_t e = 0;
    if (pt_entry_get(vaddr(va), &e) != PT_OK)
        e = 0;
    pt_space_select(prev);
    return e;
}

void rp_untrack(uint8_t id, paddr_t f, uint64_t va)
{
    struct frame_meta *m = frame_meta_of(f);
    if (!m || !(m->flags & FRAME_F_RESIDENT))
        return;
    uint32_t fn = fn_of(f);
    if (m->refs == 1) {
        forget(fn, m);
        return;
    }
    if (m->owner != id)
        return;
    /* still shared: another space that maps f at va owns it now (fork
     * keeps a page at its address in every space, so that is where) */
    for (unsigned j = 0; j < OWNERS; j++) {
        if (j == id || !owners[j].used)
            continue;
        pte_t e = leaf_in((uint8_t)j, va);
        if ((e & PTE_P) && (e & PTE_ADDR_MASK) == f.pa) {
            owners[id].resident--;
            owners[j].resident++;
            m->owner = (uint8_t)j;
            return;
        }
    }
    kpanic("replace: frame 0x%lx (refs %u) at 0x%lx is mapped by no other space", f.pa,
           m->refs, va);
}

/* ---- choosing and evicting ---- */

/* May the page go now? Not while the current system call uses it (its
 * buffer pages, pinned for the call's owner pin_id: the owner's own, or a
 * copy-on-write page pin_id shares with its owner). */
static bool evictable(const struct frame_meta *m, uint8_t pin_id, uint64_t lo, uint64_t hi)
{
    return !(m->va >= lo && m->va < hi && (m->owner == pin_id || m->refs > 1));
}

void rp_declare(uint8_t id, uint64_t base, const uint32_t *refs, uint32_t n, uint64_t pos_va)
{
    if (id >= OWNERS)
        return;
    opt[id] = (struct opt_string){ .n = n <= SYS_REFS_MAX ? n : 0, .base = base,
                                   .pos_va = pos_va };
    for (uint32_t k = 0; k < opt[id].n; k++)
        opt_refs[id][k] = (uint16_t)refs[k];
}

/* The uint32 at va in owner id's space (read through kmap, whichever
 * space is active), or *ok = false when it is not mapped. */
static uint32_t owner_u32(uint8_t id, uint64_t va, bool *ok)
{
    const struct pt_space *prev = pt_space_selected();
    pt_space_select(owners[id].as);
    struct pt_translation t;
    *ok = (va & 3) == 0 && pt_translate(vaddr(va), &t) == PT_OK;
    pt_space_select(prev);
    if (!*ok)
        return 0;
    paddr_t pa = paddr(pt_tr_frame(&t).pa + PAGE_OFFSET(va));
    const uint8_t *page = kmap(paddr(ALIGN_DOWN(pa.pa, PAGE_SIZE)), KMAP_SRC);
    uint32_t v;
    memcpy(&v, page + PAGE_OFFSET(pa.pa), sizeof(v));
    kunmap(KMAP_SRC);
    return v;
}

/* OPT's key of a page: higher goes first. A page whose owner declared no
 * string (its future unknown): above every declared one; a declared page
 * never referenced after its owner's position: n, the lowest page number
 * first; else the index of its next reference. Positions of different
 * owners are compared as if their strings ran in step (global OPT with
 * several strings; local OPT compares one owner's pages only). */
static uint64_t opt_key(const struct frame_meta *m, const uint32_t *pos, const bool *known)
{
    const struct opt_string *o = &opt[m->owner];
    if (!known[m->owner] || m->va < o->base)
        return (uint64_t)2 << 40;
    uint64_t page = (m->va - o->base) / PAGE_SIZE;
    for (uint32_t j = pos[m->owner] + 1; j < o->n; j++)
        if (opt_refs[m->owner][j] == page)
            return (uint64_t)j << 20;
    return ((uint64_t)o->n << 20) + ((1u << 20) - 1 - (page & 0xFFFFF));
}

static uint32_t choose_opt(uint8_t pin_id, uint64_t lo, uint64_t hi, uint8_t only)
{
    uint32_t pos[OWNERS];
    bool known[OWNERS];
    for (unsigned i = 0; i < OWNERS; i++) {
        known[i] = false;
        if (owners[i].used && opt[i].n && (only == RP_NO_OWNER || only == i))
            pos[i] = owner_u32((uint8_t)i, opt[i].pos_va, &known[i]);
    }
    uint32_t fn = head, best = NONE;
    uint64_t best_key = 0;
    for (uint32_t k = 0; k < resident; k++) {
        struct frame_meta *m = rec(fn);
        bool mine = only == RP_NO_OWNER || m->owner == only;
        if (mine) {
            all.scanned++;
            uint64_t key = opt_key(m, pos, known);
            if (evictable(m, pin_id, lo, hi) && (best == NONE || key > best_key)) {
                best = fn;
                best_key = key;
            }
        }
        fn = m->next;
    }
    return best;        /* without strings: the oldest (all keys equal), as FIFO */
}

/* Every resident page of owner only (RP_NO_OWNER: of everyone) to
 * visit(k, fn, m, ctx), k its place on the list from the head (the oldest
 * is 0), one owner at a time with its space selected once around its
 * pages (a select of an inactive space is a flush under the recursive
 * strategy, so not one per page), the selection put back after. */
typedef void page_visit(uint32_t k, uint32_t fn, struct frame_meta *m, void *ctx);

static void each_page(uint8_t only, page_visit *visit, void *ctx)
{
    const struct pt_space *prev = pt_space_selected();
    for (unsigned o = 0; o < OWNERS; o++) {
        if (!owners[o].used || !owners[o].resident || (only != RP_NO_OWNER && only != o))
            continue;
        pt_space_select(owners[o].as);
        uint32_t fn = head;
        for (uint32_t k = 0; k < resident; k++, fn = rec(fn)->next) {
            struct frame_meta *m = rec(fn);
            if (m->owner == o)
                visit(k, fn, m, ctx);
        }
    }
    pt_space_select(prev);
}

/* NRU's and aging's victim among owner only's pages (RP_NO_OWNER:
 * everyone's): the lowest key, the oldest of equal keys. NRU's key is
 * its class, 2 * A + M: not referenced since the last tick before
 * referenced, and of each, clean before modified. M is "must be written
 * to be evicted": D set, or no valid copy on swap (a page never written
 * out has no copy, whatever D says; a page read back from swap and not
 * written since has a valid one, and D clear). Aging's key is the page's
 * counter with the Accessed bit of the tick now running in front of it
 * (A * 256 + age): a page referenced since the last tick counts as the
 * most recent, as it will at the next tick, so a page brought in this
 * tick is not the first to go. Both read the owner's leaf of a page
 * shared after fork, as Clock does. */
struct sampled_choice {
    uint8_t pin_id;
    uint64_t lo, hi;
    uint32_t best, best_key, best_pos;
};

static void weigh(uint32_t k, uint32_t fn, struct frame_meta *m, void *ctx)
{
    struct sampled_choice *c = ctx;
    all.scanned++;
    if (!evictable(m, c->pin_id, c->lo, c->hi))
        return;
    pte_t e = 0;
    if (pt_entry_get(vaddr(m->va), &e) != PT_OK || !(e & PTE_P))
        kpanic("replace: frame 0x%lx at 0x%lx has no leaf", (uint64_t)fn * PAGE_SIZE, m->va);
    uint32_t a = (e & PTE_A) != 0, key;
    if (policy == CONFIG_POLICY_NRU)
        key = 2 * a + ((e & PTE_D) || !(m->flags & FRAME_F_SLOT));
    else
        key = a * 256 + m->age;
    if (c->best == NONE || key < c->best_key || (key == c->best_key && k < c->best_pos)) {
        c->best = fn;
        c->best_key = key;
        c->best_pos = k;
    }
}

static uint32_t choose_sampled(uint8_t pin_id, uint64_t lo, uint64_t hi, uint8_t only)
{
    struct sampled_choice c = { .pin_id = pin_id, .lo = lo, .hi = hi, .best = NONE };
    each_page(only, weigh, &c);
    return c.best;
}

/* The victim by the policy, among owner only's pages (RP_NO_OWNER:
 * everyone's), or NONE. Clock's hand is the list's head for the global
 * scope, the owner's own hand for a local one (which passes over the
 * others' pages without touching them). */
static uint32_t choose(uint8_t pin_id, uint64_t lo, uint64_t hi, uint8_t only)
{
    if (policy == CONFIG_POLICY_OPT)
        return choose_opt(pin_id, lo, hi, only);
    if (policy == CONFIG_POLICY_NRU || policy == CONFIG_POLICY_AGING)
        return choose_sampled(pin_id, lo, hi, only);
    if (policy == CONFIG_POLICY_FIFO) {
        uint32_t fn = head;
        for (uint32_t k = 0; k < resident; k++) {
            struct frame_meta *m = rec(fn);
            all.scanned++;
            if ((only == RP_NO_OWNER || m->owner == only) && evictable(m, pin_id, lo, hi))
                return fn;
            fn = m->next;
        }
        return NONE;
    }
    /* Clock: at most two turns (the first may clear every A bit) */
    uint32_t *hand = only == RP_NO_OWNER ? &head : &owners[only].hand;
    if (*hand == NONE)
        *hand = head;
    hands |= only != RP_NO_OWNER;
    for (uint32_t k = 0; k < 2 * resident + 1 && *hand != NONE; k++) {
        uint32_t fn = *hand;
        struct frame_meta *m = rec(fn);
        if (only != RP_NO_OWNER && m->owner != only) {
            *hand = m->next;
            continue;
        }
        all.scanned++;
        if (!evictable(m, pin_id, lo, hi)) {
            *hand = m->next;
            continue;
        }
        const struct pt_space *prev = pt_space_selected();
        pt_space_select(owners[m->owner].as);
        pte_t old = 0;
        enum pt_status st = pt_clear_accessed(vaddr(m->va), &old);
        pt_space_select(prev);
        if (st != PT_OK)
            kpanic("replace: clock: the leaf of frame 0x%lx at 0x%lx: %s",
                   (uint64_t)fn * PAGE_SIZE, m->va, pt_status_name(st));
        if (old & PTE_A) {
            all.a_cleared++;
            owners[m->owner].c.a_cleared++;
            *hand = m->next;        /* second chance: passed over once */
            continue;
        }
        return fn;                  /* under the hand: its removal moves the hand on */
    }
    return NONE;
}

/* Every space that maps f at va, the owner first, into ids, and their
 * leaves into es: as many as f has references (a page of the domain is
 * referenced by its leaves only, each at the same address: fork keeps
 * pages where they are). */
static unsigned mappers(const struct frame_meta *m, paddr_t f, uint8_t *ids, pte_t *es)
{
    unsigned n = 0;
    for (unsigned j = 0; j < OWNERS && n < m->refs; j++) {
        unsigned id = (m->owner + j) % OWNERS;
        if (!owners[id].used)
            continue;
        pte_t e = leaf_in((uint8_t)id, m->va);
        if ((e & PTE_P) && (e & PTE_ADDR_MASK) == f.pa) {
            ids[n] = (uint8_t)id;
            es[n++] = e;
        }
    }
    if (n != m->refs || ids[0] != m->owner)
        kpanic("replace: frame 0x%lx at 0x%lx: %u references, %u leaves found (owner %u)",
               f.pa, m->va, m->refs, n, m->owner);
    return n;
}

/* Swap is full: a resident page's copy on swap (FRAME_F_SLOT, a slot no
 * entry names) is given up, so that its slot can take a page that has no
 * copy at all; the page then counts as dirty (written at its eviction).
 * Linux does the same with its swap cache when swap runs short
 * (vm_swap_full). false: no such copy. */
static bool reclaim_copy(void)
{
    uint32_t fn = head;
    for (uint32_t k = 0; k < resident; k++) {
        struct frame_meta *m = rec(fn);
        if ((m->flags & FRAME_F_SLOT) && swap_slot_refs(m->slot) == 1) {
            swap_slot_unref(m->slot);
            m->flags &= (uint16_t)~FRAME_F_SLOT;
            return true;
        }
        fn = m->next;
    }
    return false;
}

/* The slot the page goes to, with one reference held for it (the frame's
 * own copy's, or a new slot's): RP_OK with *slot and *written (whether it
 * was written now), or why not; the page is still resident then. */
static enum rp_status to_swap(struct frame_meta *m, paddr_t f, bool dirty, uint32_t *slot,
                              bool *written)
{
    *written = false;
    if ((m->flags & FRAME_F_SLOT) && !dirty) {
        *slot = m->slot;                   /* its copy is still the page: no write */
        m->flags &= (uint16_t)~FRAME_F_SLOT;
        return RP_OK;
    }
    if ((m->flags & FRAME_F_SLOT) && swap_slot_refs(m->slot) == 1) {
        *slot = m->slot;                   /* its own copy, stale: written over */
    } else {
        if (m->flags & FRAME_F_SLOT)
            swap_slot_unref(m->slot);      /* another entry's copy too: left to it */
        m->flags &= (uint16_t)~FRAME_F_SLOT;
        enum swap_status ss = swap_slot_alloc(slot);
        while (ss == SWAP_ERR_FULL && reclaim_copy())
            ss = swap_slot_alloc(slot);
        if (ss == SWAP_ERR_NONE)
            return RP_ERR_SWAP_NONE;
        if (ss != SWAP_OK)
            return RP_ERR_SWAP_FULL;
    }
    m->flags &= (uint16_t)~FRAME_F_SLOT;
    if (swap_write(*slot, f) != SWAP_OK) {
        /* the page stays where it is, the only copy; the slot's contents
         * are undefined now: given back */
        swap_slot_unref(*slot);
        return RP_ERR_SWAP_IO;
    }
    *written = true;
    return RP_OK;
}

static enum rp_status evict(uint32_t fn)
{
    struct frame_meta *m = rec(fn);
    uint8_t owner = m->owner;
    uint64_t va = m->va;
    paddr_t f = paddr((uint64_t)fn * PAGE_SIZE);
    uint8_t ids[OWNERS];
    pte_t es[OWNERS];
    unsigned n = mappers(m, f, ids, es);
    bool dirty = false;
    for (unsigned k = 0; k < n; k++)
        dirty |= (es[k] & PTE_D) != 0;
    uint32_t slot;
    bool written;
    enum rp_status rs = to_swap(m, f, dirty, &slot, &written);
    if (rs != RP_OK)
        return rs;
    /* one reference to the slot per entry that will name it */
    for (unsigned k = 1; k < n; k++)
        swap_slot_ref(slot);
    const struct pt_space *prev = pt_space_selected();
    for (unsigned k = 0; k < n; k++) {
        pt_space_select(owners[ids[k]].as);
        enum pt_status st = pt_swap_out(vaddr(va), pte_swap_entry(slot), NULL);
        if (st != PT_OK)
            kpanic("replace: pt_swap_out of 0x%lx: %s", va, pt_status_name(st));
    }
    pt_space_select(prev);
    forget(fn, m);
    all.evictions++;
    owners[owner].c.evictions++;
    if (written) {
        all.writebacks++;
        owners[owner].c.writebacks++;
    } else {
        all.clean_drops++;
        owners[owner].c.clean_drops++;
    }
    for (unsigned k = 0; k < n; k++)
        if (frame_unref(f) != (k + 1 == n))
            kpanic("replace: frame 0x%lx: references left after its eviction", f.pa);
    return RP_OK;
}

static enum rp_status evict_one(uint8_t pin_id, uint64_t lo, uint64_t hi, uint8_t only)
{
    uint32_t fn = choose(pin_id, lo, hi, only);
    if (fn == NONE)
        return RP_ERR_NO_VICTIM;
    return evict(fn);
}

/* scope=pff at the total limit: the owner furthest over its quota (one
 * whose quota shrank gives its frames up first), or RP_NO_OWNER. */
static uint8_t most_over_quota(void)
{
    uint8_t over = RP_NO_OWNER;
    uint32_t by = 0;
    for (unsigned i = 0; i < OWNERS; i++)
        if (owners[i].used && owners[i].resident > owners[i].quota &&
            owners[i].resident - owners[i].quota > by) {
            by = owners[i].resident - owners[i].quota;
            over = (uint8_t)i;
        }
    return over;
}

enum rp_status rp_frame_new(uint8_t id, uint64_t lo, uint64_t hi, paddr_t *out)
{
    /* local: the process at its quota gives up one of its own pages; at
     * the total limit too, as long as it has one. pff: the same with its
     * quota now, which may have shrunk below what it holds (it gives up
     * pages until it is under it, as far as they are not pinned); at the
     * total limit a process over its quota gives up a page first. */
    bool local = (scope == CONFIG_SCOPE_LOCAL || scope == CONFIG_SCOPE_PFF) && id < OWNERS;
    uint8_t only = local && owners[id].resident ? id : RP_NO_OWNER;
    uint32_t q = local ? rp_owner_quota(id) : 0;
    if (local)
        owners[id].window_faults++;
    while (q && owners[id].resident >= q) {
        enum rp_status st = evict_one(id, lo, hi, id);
        if (st == RP_ERR_NO_VICTIM && scope == CONFIG_SCOPE_PFF)
            break;              /* the rest is pinned: a pff quota is soft, the limit decides */
        if (st != RP_OK)
            return st;
    }
    if (limit && resident >= limit) {
        uint8_t from = scope == CONFIG_SCOPE_PFF ? most_over_quota() : RP_NO_OWNER;
        enum rp_status st = evict_one(id, lo, hi, from != RP_NO_OWNER ? from : only);
        if (st != RP_OK)
            return st;
    }
    if (frame_new(out))
        return RP_OK;
    /* the allocator is dry: a page can make room only if there is one and
     * somewhere to put it (without swap this is plain out of memory) */
    if (resident == 0 || !swap_present())
        return RP_ERR_NO_FRAMES;
    enum rp_status st = evict_one(id, lo, hi, only);
    if (st != RP_OK)
        return st;
    return frame_new(out) ? RP_OK : RP_ERR_NO_FRAMES;
}

/* ---- the timer's side ---- */

/* NRU's and aging's sample: every resident page's Accessed bit read and
 * cleared (pt_clear_accessed: with an INVLPG in the active space, so the
 * next reference sets it again), and for aging shifted into its counter
 * from the left. */
static void sample_page(uint32_t k, uint32_t fn, struct frame_meta *m, void *ctx)
{
    (void)k;
    (void)ctx;
    pte_t old = 0;
    enum pt_status st = pt_clear_accessed(vaddr(m->va), &old);
    if (st != PT_OK)
        kpanic("replace: sample: the leaf of frame 0x%lx at 0x%lx: %s",
               (uint64_t)fn * PAGE_SIZE, m->va, pt_status_name(st));
    if (old & PTE_A)
        all.a_cleared++;
    m->age = (uint8_t)((m->age >> 1) | (old & PTE_A ? 0x80 : 0));
}

static void sample(void)
{
    each_page(RP_NO_OWNER, sample_page, NULL);
    samples++;
}

/* The sum of the live owners' quotas (scope=pff). */
static uint64_t quota_sum(void)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < OWNERS; i++)
        if (owners[i].used)
            sum += owners[i].quota;
    return sum;
}

/* The end of a window: each process's quota moves by one frame at most. */
static void pff_window_end(uint64_t now)
{
    for (unsigned i = 0; i < OWNERS; i++) {
        struct owner *o = &owners[i];
        if (!o->used)
            continue;
        uint32_t f = o->window_faults, was = o->quota;
        o->window_faults = 0;
        if (f > pff.high && o->quota < pff.max && o->resident >= o->quota &&
            (!limit || quota_sum() < limit))
            o->quota++;
        else if (f < pff.low && o->quota > pff.min)
            o->quota--;
        if (o->quota != was)
            kprintf("pff: tick %lu: pid %d quota %u -> %u (%u faults in %u ticks)\n", now,
                    o->pid, was, o->quota, f, pff.window);
    }
}

void rp_tick(uint64_t now)
{
    if ((policy == CONFIG_POLICY_NRU || policy == CONFIG_POLICY_AGING) && resident)
        sample();
    if (scope == CONFIG_SCOPE_PFF && ++window_ticks >= pff.window) {
        window_ticks = 0;
        pff_window_end(now);
    }
}

uint64_t rp_samples(void) { return samples; }

uint32_t rp_resident(void) { return resident; }
uint32_t rp_owner_resident(uint8_t id) { return id < OWNERS ? owners[id].resident : 0; }
uint32_t rp_limit(void) { return limit; }
enum config_policy rp_policy(void) { return policy; }
void rp_get_stats(struct rp_counters *out) { *out = all; }

void rp_owner_stats(uint8_t id, struct rp_counters *out)
{
    *out = id < OWNERS ? owners[id].c : (struct rp_counters){ 0 };
}

const char *rp_status_name(enum rp_status st)
{
    static const char *const names[RP_STATUS_COUNT] = {
        [RP_OK] = "ok",
        [RP_ERR_NO_VICTIM] = "every resident page is shared or in use by the kernel",
        [RP_ERR_SWAP_NONE] = "no swap area to evict a page to",
        [RP_ERR_SWAP_FULL] = "swap is full",
        [RP_ERR_SWAP_IO] = "swap I/O error writing a victim",
        [RP_ERR_NO_FRAMES] = "no free frame and no page to evict",
    };
    return (unsigned)st < RP_STATUS_COUNT && names[st] ? names[st] : "?";
}
