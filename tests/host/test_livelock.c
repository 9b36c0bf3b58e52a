/*
 * test_livelock.c - livelock detection (kernel/proc/livelock.c) on the
 * host: first the rule alone, on trap frames made here (when it steps,
 * what it counts, when it fires, what its #DB does), then instructions
 * run against the real fault path (vm.c, replace.c, swap.c over a disk
 * in memory, as test_replace.c), the way proc_fault drives it: an
 * instruction is a list of accesses, an attempt makes them in order, the
 * first one the leaf refuses is a page fault handed to vm_fault and then
 * to livelock_fault, and the attempt starts again; an attempt that gets
 * through completes the instruction, and if TF was set in the frame the
 * #DB that follows goes to livelock_step.
 *
 * Expected outcomes come from the limit and the pages each instruction
 * touches (FIFO's and Clock's rules for which page goes), never from
 * livelock.c: a movsq between two pages on swap needs 2 faults with 2 or
 * more frames and can never complete with 1; a rep movsb makes progress
 * with 2 frames however many pages it copies.
 */
#include "fake_ata.h"
#include "livelock.h"
#include "replace.h"
#include "swap.h"
#include "swap_sim.h"
#include "vm_sim.h"
#include "x86.h"

#define HEAP USER_MMAP_BASE
#define PG(i) (HEAP + (uint64_t)(i) * PAGE_SIZE)
#define RW PT_PROT_WRITE
#define DATA_FAULT (PF_ERR_USER | PF_ERR_WRITE)
#define FETCH_FAULT (PF_ERR_USER | PF_ERR_FETCH)

/* ---- the rule alone ---- */

static struct trap_frame frame_at(uint64_t rip, uint64_t rcx)
{
    struct trap_frame f = { 0 };
    f.rip = rip;
    f.rcx = rcx;
    f.rsi = 0x1000;
    f.rdi = 0x2000;
    f.rflags = RFLAGS_CLEAR | RFLAGS_IF;
    f.cs = 0x23;
    f.rsp = 0x7fff0000;
    return f;
}

static bool tf(const struct trap_frame *f) { return (f->rflags & RFLAGS_TF) != 0; }

static void test_the_second_domain_fault_of_a_data_access_in_one_state_sets_tf(void)
{
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 0);
    CHECK(!livelock_fault(&ll, &f, true, PG(0), DATA_FAULT, 1, "user_frames"), "fired");
    CHECK(!tf(&f), "TF after one fault");
    CHECK(!livelock_fault(&ll, &f, true, PG(1), DATA_FAULT, 1, "user_frames"), "fired");
    CHECK(tf(&f), "no TF after the second fault in the same state");
    /* the same state, but RF set as in a fault's frame: still the same */
    struct livelock l2;
    livelock_reset(&l2);
    struct trap_frame g = frame_at(0x401000, 0);
    livelock_fault(&l2, &g, true, PG(0), DATA_FAULT, 1, "user_frames");
    g.rflags |= RFLAGS_RF;
    livelock_fault(&l2, &g, true, PG(1), DATA_FAULT, 1, "user_frames");
    CHECK(tf(&g), "RF made the state another");
}

static void test_a_fetch_a_tf_of_the_programs_own_and_no_bound_do_not_step(void)
{
    struct { uint64_t err; uint64_t rflags; uint32_t bound; const char *what; } cases[] = {
        { FETCH_FAULT, 0, 1, "an instruction fetch" },
        { DATA_FAULT, RFLAGS_TF, 1, "TF already set" },
        { DATA_FAULT, 0, 0, "no bound" },
        { DATA_FAULT, 0, LIVELOCK_PAGES, "a bound of LIVELOCK_PAGES" },
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct livelock ll;
        livelock_reset(&ll);
        struct trap_frame f = frame_at(0x401000, 0);
        f.rflags |= cases[c].rflags;
        for (unsigned k = 0; k < 3 * LIVELOCK_PAGES; k++)
            CHECK(!livelock_fault(&ll, &f, true, PG(k % (LIVELOCK_PAGES + 1)), cases[c].err,
                                  cases[c].bound, "user_frames"),
                  "%s: fired at fault %u", cases[c].what, k);
        CHECK(!ll.stepping && (f.rflags & RFLAGS_TF) == cases[c].rflags,
              "%s: stepping %d, TF %d", cases[c].what, ll.stepping, tf(&f));
    }
}

