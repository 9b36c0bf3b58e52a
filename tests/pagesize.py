#!/usr/bin/env python3
"""pagesize.py - the page-size trade-off for `make experiments`
(tests/experiments.py calls experiment()), or alone:
`python3 tests/pagesize.py [--strategy S]`.

Boots build/<strategy>/test.img (QEMU/TCG, -cpu max, 512M), whose
in-guest suite maps each process size s of include/layout.h at USER_BASE
with 4 KiB, 2 MiB and 1 GiB pages and counts the page tables per level
(tests/guest/pagesize.c), and writes build/experiments/pagesize.csv:

  size,page,pages,tables,table_bytes,fragmentation,measured_overhead,
  formula_overhead,formula_optimum_page

tables: the process's page-table frames, its PML4 included (every
process has one), table_bytes = tables * 4 KiB; fragmentation: the real
internal fragmentation, pages * page - size; measured_overhead =
table_bytes + fragmentation. formula_overhead: the textbook's one flat
table, s*e/p + p/2 with e = 8 bytes per entry, and formula_optimum_page
its minimum, sqrt(2*s*e). Fails (returns False) if a cell is missing or
differs from what the address bits give (tests/pagesize_check.py).
"""
import argparse
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402
import pagesize_check  # noqa: E402

OUT = "build/experiments"
COLUMNS = ["size", "page", "pages", "tables", "table_bytes", "fragmentation",
           "measured_overhead", "formula_overhead", "formula_optimum_page"]
# bytes per entry: a table is a 4 KiB frame of PT_ENTRIES entries (8 bytes)
ENTRY = layout.constant("PAGE_SIZE") // layout.constant("PT_ENTRIES")


def formula_overhead(s, p):
    """The textbook's overhead of a process of s bytes in pages of p: its
    one flat table of s/p entries, plus half a page lost on average."""
    return s * ENTRY / p + p / 2


def formula_optimum(s):
    """The page size that minimises formula_overhead: sqrt(2 s e)."""
    return math.sqrt(2 * s * ENTRY)


def number(x):
    """x as the CSV shows it: an integer exactly, else 3 decimals."""
    return "%d" % x if x == int(x) else ("%.3f" % x).rstrip("0").rstrip(".")


def rows(cells):
    """CSV rows of the guest's cells ({(s, p): [(pages, tables, frag)]})."""
    out = []
    for p in pagesize_check.PAGES:
        for s in pagesize_check.SIZES:
            if (s, p) not in cells:
                continue
            pages, tables, frag = cells[(s, p)][0]
            n = sum(tables.values())
            table_bytes = n * layout.constant("PAGE_SIZE")
            out.append({"size": s, "page": p, "pages": pages, "tables": n,
                        "table_bytes": table_bytes, "fragmentation": frag,
                        "measured_overhead": table_bytes + frag,
                        "formula_overhead": number(formula_overhead(s, p)),
                        "formula_optimum_page": number(formula_optimum(s))})
    return out


def experiment(strategy, out_dir=OUT):
    """Boots the strategy's test image, writes out_dir/pagesize.csv and
    prints its path; True if every cell was measured and is exact."""
    b = qemu.Boot("build/%s/test.img" % strategy, mem="512M", cpu="max", timeout=120)
    try:
        halted = b.wait_for(qemu.HALTED)
        out = b.serial()
    finally:
        b.close()
    failed = []

    def record(ok, name, why=""):
        if not ok:
            failed.append("%s: %s" % (name, why))
        return ok
    if record(halted, "boot", out[-300:].replace("\n", " | ")):
        pagesize_check.check_test_image(record, "pagesize/%s" % strategy, out, "max")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "pagesize.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows(pagesize_check.parse(out)))
    print("experiments: %s" % path)
    for why in failed:
        print("experiments: pagesize: %s" % why)
    return not failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", default="offset")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    return 0 if experiment(a.strategy, a.out) else 1


if __name__ == "__main__":
    sys.exit(main())
