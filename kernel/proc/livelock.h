/*
 * livelock.h - one instruction that needs more pages of the replacement
 * domain (kernel/proc/replace.h: heap and anonymous pages) at once than
 * its process may ever hold: found, so that the process is killed with a
 * named line instead of faulting for ever. With user_frames=1, a movsq
 * from one heap page to another faults on the source, whose frame is
 * taken from the destination; the restart faults on the destination,
 * whose frame is taken from the source; and so on, each fault resolved,
 * none of them progress.
 *
 * The rule (livelock.c says why it is sound):
 *   1. the second domain fault in a row taken in the same state (RIP,
 *      RSP, RFLAGS and the fifteen other general registers: a rep movs
 *      that moved on has another RCX, RSI, RDI) by a data access sets
 *      RFLAGS.TF in the frame the fault returns with: from then on, the
 *      process's next #DB says that an instruction retired (the
 *      single-step trap, SDM Vol. 3B 17.3.1.4), and a page fault before
 *      it that nothing retired since;
 *   2. while stepping, every domain fault in the same state adds its page
 *      to the pages the instruction has been seen to need;
 *   3. when those are more than rp_owner_bound (the most frames the
 *      process's domain pages can ever hold at once: user_frames=, or
 *      scope=local's quota=, or scope=pff's pff_max=, the lowest), the
 *      instruction can never complete: livelock_fault says so, the caller
 *      kills the process (livelock_report's two lines).
 * The #DB that ends a step clears TF again (livelock_step): the program
 * never sees it. A ring-3 #DB that is not one of these still kills the
 * process, as any other exception does.
 *
 * Users: proc_fault (kernel/proc/proc.c) for every ring-3 page fault it
 * resolved and every ring-3 #DB; the host test tests/host/test_livelock.c
 * with frames of its own.
 */
#ifndef KERNEL_PROC_LIVELOCK_H
#define KERNEL_PROC_LIVELOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

/* The distinct pages one stepped instruction is followed for. More than
 * any x86-64 instruction can touch without AVX (pagelab enables none,
 * CR4.OSXSAVE stays clear): a movs of 8 bytes misaligned on both sides
 * is 4 data pages, a code fetch 2 more, an FXSAVE area 2. A bound of
 * LIVELOCK_PAGES or more frames never fires (no instruction needs them). */
#define LIVELOCK_PAGES 32

/* The state the rule compares: the trap frame's registers, but TF (set
 * by the rule itself) and RF (set in the frame of any fault, SDM Vol. 3B
 * 17.3.1.1). */
#define LIVELOCK_REGS 18

struct livelock {
    uint64_t regs[LIVELOCK_REGS];   /* the state of the last domain fault */
    uint32_t same;                  /* domain faults in a row in that state */
    bool stepping;                  /* TF is set in the frame: ours */
    uint32_t n;                     /* distinct pages seen while stepping */
    uint64_t pages[LIVELOCK_PAGES];
    /* what livelock_report names, set when the rule fires */
    uint32_t bound;
    const char *key;
};

/* A fresh process's (zeroed also does). */
void livelock_reset(struct livelock *ll);

/* A resolved ring-3 page fault of the process ll follows: f its frame
 * (RFLAGS.TF may be set in it, or cleared); domain: the fault brought a
 * page of the replacement domain into a frame (vm_counters'
 * domain_faults moved), at cr2's page; err its error code; bound and key:
 * rp_owner_bound's (0: no bound, never fires). true: the instruction at
 * f->rip needs more pages at once than bound, and the caller kills the
 * process (after livelock_report). */
bool livelock_fault(struct livelock *ll, struct trap_frame *f, bool domain, uint64_t cr2,
                    uint64_t err, uint32_t bound, const char *key);

/* A ring-3 #DB of the process ll follows: true when it is the single step
 * livelock_fault asked for (TF cleared in f, ll back to its start; the
 * process goes on), false for any other (the caller kills, as before). */
bool livelock_step(struct livelock *ll, struct trap_frame *f);

/* The kill's two lines (the first within 80 columns for a name of up to
 * 16 characters and a pid below 1000, the second always): the RIP, the
 * pages seen, the bound and its key. */
void livelock_report(const struct livelock *ll, int pid, const char *name, uint64_t rip);

#endif