static void test_a_fault_that_brought_no_domain_page_changes_nothing(void)
{
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 0);
    for (unsigned k = 0; k < 10; k++)
        CHECK(!livelock_fault(&ll, &f, false, PG(k), DATA_FAULT, 1, "user_frames"), "fired");
    CHECK(!tf(&f) && ll.same == 0, "TF %d, same %u", tf(&f), ll.same);
    /* and between two domain faults it does not break their run */
    livelock_fault(&ll, &f, true, PG(0), DATA_FAULT, 1, "user_frames");
    livelock_fault(&ll, &f, false, PG(7), DATA_FAULT, 1, "user_frames");
    livelock_fault(&ll, &f, true, PG(1), DATA_FAULT, 1, "user_frames");
    CHECK(tf(&f), "a stack fault in between broke the run");
}

/* Bound b: b distinct pages while stepping pass, the one more fires. */
static void fires_past(uint32_t b)
{
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 7);
    livelock_fault(&ll, &f, true, PG(100), DATA_FAULT, b, "quota");    /* not stepping yet */
    for (uint32_t k = 0; k < b; k++)
        if (!CHECK(!livelock_fault(&ll, &f, true, PG(k), DATA_FAULT, b, "quota"),
                   "bound %u: fired at its page %u", b, k + 1))
            return;
    CHECK(livelock_fault(&ll, &f, true, PG(b), DATA_FAULT, b, "quota"),
          "bound %u: %u pages did not fire", b, b + 1);
    CHECK(ll.n == b + 1 && ll.bound == b && strcmp(ll.key, "quota") == 0,
          "bound %u: n %u, bound %u, key %s", b, ll.n, ll.bound, ll.key);
}

static void test_bound_pages_pass_and_one_more_fires_at_every_bound(void)
{
    for (uint32_t b = 1; b < LIVELOCK_PAGES; b++)
        fires_past(b);
}

static void test_pages_count_once_however_often_they_fault(void)
{
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 0);
    for (unsigned k = 0; k < 1000; k++)
        CHECK(!livelock_fault(&ll, &f, true, PG(k % 2), DATA_FAULT, 2, "user_frames"),
              "fired at fault %u", k);
    CHECK(tf(&f) && ll.n == 2, "TF %d, %u pages", tf(&f), ll.n);
}

static void test_another_state_while_stepping_clears_tf_and_starts_over(void)
{
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 3);
    livelock_fault(&ll, &f, true, PG(0), DATA_FAULT, 1, "user_frames");
    livelock_fault(&ll, &f, true, PG(1), DATA_FAULT, 1, "user_frames");
    CHECK(tf(&f), "not stepping");
    f.rcx = 2;              /* a REP iteration retired (as if its #DB was lost) */
    CHECK(!livelock_fault(&ll, &f, true, PG(2), DATA_FAULT, 1, "user_frames"),
          "fired across two states");
    CHECK(!tf(&f) && !ll.stepping && ll.same == 1, "TF %d, stepping %d, same %u", tf(&f),
          ll.stepping, ll.same);
}

static void test_the_step_trap_is_taken_only_while_stepping(void)
{
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 0);
    f.rflags |= RFLAGS_TF;      /* the program's own single step */
    CHECK(!livelock_step(&ll, &f) && tf(&f), "a #DB that is not ours was taken");
    f.rflags &= ~(uint64_t)RFLAGS_TF;
    livelock_fault(&ll, &f, true, PG(0), DATA_FAULT, 1, "user_frames");
    livelock_fault(&ll, &f, true, PG(1), DATA_FAULT, 1, "user_frames");
    CHECK(livelock_step(&ll, &f), "our #DB refused");
    CHECK(!tf(&f) && !ll.stepping && ll.same == 0 && ll.n == 0,
          "TF %d, stepping %d, same %u, n %u", tf(&f), ll.stepping, ll.same, ll.n);
    CHECK(!livelock_step(&ll, &f), "a second #DB taken");
    /* after the step the same state starts a new run: one fault does not step */
    livelock_fault(&ll, &f, true, PG(0), DATA_FAULT, 1, "user_frames");
    CHECK(!tf(&f), "stepping after one fault");
}

