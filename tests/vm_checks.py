#!/usr/bin/env python3
"""vm_checks.py - the virtual-memory suite (user/vmsuite/) booted alone,
for tests/run_tests.py.

build/<strategy>/vm.img is the normal kernel with tests/guest/vm.cfg as
/boot/pagelab.cfg: its run list is vmsuite alone, so the free-frame counts
the suite checks move only by what it does. Each strategy's image is booted
once under QEMU/TCG and must show:
  - every case's PASS line (the names are the program's, user/vmsuite/*.c)
    and no FAIL line, then "vmsuite: N cases, 0 failed";
  - the one process the stack case has killed, with the kernel's named line
    at the guard page, computed here from include/layout.h: the page below
    USER_STACK_LIMIT under USER_STACK_TOP; the stack's PASS line names the
    same lowest page;
  - the costs that depend on the strategy: whether page tables are counted
    in free_frames, and the INVLPGs of a zero-fill, a copy and a reuse;
  - at the end no process left, every frame free again (the frame records'
    pages aside: the kernel keeps those once mapped), no reference held,
    no shared object alive.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402

STRATEGIES = ["identity", "table-offset", "offset", "temporary", "recursive"]
PAGE = layout.constant("PAGE_SIZE")
STACK_LOWEST = layout.constant("USER_STACK_TOP") - layout.constant("USER_STACK_LIMIT")
STACK_GUARD = STACK_LOWEST - PAGE
HEX = r"0x[0-9a-f]{16}"
# user/vmsuite/main.c's cases, in the order it runs them
CASES = ["stack", "lazyheap", "zeropage", "cow", "shm-fork", "shm-named", "shm-pages",
         "shm-name", "shm-count", "regions"]
GUARD_KILL = (r"pagelab: killed pid \d+ \(vmsuite\): page fault at 0x%016x, page not present,"
              r" write, user mode; there: nothing mapped; the stack's guard page, below its"
              r" limit; RIP %s\n" % (STACK_GUARD, HEX))
# Page tables: identity and table-offset take theirs from the loader's
# 1024-frame pool (NOTES.md, "Address spaces and processes"), the others
# from the general zone that free_frames counts.
POOL_STRATEGIES = ("identity", "table-offset")
# The INVLPGs of each resolved fault the suite measures (SDM Vol. 3A
# 4.10.4.1): vmstat charges a fault the invalidations of its edit of the
# faulting page's entry (kernel/proc/vm.c, EDIT), and each of these faults
# changes one present entry: exactly one INVLPG, whatever the strategy
# (the kernel zeroes through the new user leaf and reads the copy's source
# through the old one; the kmap slot the copy writes through is a kernel
# address, not the page's). temporary also remaps a slot for each table
# its walk reaches (one INVLPG each, how many depends on what the slots
# held): at least one there. No fault needs a full flush.
TLB_CASES = [("zeropage", "the write over the zero frame (zero-fill)"),
             ("cow", "the child's write (cow-copy)"),
             ("cow", "the parent's write (cow-reuse)")]


def tlb_want(strategy):
    return 1


FRAMES = re.compile(r"pagelab: frames: (\d+) free at boot, (\d+) free now; (\d+) references"
                    r" held\npagelab: shared objects: (\d+) alive; frame records: (\d+) frames,"
                    r" (\d+) at boot\n")


def check_strategy_costs(record, name, strategy, out):
    """What the counts of the suite depend on: where page tables come from,
    and the TLB work of each fault."""
    m = re.search(r"^vmsuite: page tables: (-?\d+) counted in free_frames, (-?\d+) not", out,
                  re.M)
    pool = strategy in POOL_STRATEGIES
    record(m is not None and (int(m.group(1)) == 0) == pool and (int(m.group(2)) == 0) != pool,
           name + ": vmsuite: page tables %s free_frames" % ("come from the loader's pool, not"
                                                               if pool else "are counted in"),
           m.group(0) if m else "missing")
    for case, what in TLB_CASES:
        m = re.search(r"^%s: tlb: %s: (\d+) invlpg, (\d+) flushes$" % (
            re.escape(case), re.escape(what)), out, re.M)
        want = tlb_want(strategy)
        got = m and int(m.group(1))
        record(m is not None and int(m.group(2)) == 0 and
               (got >= want if strategy == "temporary" else got == want),
               name + ": vmsuite: %s: %s%d invlpg, no flush" % (
                   what, "at least " if strategy == "temporary" else "", want),
               m.group(0) if m else "missing")


def check_serial(record, name, out):
    """The suite's lines and the kernel's end-of-boot counts in one boot's
    serial output."""
    for case in CASES:
        line = re.search(r"^%s: (PASS|FAIL): (.*)$" % re.escape(case), out, re.M)
        record(line is not None and line.group(1) == "PASS", name + ": vmsuite: %s" % case,
               line.group(0) if line else "no result line")
    fails = re.findall(r"^[a-z-]+: FAIL: .*$", out, re.M)
    record(not fails, name + ": vmsuite: no FAIL line", "; ".join(fails[:3]))
    record("vmsuite: %d cases, 0 failed\n" % len(CASES) in out,
           name + ": vmsuite ran its %d cases to the end, none failed" % len(CASES), "missing")
    stack = re.search(r"^stack: PASS: .*$", out, re.M)
    record(stack is not None and "lowest page 0x%x," % STACK_LOWEST in stack.group(0) and
           "guard 0x%x " % STACK_GUARD in stack.group(0),
           name + ": vmsuite: the stack case names the limit's lowest page 0x%x and the guard"
           " 0x%x" % (STACK_LOWEST, STACK_GUARD), stack.group(0) if stack else "missing")
    kills = re.findall(r"pagelab: killed pid .*\n", out)
    record(len(kills) == 1 and re.search(GUARD_KILL, out) is not None,
           name + ": the one process killed touched the stack's guard page 0x%x (not present,"
           " write) and the kernel says so" % STACK_GUARD, "".join(kills) or "no killed line")
    record("pagelab: processes: 1 started, 0 still alive (paused or waiting)\n" in out,
           name + ": vmsuite started alone, no process left", "missing")
    m = FRAMES.search(out)
    if not record(m is not None, name + ": the kernel's frame counts at the end of the boot",
                  "missing"):
        return
    at_boot, now, refs, shms, pages, pages_at_boot = (int(x) for x in m.groups())
    record(now == at_boot - (pages - pages_at_boot) and refs == 0 and shms == 0,
           name + ": every frame free again (%d at boot, %d now, %d frames the frame records took since), no"
           " reference held, no shared object alive" % (at_boot, now, pages - pages_at_boot),
           m.group(0).replace("\n", " | "))
    bad = [w for w in ["PANIC", "exception", "error:", "BUG", "BROKEN"] if w in out]
    record(not bad, name + ": no error, panic or exception", ", ".join(bad))


def run(record, strategies=STRATEGIES):
    for s in strategies:
        b = qemu.Boot("build/%s/vm.img" % s, mem="512M", timeout=120)
        try:
            name = "vm/%s" % s
            if record(b.wait_for(qemu.HALTED), name + ": boots to 'pagelab: halted'",
                      b.serial()[-600:].replace("\n", " | ")):
                check_serial(record, name, b.serial())
                check_strategy_costs(record, name, s, b.serial())
        finally:
            b.close()


def main():
    qemu.run_alone(run, sys.argv[1:] or STRATEGIES)


if __name__ == "__main__":
    main()
