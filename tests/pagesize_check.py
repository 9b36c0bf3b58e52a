#!/usr/bin/env python3
"""pagesize_check.py - the page-size trade-off's lines
(tests/guest/pagesize.c) against the 4-level structure, for
tests/run_tests.py (every QEMU boot of a test image), tests/bochs_check.py
(the test image under Bochs) and on its own:
`python3 tests/pagesize_check.py [--cpu C] [strategy...]` boots each
strategy's build/<strategy>/test.img at 512M.

The guest maps each process size of include/layout.h (PAGESIZE_SIZE_*) at
USER_BASE with 4 KiB, 2 MiB and 1 GiB pages, one fresh address space each,
and prints per cell
  pagesize: s <bytes> p <bytes> pages <n> tables <L4>+<L3>+<L2>+<L1> frag <bytes>
Here every cell must be there once, with exactly the pages, the tables of
each level and the internal fragmentation computed below from the address
bits alone (expected()); the guest's own line that the tables it counted
are the frames its mappings took, and that every frame came back, must
pass. Without 1 GiB pages (-cpu ...,-pdpe1gb) the 1 GiB column must be
named as skipped, and absent.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402

STRATEGIES = ["identity", "table-offset", "offset", "temporary", "recursive"]
SIZES = [layout.constant("PAGESIZE_SIZE_%d" % i)
         for i in range(1, layout.constant("PAGESIZE_SIZES") + 1)]
PAGE = layout.constant("PAGE_SIZE")
PAGES = [PAGE, layout.constant("PAGE_SIZE_2M"), layout.constant("PAGE_SIZE_1G")]
USER_BASE = layout.constant("USER_BASE")
LEVELS = layout.constant("PT_LEVELS")
# address bits: the page offset, then one index field per level
OFFSET_BITS = PAGE.bit_length() - 1                           # 12
INDEX_BITS = layout.constant("PT_ENTRIES").bit_length() - 1   # 9
LINE = re.compile(r"^pagesize: s (\d+) p (\d+) pages (\d+) tables (\d+)\+(\d+)\+(\d+)\+(\d+)"
                  r" frag (\d+)$", re.M)
SKIP_1G = ("pagesize: p %d skipped: the CPU has no 1 GiB pages (CPUID 80000001h EDX[26])"
           % PAGES[2])
GUEST_OK = re.compile(r"^(PASS|FAIL): guest/[\w-]+: pagesize: tables counted = frames taken;"
                      r" all back(.*)$", re.M)


def shift(level):
    """The lowest address bit of a level's index: an entry of the level
    maps 1 << shift(level) bytes (12, 21, 30, 39)."""
    return OFFSET_BITS + INDEX_BITS * (level - 1)


def leaf_level(p):
    """The level whose entries are pages of p bytes: 1, 2 or 3."""
    for level in range(1, LEVELS):
        if p == 1 << shift(level):
            return level
    raise ValueError("no level maps pages of %d bytes" % p)


def expected(s, p):
    """(pages, {level: tables}, fragmentation) of s bytes at USER_BASE in
    pages of p. A table of level L (below the PML4) exists for each
    distinct index at level L + 1 that the range's addresses use, i.e. for
    each distinct value of their bits from shift(L + 1) up, and only if
    the pages are no larger than an entry of level L (a 2 MiB page is a
    level-2 entry: no level-1 table under it). The PML4 is counted once:
    every process has its own."""
    pages = -(-s // p)
    first, last = USER_BASE, USER_BASE + pages * p - 1
    tables = {LEVELS: 1}
    for level in range(1, LEVELS):
        tables[level] = ((last >> shift(level + 1)) - (first >> shift(level + 1)) + 1
                         if leaf_level(p) <= level else 0)
    return pages, tables, pages * p - s


def parse(out):
    """{(s, p): [(pages, {level: tables}, frag), ...]} of the guest's lines
    (a list: each cell must be there once)."""
    cells = {}
    for m in LINE.finditer(out):
        s, p, pages, l4, l3, l2, l1, frag = (int(x) for x in m.groups())
        cells.setdefault((s, p), []).append((pages, {4: l4, 3: l3, 2: l2, 1: l1}, frag))
    return cells


def show(pages, tables, frag):
    return "pages %d tables %s frag %d" % (
        pages, "+".join(str(tables[l]) for l in range(LEVELS, 0, -1)), frag)


def has_1g_pages(cpu, out):
    """Whether the boot's CPU has 1 GiB pages: known for QEMU's models the
    tests use (max has them, ",-pdpe1gb" takes them away); for any other
    (KVM's host, Bochs's model) what the kernel's "CPU features:" line
    read from CPUID."""
    if cpu and "-pdpe1gb" in cpu:
        return False
    if cpu == "max":
        return True
    m = re.search(r"^CPU features:.* ([+-])1GiB-pages\b", out, re.M)
    return m is not None and m.group(1) == "+"


def check_test_image(record, name, out, cpu=None):
    """A test image's boot with QEMU's -cpu cpu (None: not QEMU's, e.g.
    Bochs): every cell exact; the guest's frame check passed; the 1 GiB
    column there, or named as skipped on a CPU without 1 GiB pages."""
    page1g = has_1g_pages(cpu, out)
    cells = parse(out)
    pages = PAGES if page1g else PAGES[:2]
    want = {(s, p): expected(s, p) for p in pages for s in SIZES}
    wrong = ["s %d p %d: %s, want %s" % (s, p, "; ".join(show(*c) for c in cells.get((s, p), []))
                                         or "missing", show(*w))
             for (s, p), w in sorted(want.items()) if cells.get((s, p)) != [w]]
    wrong += ["s %d p %d: not asked for" % k for k in sorted(set(cells) - set(want))]
    record(not wrong, name + ": pagesize: the %d cells' pages, tables per level and"
           " fragmentation are the address bits'" % len(want), "; ".join(wrong[:3]))
    guest = GUEST_OK.findall(out)
    record(len(guest) == 1 and guest[0][0] == "PASS",
           name + ": pagesize: each cell's tables are the frames it took, all back",
           "; ".join(g[0] + g[1] for g in guest) or "missing")
    record((SKIP_1G in out) == (not page1g),
           name + ": pagesize: the 1 GiB column %s" % ("measured" if page1g else
                                                      "named as skipped (no 1 GiB pages)"),
           "skip line %s" % ("present" if SKIP_1G in out else "missing"))


def run(record, strategies=STRATEGIES, cpu="max"):
    for s in strategies:
        b = qemu.Boot("build/%s/test.img" % s, mem="512M", cpu=cpu, timeout=120)
        try:
            name = "pagesize/%s%s" % (s, "" if cpu == "max" else "/" + cpu)
            if record(b.wait_for(qemu.HALTED), name + ": boots to 'pagelab: halted'",
                      b.serial()[-600:].replace("\n", " | ")):
                check_test_image(record, name, b.serial(), cpu)
        finally:
            b.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("strategies", nargs="*", default=STRATEGIES)
    ap.add_argument("--cpu", default="max", help="QEMU -cpu (e.g. qemu64,-pdpe1gb)")
    a = ap.parse_args()
    qemu.run_alone(run, a.strategies, a.cpu)


if __name__ == "__main__":
    main()