/* ---- instructions on the fault path ---- */

static void spawn(struct sim_proc *p, unsigned pages)
{
    sim_spawn(p);
    CHECK(vm_region_add(&p->vm, HEAP, PG(pages), RW, VM_ANON, NULL, 0), "region");
    sim_run(p);
}

struct access {
    uint64_t va;
    enum sim_op op;
};

enum end { DONE, KILLED, GAVE_UP };
static const char *const end_names[] = { "completed", "killed", "still faulting" };

struct run {
    enum end end;
    unsigned faults, steps;
};

/* Between two attempts another process may run (NULL: none). */
typedef void (*between_fn)(void *ctx);

/* The instruction in state f whose accesses are a[0..n), until it
 * completes, livelock_fault fires, or max_faults faults. A read the leaf
 * allows is made at once (the CPU sets A); the writes are made when the
 * whole attempt got through (a faulting instruction commits nothing).
 * *byte: what the reads found last, which the writes store. */
static struct run execute(struct sim_proc *p, struct livelock *ll, struct trap_frame *f,
                          const struct access *a, unsigned n, unsigned max_faults,
                          between_fn between, void *ctx)
{
    struct run r = { GAVE_UP, 0, 0 };
    uint8_t byte = 0;
    while (r.faults < max_faults) {
        sim_run(p);
        unsigned i = 0;
        for (; i < n; i++) {
            struct pt_translation t;
            bool present = pt_translate(vaddr(a[i].va), &t) == PT_OK;
            if (present && (pt_tr_prot(&t) & sim_need(a[i].op)) == sim_need(a[i].op)) {
                if (a[i].op == SIM_READ)
                    sim_access(p, a[i].va, SIM_READ, &byte);
                continue;
            }
            uint64_t domain = p->vm.c.domain_faults, err = sim_error_code(present, a[i].op);
            int o = vm_fault(&p->vm, a[i].va, err);
            r.faults++;
            if (!CHECK(VM_RESOLVED(o), "fault at 0x%lx: %s", (unsigned long)a[i].va,
                       vm_outcome_name((enum vm_outcome)o)))
                return r;
            const char *key;
            uint32_t bound = rp_owner_bound(p->vm.rp, &key);
            if (livelock_fault(ll, f, p->vm.c.domain_faults != domain, a[i].va, err, bound,
                               key)) {
                r.end = KILLED;
                return r;
            }
            break;
        }
        if (i == n) {
            for (i = 0; i < n; i++)
                if (a[i].op == SIM_WRITE)
                    SIM_EXPECT(sim_access(p, a[i].va, SIM_WRITE, &byte), SIM_NO_FAULT);
            if (tf(f)) {
                CHECK(livelock_step(ll, f), "the #DB after a step was refused");
                r.steps++;
            }
            CHECK(!tf(f), "TF left set after the instruction");
            r.end = DONE;
            return r;
        }
        if (between)
            between(ctx);
    }
    return r;
}

/* Heap pages 0 (A) and 1 (B) written, then `fill` more: under FIFO and
 * Clock with fill frames A and B are both on swap afterwards. */
static void prepare_movsq(struct sim_proc *p, unsigned fill)
{
    for (unsigned k = 0; k < 2 + fill; k++)
        SIM_EXPECT(sim_write(p, PG(k), (uint8_t)(0x40 + k)), VM_RESOLVED_ZERO_FILL);
}

static const struct access movsq[] = { { PG(0), SIM_READ }, { PG(1), SIM_WRITE } };

struct movsq_case {
    enum config_policy policy;
    uint32_t user_frames, quota;    /* quota: scope=local's (0: global) */
    uint32_t pff_max;               /* scope=pff's (0: not pff) */
    enum end end;
    unsigned faults;                /* when it ends */
    const char *key;                /* killed: the bound's key and value */
    uint32_t bound;
};

/* One movsq from A to B, both on swap, under the case's limit: with room
 * for both, two faults (A, then B) and one step; with one frame, the
 * third fault fires (the first two are A and B, stepping from B on, and
 * the third brings A back: two pages, more than 1). */
