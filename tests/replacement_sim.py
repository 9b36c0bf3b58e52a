#!/usr/bin/env python3
"""replacement_sim.py - a reference simulator of page replacement, in the
manner of OSTEP's paging-policy.py, for the policies whose choices depend
only on the reference string: FIFO, Clock and OPT. tests/replace_checks.py
replays each guest workload's printed string here and requires the
kernel's fault count to be exactly the simulator's.

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

  python3 tests/replacement_sim.py fifo 3 1 2 3 4 1 2 5 1 2 3 4 5   -> 9
"""
import sys


def simulate(policy, frames, refs):
    """(faults, evictions) of policy with `frames` frames on refs."""
    if frames < 1:
        raise ValueError("at least one frame")
    resident = []           # arrival order; for clock, resident[0] is under the hand
    bits = {}
    faults = evictions = 0
    for i, page in enumerate(refs):
        if page in bits:
            bits[page] = True
            continue
        faults += 1
        if len(resident) == frames:
            evictions += 1
            if policy == "fifo":
                resident.pop(0)
            elif policy == "clock":
                while bits[resident[0]]:
                    bits[resident[0]] = False
                    resident.append(resident.pop(0))
                resident.pop(0)
            elif policy == "opt":
                never = len(refs)

                def next_use(p):
                    for j in range(i + 1, len(refs)):
                        if refs[j] == p:
                            return j
                    return never                # never again: farthest of all
                victim = max(resident, key=lambda p: (next_use(p), -p))
                resident.remove(victim)
            else:
                raise ValueError("unknown policy %r" % policy)
            bits = {p: bits[p] for p in resident}
        resident.append(page)   # behind the hand: the circle's tail
        bits[page] = True
    return faults, evictions


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    faults, _ = simulate(sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]])
    print(faults)
    return 0


if __name__ == "__main__":
    sys.exit(main())
