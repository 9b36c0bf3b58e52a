/*
 * replace.h - page replacement: a limit on the frames user pages may
 * hold, and what happens at the limit: a victim page is chosen by the
 * policy, written to swap if it is dirty (kernel/mm/swap.h), and its leaf
 * replaced by a swap entry naming its slot (include/pte.h); a later fault
 * on it reads it back (kernel/proc/vm.c).
 *
 * The replacement domain: the private pages of heap and anonymous
 * regions (VM_HEAP, VM_ANON), the memory a program asks for. A program's
 * image (code and data) and its stack stay resident and are not counted:
 * so that a workload's reference string is the only thing competing for
 * its frames (an experiment with 3 frames has 3 frames of data, as in
 * OSTEP's simulator), and a program always has the pages it needs to run
 * its next instruction. A page shared by several spaces (copy-on-write
 * after fork, before its first write) is counted once, for the space that
 * brought it in (its owner; another sharer when that one lets go), and is
 * evicted from every space at once: each sharer's leaf becomes the same
 * swap entry, the slot counting one reference per entry (Linux finds the
 * sharers through its reverse map; pagelab looks at the same address in
 * every space, where fork keeps them). Clock reads and clears the owner's
 * Accessed bit only. Shared-memory objects (VM_SHARED) are outside the
 * domain.
 *
 * The limit, the policy and the scope come from the boot configuration
 * (kernel/config.h: user_frames=, replace=, scope=). Without user_frames=
 * there is no limit and nothing is evicted unless the frame allocator runs
 * dry. The resident pages sit on one circular list through their frame
 * records (kernel/mm/frame_meta.h: next, prev), in the order they came
 * in; each record names its owner (a replacement id, one per live
 * address space) and its page, so a victim's leaf is found with one walk
 * of the owner's space.
 *
 * Policies: FIFO (the oldest page goes), Clock (the oldest page whose
 * Accessed bit is clear goes; one whose bit is set has it cleared and is
 * passed over once: second chance), OPT (Belady's optimum, for a
 * workload that declares its reference string: rp_declare), NRU (the
 * lowest class of 2 * Accessed + Modified, the oldest of a class; every
 * timer tick clears the Accessed bits) and aging (an 8-bit counter per
 * page, shifted right at every tick with the Accessed bit entering at
 * the top; the lowest counter goes). NRU and aging sample on the timer
 * (rp_tick), so what they choose depends on where the ticks fall between
 * references; the workloads of tests/replace_checks.py pace themselves to
 * a known number of references per tick (user/refs.h) so that the
 * simulator can replay them exactly.
 *
 * Scopes: global (any process's page may go), local (quota=: a process
 * at its quota gives up one of its own pages, by the same policy over its
 * own pages only; Clock keeps a hand per process) and pff (local, with
 * each process's quota moved by its page-fault frequency: at the end of
 * every window of pff_window= ticks, a process that took more than
 * pff_high= faults in it while at its quota gets one frame more, up to
 * pff_max= and as long as the quotas add up to less than the limit; one
 * that took fewer than pff_low= gets one frame less, down to pff_min=;
 * each change is a "pff: ..." line. A process over a shrunk quota gives
 * its pages up at its own next fault, or first of all at the limit).
 *
 * Clearing an Accessed bit (Clock's second chance, the samples) follows
 * the TLB rule in kernel/mm/pt_accessed.c: one INVLPG when the page's
 * space is the active one (a cached translation would let later
 * references skip setting A: SDM Vol. 3A 4.8 and 4.10.4), none for an
 * inactive space.
 */
#ifndef KERNEL_PROC_REPLACE_H
#define KERNEL_PROC_REPLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "pt.h"

/* Why no frame could be had for a page of the domain. */
enum rp_status {
    RP_OK = 0,
    RP_ERR_NO_VICTIM,   /* at the limit, and every resident page is shared or pinned */
    RP_ERR_SWAP_NONE,   /* a victim needs a slot and there is no swap area */
    RP_ERR_SWAP_FULL,   /* a victim needs a slot and every slot is in use */
    RP_ERR_SWAP_IO,     /* every victim tried failed to be written (swap.c said why) */
    RP_ERR_NO_FRAMES,   /* the frame allocator is empty and nothing could be evicted */
    RP_STATUS_COUNT
};

/* What replacement did, in all (rp_get_stats) or to one owner's pages. */
struct rp_counters {
    uint64_t evictions;     /* pages taken from their frames */
    uint64_t writebacks;    /* of those, written to swap first (dirty, or no valid copy) */
    uint64_t clean_drops;   /* of those, dropped: a valid swap copy, not written since */
    uint64_t scanned;       /* list entries the policy looked at */
    uint64_t a_cleared;     /* Accessed bits cleared (second chances) */
};