static void movsq_under(const void *arg)
{
    const struct movsq_case *c = arg;
    swap_sim_boot(256, c->policy, c->user_frames);
    if (c->quota)
        rp_configure_local(c->quota);
    if (c->pff_max) {
        struct rp_pff pff = { .window = 1000, .low = 0, .high = 1000, .min = 1,
                              .max = c->pff_max, .start = 1 };
        rp_configure_pff(&pff);
    }
    struct sim_proc p;
    spawn(&p, 8);
    uint32_t frames = c->quota ? c->quota : c->pff_max ? 1 : c->user_frames;
    prepare_movsq(&p, frames);
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 0);
    struct run r = execute(&p, &ll, &f, movsq, 2, 1000, NULL, NULL);
    CHECK(r.end == c->end && r.faults == c->faults, "%s after %u faults, want %s after %u",
          end_names[r.end], r.faults, end_names[c->end], c->faults);
    if (c->end == DONE)
        CHECK(r.steps == 1 && sim_read(&p, PG(1)) == 0x40, "steps %u, B holds 0x%x", r.steps,
              sim_read(&p, PG(1)));
    else
        CHECK(ll.bound == c->bound && strcmp(ll.key, c->key) == 0 && ll.n == c->bound + 1,
              "named %s=%u with %u pages", ll.key, ll.bound, ll.n);
    sim_exit(&p);
    swap_sim_all_back();
}

static const struct movsq_case movsq_cases[] = {
    { CONFIG_POLICY_FIFO, 1, 0, 0, KILLED, 3, "user_frames", 1 },
    { CONFIG_POLICY_FIFO, 2, 0, 0, DONE, 2, NULL, 0 },
    { CONFIG_POLICY_FIFO, 3, 0, 0, DONE, 2, NULL, 0 },
    { CONFIG_POLICY_CLOCK, 1, 0, 0, KILLED, 3, "user_frames", 1 },
    { CONFIG_POLICY_CLOCK, 2, 0, 0, DONE, 2, NULL, 0 },
    { CONFIG_POLICY_CLOCK, 3, 0, 0, DONE, 2, NULL, 0 },
    { CONFIG_POLICY_FIFO, 8, 1, 0, KILLED, 3, "quota", 1 },
    { CONFIG_POLICY_FIFO, 8, 2, 0, DONE, 2, NULL, 0 },
    { CONFIG_POLICY_FIFO, 8, 3, 0, DONE, 2, NULL, 0 },
    { CONFIG_POLICY_FIFO, 8, 0, 1, KILLED, 3, "pff_max", 1 },
    { CONFIG_POLICY_FIFO, 1, 0, 4, KILLED, 3, "user_frames", 1 },
};

/* A rep movsb of `pages` pages, one iteration per page boundary (those
 * that fault): each in a state of its own (RCX, RSI, RDI), each needing
 * its source and its destination page. With 2 frames it completes, two
 * faults and one step per page, and nothing fires. */
static void test_a_rep_movsb_over_many_pages_with_two_frames_completes(void)
{
    const unsigned pages = 12;
    swap_sim_boot(256, CONFIG_POLICY_FIFO, 2);
    struct sim_proc p;
    spawn(&p, 2 * pages);
    for (unsigned k = 0; k < pages; k++)
        sim_write(&p, PG(k), (uint8_t)(0x10 + k));
    struct livelock ll;
    livelock_reset(&ll);
    unsigned faults = 0, steps = 0;
    for (unsigned k = 0; k < pages; k++) {
        struct trap_frame f = frame_at(0x401000, (pages - k) * PAGE_SIZE);
        f.rsi = PG(k);
        f.rdi = PG(pages + k);
        struct access it[] = { { PG(k), SIM_READ }, { PG(pages + k), SIM_WRITE } };
        struct run r = execute(&p, &ll, &f, it, 2, 100, NULL, NULL);
        if (!CHECK(r.end == DONE, "page %u: %s after %u faults", k, end_names[r.end], r.faults))
            break;
        faults += r.faults;
        steps += r.steps;
    }
    CHECK(faults == 2 * pages && steps == pages, "%u faults, %u steps", faults, steps);
    for (unsigned k = 0; k < pages; k++)
        CHECK_EQ(sim_read(&p, PG(pages + k)), 0x10 + k);
    sim_exit(&p);
    swap_sim_all_back();
}

