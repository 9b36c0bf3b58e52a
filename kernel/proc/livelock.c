/*
 * livelock.c - the rule of livelock.h, and why it cannot fire for an
 * instruction that would complete.
 *
 * The premise: while TF is set, nothing retired. pagelab sets TF in the
 * frame of a fault and IRETQ returns with it; the single-step trap comes
 * after the first instruction that completes with TF set, before any
 * other instruction or interrupt (SDM Vol. 3B 17.3.1.4; Vol. 3A 6.9, the
 * priorities: the trap of the previous instruction before external
 * interrupts), and after each iteration of a REP string instruction
 * (seen under QEMU: one #DB per iteration, at the instruction's RIP with
 * RCX, RSI and RDI moved on). So a page
 * fault that arrives while the rule is stepping, before that #DB, is the
 * same instruction again, restarted: a fault leaves the state as it was
 * before the instruction (SDM Vol. 3A 6.5, faults), which is why the
 * registers also have to be the same (a check that would catch a REP
 * iteration retired without its trap). TF is set only after a data
 * access faulted (error code I/D clear), so the stepped instruction is
 * never SYSCALL (no data access), whose SYSRET would carry TF past the
 * system call; SYSCALL itself clears TF for the kernel (RING_FMASK).
 *
 * The argument, for one process P stepping one instruction I:
 *   - the pages of I: the addresses an x86-64 instruction touches are a
 *     function of its bytes and the registers (there are no gathers
 *     without AVX, which pagelab leaves off), and I's registers do not
 *     change while it is restarted; so every page a stepped fault brought
 *     in is one that I touches, and I completes only in an attempt that
 *     finds every one of them mapped at once. (The assumption: I's bytes
 *     do not change, which only another process writing the shared
 *     mapping I runs from could do.)
 *   - how those pages come back: a page of P's space becomes present
 *     only by a fault of P or a system call of P, and P makes neither
 *     between its last fault and that attempt; so all of them are
 *     present right after P's last fault, each in a frame of its own that
 *     P's fault gave it: P's own pages on the replacement list.
 *   - how many P can hold: rp_frame_new leaves at most user_frames=
 *     pages on the list in all, at most quota= of one process under
 *     scope=local, at most its quota of the moment under scope=pff,
 *     which never rises above pff_max= (rp_owner_bound, the lowest of
 *     those that apply). Other processes can take P's frames, never give
 *     it more.
 * So once more distinct pages than the bound were brought in for I, no
 * future attempt can complete, whatever the policy, the scope, the
 * scheduler or the other processes do: the rule fires then. It fires
 * after at most bound + 1 stepped faults that each brought a new page
 * (with user_frames=1 and the movsq: the third fault), but waits as long
 * as the faults bring back pages it has counted: another process
 * evicting I's page in between, or a policy that keeps choosing one of
 * I's own pages while others would do. The last is a livelock the rule
 * does not see: I's pages fit, the policy keeps them from being resident
 * together (OPT following a declared string that does not match what the
 * program touches can do that); it is no shortage of frames.
 *
 * Cost: without a bound below LIVELOCK_PAGES, nothing; with one, a
 * compare of the 18 registers at every domain fault, and a #DB for each
 * instruction that takes two domain faults in the same state (an access
 * across two pages neither of which is mapped).
 */
#include "livelock.h"
#include "addr.h"
#include "console.h"
#include "layout.h"
#include "mem.h"
#include "x86.h"

void livelock_reset(struct livelock *ll)
{
    memset(ll, 0, sizeof(*ll));
}

static void state_of(const struct trap_frame *f, uint64_t *r)
{
    const uint64_t gpr[] = { f->r15, f->r14, f->r13, f->r12, f->r11, f->r10, f->r9, f->r8,
                             f->rbp, f->rdi, f->rsi, f->rdx, f->rcx, f->rbx, f->rax };
    _Static_assert(sizeof(gpr) / sizeof(gpr[0]) + 3 == LIVELOCK_REGS, "the state's registers");
    memcpy(r, gpr, sizeof(gpr));
    r[15] = f->rip;
    r[16] = f->rsp;
    r[17] = f->rflags & ~(uint64_t)(RFLAGS_TF | RFLAGS_RF);
}

static void stop_stepping(struct livelock *ll, struct trap_frame *f)
{
    f->rflags &= ~(uint64_t)RFLAGS_TF;
    ll->stepping = false;
    ll->n = 0;
}

/* page joins the pages seen (once each, at most LIVELOCK_PAGES). */
static void seen(struct livelock *ll, uint64_t page)
{
    for (uint32_t i = 0; i < ll->n; i++)
        if (ll->pages[i] == page)
            return;
    if (ll->n < LIVELOCK_PAGES)
        ll->pages[ll->n++] = page;
}

bool livelock_fault(struct livelock *ll, struct trap_frame *f, bool domain, uint64_t cr2,
                    uint64_t err, uint32_t bound, const char *key)
{
    /* code, data, stack: resident for good once mapped; and without a
     * bound below LIVELOCK_PAGES nothing can fire (no limit, or one no
     * instruction reaches: nothing to follow, nothing to pay) */
    if (!domain || !bound || bound >= LIVELOCK_PAGES)
        return false;
    uint64_t r[LIVELOCK_REGS];
    state_of(f, r);
    bool same = ll->same && memcmp(r, ll->regs, sizeof(r)) == 0;
    if (!same) {
        if (ll->stepping)
            stop_stepping(ll, f);   /* something retired after all: start again */
        memcpy(ll->regs, r, sizeof(r));
        ll->same = 0;
    }
    ll->same++;
    uint64_t page = ALIGN_DOWN(cr2, PAGE_SIZE);
    if (!ll->stepping) {
        /* a program's own TF (it would die at its #DB anyway) is left alone */
        if (ll->same < 2 || (err & PF_ERR_FETCH) || (f->rflags & RFLAGS_TF))
            return false;
        f->rflags |= RFLAGS_TF;
        ll->stepping = true;
        ll->n = 0;
    }
    seen(ll, page);
    if (ll->n <= bound)
        return false;
    ll->bound = bound;
    ll->key = key;
    return true;
}

bool livelock_step(struct livelock *ll, struct trap_frame *f)
{
    if (!ll->stepping)
        return false;
    stop_stepping(ll, f);
    ll->same = 0;
    return true;
}

void livelock_report(const struct livelock *ll, int pid, const char *name, uint64_t rip)
{
    kprintf("pagelab: killed pid %d (%s): livelock at RIP 0x%016lx\n", pid, name, rip);
    kprintf("  one instruction needs %u+ heap/mmap pages at once, more than %s=%u\n", ll->n,
            ll->key, ll->bound);
}