/* Forgets every owner and page: a new machine (vm_init, at boot and in
 * the host tests' every boot). No limit until rp_init or rp_configure. */
void rp_reset(void);

/* Once, after config_init, swap_init and vm_init: the limit and the
 * policy the configuration asks for, one "replacement: ..." line. */
void rp_init(void);

/* The same without the configuration file or a line (the host tests):
 * limit 0 is none. */
void rp_configure(enum config_policy policy, uint32_t limit);
/* scope=local with quota frames each (0: back to global). */
void rp_configure_local(uint32_t quota);

/* scope=pff's settings (the configuration's pff_ keys and quota=, or a
 * host test's): window in ticks, low and high faults per window, the
 * quota's bounds and every process's first quota. */
struct rp_pff {
    uint32_t window, low, high, min, max, start;
};
void rp_configure_pff(const struct rp_pff *p);

/* A timer tick (now: the tick count), from ring 3 or the idle loop, never
 * while the kernel edits a table (it runs with interrupts off): NRU and
 * aging sample the Accessed bits; scope=pff ends a window every
 * pff_window= ticks. */
void rp_tick(uint64_t now);
/* Ticks that sampled so far (NRU and aging; 0 under the other policies). */
uint64_t rp_samples(void);

/* A replacement id for an address space (its vm's), RP_NO_OWNER when all
 * RP_OWNERS are in use (twice PROC_MAX: every process, and exec's new
 * space beside the old, with room for the host tests' many). */
#define RP_OWNERS (2 * PROC_MAX)
#define RP_NO_OWNER 0xFFu
uint8_t rp_owner_new(struct pt_space *as);
/* The space's pages must all be gone from the list (vm_destroy drops them
 * first). */
void rp_owner_free(uint8_t id);
/* The pid owner id's "pff: ..." lines name. */
void rp_owner_label(uint8_t id, int pid);
/* Its quota now: scope=local's quota=, scope=pff's own (0: none, global). */
uint32_t rp_owner_quota(uint8_t id);
/* The most frames owner id's pages can ever hold at once in this
 * configuration, and the key that sets it (*key): the lowest of the
 * limit (user_frames=, on every page together), scope=local's quota= and
 * scope=pff's pff_max= (above which its quota never rises); 0 and
 * "user_frames" without any of them. kernel/proc/livelock.c's bound. */
uint32_t rp_owner_bound(uint8_t id, const char **key);

/* A frame (refs 1, contents undefined) for the domain page va of owner
 * id, evicting a page first when the limit (or an empty allocator) asks
 * for it. The caller maps it and then calls rp_track. pinned_lo/hi: a
 * range of owner id's pages that must not be evicted now (a system call's
 * buffer the kernel is about to use, the page being brought in); 0, 0
 * for none. */
enum rp_status rp_frame_new(uint8_t id, uint64_t pinned_lo, uint64_t pinned_hi, paddr_t *out);

/* The domain page va of owner id is now mapped to f (a fresh frame of
 * rp_frame_new, or one read back from swap): on the list, newest. */
void rp_track(uint8_t id, paddr_t f, uint64_t va);

/* Owner id's mapping of f (a frame rp_track put on the list) goes away
 * and the caller will drop that reference next: with the last one f
 * leaves the list (and its slot copy, if any, is released); otherwise, if
 * id was its owner, another space that maps f at va becomes the owner. */
void rp_untrack(uint8_t id, paddr_t f, uint64_t va);

/* replace=opt's knowledge of the future (SYS_REFS): owner id's reference
 * string, refs[k] (below SYS_REFS_PAGES) the page base + refs[k] *
 * PAGE_SIZE, and where in it the owner is: the uint32 at pos_va in its
 * space, read at each eviction. Copies refs (n at most SYS_REFS_MAX; n = 0
 * forgets); one string per owner, a later declaration replaces it. OPT
 * takes the page whose next reference is farthest (never: farthest of
 * all, the lowest page first); a page whose owner declared nothing goes
 * before any of them, oldest first. */
void rp_declare(uint8_t id, uint64_t base, const uint32_t *refs, uint32_t n, uint64_t pos_va);

/* Resident pages: in all, and of one owner. */
uint32_t rp_resident(void);
uint32_t rp_owner_resident(uint8_t id);
/* The limit (0: none). */
uint32_t rp_limit(void);
/* The policy in force (rp_init's or rp_configure's). */
enum config_policy rp_policy(void);

void rp_get_stats(struct rp_counters *all);
void rp_owner_stats(uint8_t id, struct rp_counters *out);

const char *rp_status_name(enum rp_status st);

#endif