/* Another process that writes two pages of its own after each fault of
 * the stepped one, for a while: with 2 frames in all (global FIFO) it
 * takes both frames every time, so that the movsq faults on A once a
 * round and never reaches B; the rule waits (one page seen). When the
 * other one stops, A and then B come back and the movsq completes: the
 * rounds' faults and two more. */
struct rival {
    struct sim_proc *q;
    unsigned rounds, turn;
};

static void rival_runs(void *ctx)
{
    struct rival *r = ctx;
    if (r->turn >= r->rounds)
        return;
    r->turn++;
    for (unsigned k = 0; k < 2; k++)
        sim_write(r->q, PG(k), (uint8_t)r->turn);
}

static void test_another_process_taking_the_frames_in_between_does_not_fire(void)
{
    swap_sim_boot(256, CONFIG_POLICY_FIFO, 2);
    struct sim_proc p, q;
    spawn(&p, 8);
    spawn(&q, 8);
    prepare_movsq(&p, 2);
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 0);
    struct rival riv = { &q, 200, 0 };
    struct run r = execute(&p, &ll, &f, movsq, 2, 10000, rival_runs, &riv);
    CHECK(r.end == DONE && riv.turn == riv.rounds && r.faults == riv.rounds + 2 && r.steps == 1,
          "%s after %u faults and %u steps, %u of the rival's rounds", end_names[r.end],
          r.faults, r.steps, riv.turn);
    CHECK(sim_read(&p, PG(1)) == 0x40, "B holds 0x%x", sim_read(&p, PG(1)));
    sim_exit(&p);
    sim_exit(&q);
    swap_sim_all_back();
}

/* The same rival with 1 frame: while it runs the movsq faults on A only
 * (one page seen, no more than the bound); once it stops, the movsq
 * brings A and B back and the rule fires: the rounds' faults and two. */
static void test_another_process_in_between_does_not_hide_a_livelock(void)
{
    swap_sim_boot(256, CONFIG_POLICY_FIFO, 1);
    struct sim_proc p, q;
    spawn(&p, 8);
    spawn(&q, 8);
    prepare_movsq(&p, 1);
    struct livelock ll;
    livelock_reset(&ll);
    struct trap_frame f = frame_at(0x401000, 0);
    struct rival riv = { &q, 300, 0 };
    struct run r = execute(&p, &ll, &f, movsq, 2, 10000, rival_runs, &riv);
    CHECK(r.end == KILLED && riv.turn == riv.rounds && r.faults == riv.rounds + 2,
          "%s after %u faults, %u of the rival's rounds", end_names[r.end], r.faults, riv.turn);
    sim_exit(&p);
    sim_exit(&q);
    swap_sim_all_back();
}

/* rp_owner_bound: the lowest of what applies, named by its key. */
static void test_the_bound_is_the_lowest_limit_that_applies(void)
{
    struct { uint32_t limit, quota, pff_max; uint32_t want; const char *key; } cases[] = {
        { 0, 0, 0, 0, "user_frames" },
        { 5, 0, 0, 5, "user_frames" },
        { 5, 3, 0, 3, "quota" },
        { 5, 7, 0, 5, "user_frames" },
        { 0, 3, 0, 3, "quota" },
        { 5, 0, 4, 4, "pff_max" },
        { 5, 0, 6, 5, "user_frames" },
        { 0, 0, 6, 6, "pff_max" },
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        rp_reset();
        rp_configure(CONFIG_POLICY_FIFO, cases[c].limit);
        if (cases[c].quota)
            rp_configure_local(cases[c].quota);
        if (cases[c].pff_max) {
            struct rp_pff pff = { .window = 16, .low = 1, .high = 4, .min = 1,
                                  .max = cases[c].pff_max, .start = 1 };
            rp_configure_pff(&pff);
        }
        const char *key = NULL;
        uint32_t got = rp_owner_bound(0, &key);
        CHECK(got == cases[c].want && key && strcmp(key, cases[c].key) == 0,
              "limit %u quota %u pff_max %u: %u %s, want %u %s", cases[c].limit,
              cases[c].quota, cases[c].pff_max, got, key ? key : "(none)", cases[c].want,
              cases[c].key);
    }
    rp_reset();
}

