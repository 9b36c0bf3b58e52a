#!/usr/bin/env python3
"""replacement_sim.py - a reference simulator of page replacement, in the
manner of OSTEP's paging-policy.py: FIFO, Clock and OPT, whose choices
depend only on the reference string, and NRU and aging, whose choices also
depend on where the clock ticks fall (given here as a tick before every
per_tick-th reference, the first included: the pace user/refs.h keeps).
tests/replace_checks.py replays each guest workload's printed string here
and requires the kernel's counts to be exactly the simulator's.

Written from the textbook rules, not from kernel/proc/replace.c:
  - FIFO: on a miss with every frame full, the page resident longest goes.
  - Clock: the resident pages in a circle in arrival order, a hand at the
    oldest. A reference sets the page's bit (a page brought in is
    referenced at once, so it starts with its bit set). On a miss with
    every frame full: while the page under the hand has its bit set, the
    bit is cleared and the hand moves on; the page under the hand then
    goes, and the hand moves past it. The new page joins the circle just
    behind the hand (it is looked at last).
  - OPT (Belady's MIN): the page whose next reference is farthest in the
    future goes (one never referenced again first; ties: the lowest page
    number, a rule that changes no fault count).
  - NRU (Tanenbaum, "Modern Operating Systems", 3.4.2): every tick clears
    every page's R (Accessed) bit; the victim is a page of the lowest
    class 2R + M, the oldest of its class. M: the page must be written to
    be evicted (written since it was brought in, or never written out).
  - Aging (the same book, 3.4.7): every tick shifts each page's 8-bit
    counter right by one with its R bit entering at the top, then clears
    R; the victim has the lowest counter, the R bit of the tick now
    running counted above the counter (256 R + counter), the oldest of
    equals. A page comes in with counter 0.

Write-backs: an evicted page is written to swap if it is M, dropped
otherwise; its copy is then valid until it is written again. A swap-in is
a miss on a page evicted before.

  python3 tests/replacement_sim.py fifo 3 1 2 3 4 1 2 5 1 2 3 4 5   -> 9
  (a page number followed by r is a read; --per-tick K sets the pace)
"""
import sys

POLICIES = ("fifo", "clock", "opt", "nru", "aging")


def run(policy, frames, refs, reads=None, per_tick=1):
    """{faults, evictions, writebacks, swapins} of policy with `frames`
    frames on refs (reads[i]: reference i reads; None: all write)."""
    if frames < 1:
        raise ValueError("at least one frame")
    if policy not in POLICIES:
        raise ValueError("unknown policy %r" % policy)
    reads = reads or [False] * len(refs)
    resident = []           # arrival order; for clock, resident[0] is under the hand
    bits, age, dirty, copy = {}, {}, {}, set()
    c = {"faults": 0, "evictions": 0, "writebacks": 0, "swapins": 0}
    for i, page in enumerate(refs):
        if i % per_tick == 0 and policy in ("nru", "aging"):
            for p in resident:                      # the tick's sample
                age[p] = (age[p] >> 1) | (0x80 if bits[p] else 0)
                bits[p] = False
        write = not reads[i]
        if page in bits:
            bits[page] = True
            dirty[page] = dirty[page] or write
            continue
        c["faults"] += 1
        c["swapins"] += page in copy
        if len(resident) == frames:
            c["evictions"] += 1
            if policy == "fifo":
                victim = resident[0]
            elif policy == "clock":
                while bits[resident[0]]:
                    bits[resident[0]] = False
                    resident.append(resident.pop(0))
                victim = resident[0]
            elif policy == "opt":
                never = len(refs)

                def next_use(p):
                    for j in range(i + 1, len(refs)):
                        if refs[j] == p:
                            return j
                    return never                # never again: farthest of all
                victim = max(resident, key=lambda p: (next_use(p), -p))
            else:
                def key(k):
                    p = resident[k]
                    if policy == "nru":
                        m = dirty[p] or p not in copy
                        return (2 * bits[p] + m, k)
                    return (256 * bits[p] + age[p], k)
                victim = resident[min(range(len(resident)), key=key)]
            if dirty[victim] or victim not in copy:
                c["writebacks"] += 1
            copy.add(victim)
            resident.remove(victim)
            for d in (bits, age, dirty):
                del d[victim]
        resident.append(page)   # behind the hand: the circle's tail
        bits[page], age[page], dirty[page] = True, 0, write
    return c


def simulate(policy, frames, refs, reads=None, per_tick=1):
    """(faults, evictions)."""
    c = run(policy, frames, refs, reads, per_tick)
    return c["faults"], c["evictions"]


def main():
    args = sys.argv[1:]
    per_tick = 1
    if args[:1] == ["--per-tick"]:
        per_tick, args = int(args[1]), args[2:]
    if len(args) < 3:
        sys.stderr.write(__doc__)
        return 2
    refs = [int(x.rstrip("r")) for x in args[2:]]
    reads = [x.endswith("r") for x in args[2:]]
    faults, _ = simulate(args[0], int(args[1]), refs, reads, per_tick)
    print(faults)
    return 0


if __name__ == "__main__":
    sys.exit(main())
