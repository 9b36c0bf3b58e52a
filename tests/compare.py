"""compare.py - the strategy comparison table printed by `make test`.

One row per strategy: its test results and oracle agreement (collected by
run_tests.py while it boots), then what each operation costs, measured by
the strategy's bench kernel under QEMU -icount (bench.py --quick): guest
instructions per translate / map / unmap of a 4 KiB page, page-table entry
reads and writes and invlpgs per operation, page-table frames in use, and
the virtual address space the strategy reserves for itself.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


class Row:
    def __init__(self):
        self.passed = self.failed = 0
        self.oracle_ok = self.oracle_total = 0
        self.tables_boot = self.tables_suite = None
        self.reserved = None


rows = {}


def row(strategy):
    return rows.setdefault(strategy, Row())


def note_result(strategy, ok):
    r = row(strategy)
    if ok:
        r.passed += 1
    else:
        r.failed += 1


def note_oracle(strategy, agreeing, total):
    r = row(strategy)
    r.oracle_ok += agreeing
    r.oracle_total += total


def note_stat(strategy, line):
    """A 'STAT: k=v ...' line from the test kernel."""
    r = row(strategy)
    for kv in line.split()[1:]:
        k, v = kv.split("=")
        if k == "tables_after_boot":
            r.tables_boot = int(v)
        elif k == "tables_after_suite":
            r.tables_suite = int(v)
        elif k == "reserved_va":
            r.reserved = int(v)


def human_bytes(n):
    if n is None:
        return "-"
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return "%g %s" % (round(n / size, 1), unit)
    return "%d B" % n


def print_table(strategies):
    bench.rows.clear()
    os.makedirs(bench.OUT, exist_ok=True)
    bench.run_strategies(strategies, "icount", bench.ICOUNT)
    cols = [("strategy", 12), ("tests", 9), ("oracle", 9), ("transl", 6), ("map", 5),
            ("unmap", 5), ("rd/wr map", 9), ("rd/wr unmap", 11), ("invlpg m/u/p", 12),
            ("alt.invlpg", 10), ("tables", 7), ("after", 5), ("reserved VA", 11)]
    print("\nstrategy comparison (guest instructions under QEMU -icount; per 4 KiB operation)")
    print(" ".join("%-*s" % (w, n) for n, w in cols))
    for s in strategies:
        r = row(s)
        v = lambda m: bench.value(s, m)  # noqa: E731
        fmt = lambda x: "-" if x is None else ("%g" % x)  # noqa: E731
        cells = [s, "%d/%d" % (r.passed, r.passed + r.failed),
                 "%d/%d" % (r.oracle_ok, r.oracle_total),
                 fmt(v("translate_insns")), fmt(v("map_4k_insns")), fmt(v("unmap_4k_insns")),
                 "%s/%s" % (fmt(v("map_4k_pte_reads")), fmt(v("map_4k_pte_writes"))),
                 "%s/%s" % (fmt(v("unmap_4k_pte_reads")), fmt(v("unmap_4k_pte_writes"))),
                 "%s/%s/%s" % (fmt(v("map_4k_invlpg")), fmt(v("unmap_4k_invlpg")),
                               fmt(v("protect_4k_invlpg"))),
                 fmt(v("translate_alternating_invlpg")),
                 fmt(r.tables_boot), fmt(r.tables_suite), human_bytes(r.reserved)]
        print(" ".join("%-*s" % (w, c) for (_, w), c in zip(cols, cells)))
    print("tables: page-table frames reachable from CR3 after boot and after the in-guest suite;"
          " alt.invlpg: invlpg per translate alternating between two distant addresses")
    print_process_table(strategies)


# Linux 6.1 on the same QEMU 7.2 TCG, -icount shift=0, mitigations=off
# (../shared/anchors/vm.md): the reference row of the process table and
# the reference column of bench.py's page-fault table and plot. The only
# copy of these numbers: everything else reads them from here.
LINUX = {"syscall_null_insns": 307, "yield_one_way_insns": 4050,
         "fault_zero_fill_insns": 6745,       # demand-zero write fault, zeroing (ERMS rep stosb)
         "fault_zero_page_insns": 1283,       # read fault mapping the shared zero page
         "fault_cow_copy_insns": 11539,       # copy-on-write fault in the child, with the copy
         "fault_cow_reuse_insns": 1394,       # write fault of the last sharer, no copy
         "fork_per_page_insns": 135,          # fork, per mapped page (slope)
         "munmap_touched_page_insns": 10336,  # munmap of one touched page
         "mprotect_page_insns": 2649}         # mprotect of one page
PROCESS_COLS = [("syscall_null_insns", "null call", 9), ("yield_one_way_insns", "yield 1-way", 11),
                ("space_build_64_insns", "build 64 pages", 14),
                ("space_fork_64_insns", "fork 64 pages", 13),
                ("space_switch_insns", "switch (CR3)", 12),
                ("space_destroy_64_insns", "destroy", 8)]


def print_process_table(strategies):
    """Processes and inactive address spaces, per strategy (the bench
    kernel's figures, measured by print_table's run), with Linux's."""
    print("\nprocesses (guest instructions under QEMU -icount): a SYS_GETPID round trip, a yield"
          " to another process, and an address space of 64 pages built, forked, switched to and"
          " torn down while inactive")
    print("%-12s " % "strategy" + " ".join("%-*s" % (w, n) for _, n, w in PROCESS_COLS))
    fmt = lambda x: "-" if x is None else ("%g" % x)  # noqa: E731
    for s in list(strategies) + ["linux-6.1"]:
        cells = [fmt(LINUX.get(m) if s == "linux-6.1" else bench.value(s, m))
                 for m, _, _ in PROCESS_COLS]
        print("%-12s " % s + " ".join("%-*s" % (w, c) for (_, _, w), c in zip(PROCESS_COLS, cells)))