/* The kill's lines at their widest: a pid below 1000, a name of 16
 * characters, 32 pages over a bound of 31 (LIVELOCK_PAGES - 1). */
static void test_the_kill_lines_name_rip_pages_and_bound_within_80_columns(void)
{
    struct livelock ll;
    livelock_reset(&ll);
    ll.n = LIVELOCK_PAGES;
    ll.bound = LIVELOCK_PAGES - 1;
    ll.key = "user_frames";
    fake_capture_start();
    livelock_report(&ll, 999, "sixteen-chars-xy", 0x0000008000000029ull);
    const char *said = fake_capture_end();
    char want[256];
    snprintf(want, sizeof want,
             "pagelab: killed pid 999 (sixteen-chars-xy): livelock at RIP 0x0000008000000029\n"
             "  one instruction needs %u+ heap/mmap pages at once, more than user_frames=%u\n",
             LIVELOCK_PAGES, LIVELOCK_PAGES - 1);
    CHECK(strcmp(said, want) == 0, "said: %s", said);
    for (const char *l = said; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        CHECK(len <= VGA_COLS, "%zu columns: %.*s", len, (int)len, l);
        l += len + (e != NULL);
    }
}

static const struct check_test tests[] = {
    CHECK_TEST(test_the_kill_lines_name_rip_pages_and_bound_within_80_columns),
    CHECK_TEST(test_the_second_domain_fault_of_a_data_access_in_one_state_sets_tf),
    CHECK_TEST(test_a_fetch_a_tf_of_the_programs_own_and_no_bound_do_not_step),
    CHECK_TEST(test_a_fault_that_brought_no_domain_page_changes_nothing),
    CHECK_TEST(test_bound_pages_pass_and_one_more_fires_at_every_bound),
    CHECK_TEST(test_pages_count_once_however_often_they_fault),
    CHECK_TEST(test_another_state_while_stepping_clears_tf_and_starts_over),
    CHECK_TEST(test_the_step_trap_is_taken_only_while_stepping),
    CHECK_TEST(test_the_bound_is_the_lowest_limit_that_applies),
    CHECK_CASE("movsq, FIFO, user_frames=1: killed at the third fault", movsq_under,
               &movsq_cases[0]),
    CHECK_CASE("movsq, FIFO, user_frames=2: two faults, one step", movsq_under,
               &movsq_cases[1]),
    CHECK_CASE("movsq, FIFO, user_frames=3: two faults, one step", movsq_under,
               &movsq_cases[2]),
    CHECK_CASE("movsq, Clock, user_frames=1: killed at the third fault", movsq_under,
               &movsq_cases[3]),
    CHECK_CASE("movsq, Clock, user_frames=2: two faults, one step", movsq_under,
               &movsq_cases[4]),
    CHECK_CASE("movsq, Clock, user_frames=3: two faults, one step", movsq_under,
               &movsq_cases[5]),
    CHECK_CASE("movsq, local, quota=1 (user_frames=8): killed, quota named", movsq_under,
               &movsq_cases[6]),
    CHECK_CASE("movsq, local, quota=2: two faults, one step", movsq_under, &movsq_cases[7]),
    CHECK_CASE("movsq, local, quota=3: two faults, one step", movsq_under, &movsq_cases[8]),
    CHECK_CASE("movsq, pff, pff_max=1 (user_frames=8): killed, pff_max named", movsq_under,
               &movsq_cases[9]),
    CHECK_CASE("movsq, pff, pff_max=4 but user_frames=1: killed, user_frames named",
               movsq_under, &movsq_cases[10]),
    CHECK_TEST(test_a_rep_movsb_over_many_pages_with_two_frames_completes),
    CHECK_TEST(test_another_process_taking_the_frames_in_between_does_not_fire),
    CHECK_TEST(test_another_process_in_between_does_not_hide_a_livelock),
};

int main(void)
{
    return check_main("livelock", tests, CHECK_COUNT(tests));
}
