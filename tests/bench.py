#!/usr/bin/env python3
"""bench.py - `make bench`: what each strategy costs, and how the loader
and the frame allocator scale with memory.

1. Every strategy's bench kernel (tests/guest/variant_bench.c) under QEMU/TCG
   with -icount shift=0: the guest TSC then counts retired instructions, so
   every "_insns" figure is exact and repeatable (medians over 201 runs
   inside the guest). At its end the kernel runs user/faultbench.c alone:
   page faults of each kind, fork against the pages it maps, munmap and
   mprotect, timed from ring 3 ("faultbench: <metric> <value>" lines),
   then user/swapbench.c under FIFO and under Clock with user_frames=32:
   a swap-in, evictions with and without write-back, Clock's scan per
   frame ("swapbench: ..." lines).
2. The offset bench kernel at 128 MiB, 1 GiB, 8 GiB and 512 GiB of RAM
   (512 GiB backed by a sparse file), with and without 1 GiB pages: boot
   stages, window page-table frames, allocation and free cost.
3. Wall-clock boot of the normal image next to a bare MBR that halts at
   once (medians and fastest of WALL_RUNS alternating runs, plain TCG), at
   128 MiB (anonymous RAM and a sparse file) and 512 GiB.
4. With --kvm and /dev/kvm present: the same kernels under KVM, where the
   TSC counts cycles.
Writes build/bench/results.csv (strategy,metric,value,unit), the plots
strategies.png, memory.png, faults.png, fork.png, swap.png and clock.png,
and summary.md, and ends on their paths.
--plot-only CSV measures nothing: it redraws the plots and summary.md from
a results.csv (this run's, or docs/bench's for NOTES.md) into --out.
"""
import argparse
import csv
import math
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402

OUT = "build/bench"
STRATEGIES = ["identity", "table-offset", "offset", "temporary", "recursive"]
MEMS = ["128M", "1G", "8G", "512G"]
ICOUNT = ["-icount", "shift=0,sleep=off"]
WALL_RUNS = 15
rows = []


def add(strategy, metric, value, unit):
    rows.append((strategy, metric, value, unit))


def memory_args(mem, backend=None):
    """A large guest gets its RAM from a sparse file: nothing is allocated
    on the host until the guest touches it. backend="file" asks for the
    same for a small guest (so that two sizes differ in size only)."""
    big = mem.endswith("G") and int(mem[:-1]) >= 64
    if not big and backend != "file":
        return []
    path = os.path.join(OUT, "ram-%s" % mem.lower())
    return ["-object", "memory-backend-file,id=ram,size=%s,mem-path=%s,share=on,prealloc=off"
            % (mem, path), "-machine", "memory-backend=ram"]


PINGPONG = re.compile(r"pingpong \d+: (\d+) yields, (\d+) TSC ticks")
# user/faultbench.c: one figure a line (guest instructions, a median, its
# baseline taken out), fork's points by heap pages, and vmstat's count of
# the faults each figure is about
FAULTBENCH = re.compile(r"faultbench: (\w+) (\d+(?:\.\d+)?)$")
FORK_POINT = re.compile(r"faultbench: fork_pages (\d+) (\d+)$")
FAULT_KINDS = re.compile(r"faultbench: kinds (\w+) (\d+) of (\d+)$")


# the bench kernel's last line, at the start of a line: "faultbench: done"
# and "swapbench: done" end with the same words
DONE = "\nbench: done"


def bench_boot(image, mem, cpu, extra, marker=DONE, timeout=300):
    b = qemu.Boot(image, mem=mem, cpu=cpu, extra=extra + memory_args(mem), timeout=timeout)
    try:
        if not b.wait_for(marker):
            sys.stderr.write("bench: %s (%s, %s) did not finish:\n%s\n"
                             % (image, mem, cpu, b.serial()[-1500:]))
            return {}
        out = {}
        pingpong = []
        for line in b.serial().splitlines():
            if line.startswith("BENCH: "):
                strategy, metric, value, unit = line[7:].split(",")
                out[metric] = (int(value), unit)
            m = PINGPONG.match(line)
            if m:
                pingpong.append(int(m.group(2)) / (2.0 * int(m.group(1))))
            faultbench_line(line, out, image)
            swapbench_line(line, out, image)
        # user/pingpong.c: each copy's window holds 2 x N one-way switches;
        # the mean of the two copies
        if len(pingpong) == 2:
            out["yield_one_way_insns"] = (int(round(sum(pingpong) / 2)), "tsc")
        return out
    finally:
        b.close()


def faultbench_line(line, out, image):
    """One line of user/faultbench.c into out (metric -> (value, unit)):
    its figures as they are (the slope has a decimal), fork's points as
    fork_<P>_pages_insns; a kinds line that counted fewer faults of the
    kind than samples is said on stderr (the figure then mixes kinds)."""
    m = FORK_POINT.match(line)
    if m:
        out["fork_%s_pages_insns" % m.group(1)] = (int(m.group(2)), "tsc")
        return
    m = FAULT_KINDS.match(line)
    if m:
        if int(m.group(2)) < int(m.group(3)):
            sys.stderr.write("bench: %s: %s: only %s of its %s samples were that kind of fault\n"
                             % (image, m.group(1), m.group(2), m.group(3)))
        return
    m = FAULTBENCH.match(line)
    if m:
        out[m.group(1)] = (number(m.group(2)), "tsc")


# user/swapbench.c (run twice by the bench kernel: replace=fifo, then
# replace=clock, with a user_frames= limit): its figures (medians, guest instructions),
# Clock's cost against the pages it passes over, and the kinds lines (how
# many of a figure's samples vmstat saw do exactly that figure's fault);
# its counts lines are for tests/swapbench_check.py
SWAPBENCH = re.compile(r"swapbench: (\w+_insns) (-?\d+(?:\.\d+)?)$")
CLOCK_POINT = re.compile(r"swapbench: clock_scan (\d+) (\d+)$")
SWAP_KINDS = re.compile(r"swapbench: kinds (\w+) (\d+) of (\d+)$")
SWAP_LIMIT = re.compile(r"swapbench: policy \w+, user_frames=(\d+)$")


def swapbench_line(line, out, image):
    """One line of user/swapbench.c into out: its figures as they are, the
    Clock points as clock_scan_k<k>_insns, the limit it ran with as
    swapbench_user_frames; a kinds line with fewer exact samples than
    samples is said on stderr (the figure then mixes kinds)."""
    m = SWAP_LIMIT.match(line)
    if m:
        out["swapbench_user_frames"] = (int(m.group(1)), "frames")
        return
    m = CLOCK_POINT.match(line)
    if m:
        out["clock_scan_k%s_insns" % m.group(1)] = (int(m.group(2)), "tsc")
        return
    m = SWAP_KINDS.match(line)
    if m:
        if m.group(2) != m.group(3):
            sys.stderr.write("bench: %s: swapbench %s: only %s of its %s samples were that "
                             "fault\n" % (image, m.group(1), m.group(2), m.group(3)))
        return
    m = SWAPBENCH.match(line)
    if m:
        out[m.group(1)] = (number(m.group(2)), "tsc")


def unit_name(unit, mode):
    return {"tsc": "insns" if mode == "icount" else "cycles"}.get(unit, unit)


def run_strategies(strategies, mode, extra):
    for s in strategies:
        res = bench_boot("build/%s/bench.img" % s, "1G", "max", extra)
        for metric, (value, unit) in res.items():
            name = metric if mode == "icount" else metric.replace("_insns", "_cycles")
            if unit == "milli":
                add(s, name, value / 1000.0, "per_op")
            else:
                add(s, name, value, unit_name(unit, mode))


def run_memory():
    # QEMU's -m 512G guest has RAM up to 513 GiB (3 GiB below the PCI hole
    # at 3-4 GiB, 509 above 4 GiB): two PML4 slots of window. -m 510G ends
    # at 511 GiB: one.
    res = bench_boot("build/offset/bench.img", "510G", "max", ICOUNT)
    for metric in ("window_pt_frames", "ram_usable_end", "window_bytes"):
        if metric in res:
            add("offset", metric + "@510G/1g", res[metric][0], res[metric][1])
    for mem in MEMS:
        for pages, cpu in (("1g", "max"), ("2m", "max,-pdpe1gb")):
            res = bench_boot("build/offset/bench.img", mem, cpu, ICOUNT)
            tag = "@%s/%s" % (mem, pages)
            for metric in ("boot_stage1_insns", "boot_stage2_insns", "boot_kernel_insns",
                           "window_pt_frames", "alloc_insns", "free_insns", "window_bytes"):
                if metric in res:
                    add("offset", metric + tag, res[metric][0], unit_name(res[metric][1], "icount"))


GUEST_TIME = re.compile(r"boot time: (\d+) us from the MBR")


def wall_once(image, mem, marker, backend=None):
    """Milliseconds from starting QEMU to `marker` on serial (1 ms polling),
    and the guest's own MBR-to-final-translations time in ms if it says."""
    t0 = time.monotonic()
    b = qemu.Boot(image, mem=mem, cpu="max", extra=memory_args(mem, backend), timeout=120)
    ok = b.wait_for(marker, poll=0.001)
    t1 = time.monotonic()
    m = GUEST_TIME.search(b.serial())
    b.close()
    return ((t1 - t0) * 1000.0 if ok else None), (int(m.group(1)) / 1000.0 if m else None)


# (tag, -m, RAM backend): 128M as `make run` starts it; 128M and 512G from a
# sparse file, so that the size comparison is not a backend comparison
# (first touches of file-backed guest RAM cost the host more).
WALL_CONFIGS = (("128M", "128M", None), ("128M-file", "128M", "file"), ("512G", "512G", "file"))


def median_of(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def min_of(values):
    values = [v for v in values if v is not None]
    return round(min(values), 1) if values else None


def run_wall(runs=WALL_RUNS):
    """The bare MBR and pagelab alternate, and the configurations take turns
    run by run, so that a busy moment of the host hits all alike; medians
    of `runs` each. QEMU's own start-up (100-200 ms here, and most of the
    run-to-run noise) is in both wall-clock figures; the guest's TSC-timed
    MBR-to-final-translations figure is pagelab's part alone (the bare MBR
    halts at its first instruction). The host's slow moments only ever add
    time, so the fastest of the runs is reported too: the least noisy
    estimate of what each boot costs."""
    bare = os.path.join(OUT, "bare.img")
    subprocess.run(["nasm", "-f", "bin", "-o", bare, "tests/bench/bare_mbr.asm"], check=True)
    # the same disk size as pagelab's image: the BIOS's disk probing costs alike
    os.truncate(bare, os.path.getsize("build/offset/disk.img"))
    times = {tag: ([], [], []) for tag, _, _ in WALL_CONFIGS}
    for _ in range(runs):
        for tag, mem, backend in WALL_CONFIGS:
            b_times, p_times, g_times = times[tag]
            b_times.append(wall_once(bare, mem, "bare mbr: halted", backend)[0])
            wall, guest = wall_once("build/offset/disk.img", mem, qemu.HALTED, backend)
            p_times.append(wall)
            g_times.append(guest)
    for tag, _, _ in WALL_CONFIGS:
        b_times, p_times, g_times = times[tag]
        for stat, of in (("", median_of), ("_min", min_of)):
            b, p = of(b_times), of(p_times)
            add("offset", "boot_guest%s_ms@%s" % (stat, tag), of(g_times), "ms")
            add("offset", "boot_wall%s_ms@%s" % (stat, tag), p, "ms")
            add("bare-mbr", "boot_wall%s_ms@%s" % (stat, tag), b, "ms")
            if b is not None and p is not None:
                add("offset", "boot_over_bare%s_ms@%s" % (stat, tag), round(p - b, 1), "ms")


def write_csv():
    path = os.path.join(OUT, "results.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["strategy", "metric", "value", "unit"])
        w.writerows(rows)
    return path


def value(strategy, metric):
    for s, m, v, _ in rows:
        if s == strategy and m == metric:
            return v
    return None


def number(text):
    """A value as results.csv holds it: int, float, or None (empty)."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def read_csv(path):
    """Load a results.csv written by write_csv (this run's or an older
    one's) into rows, for --plot-only."""
    rows.clear()
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            add(r["strategy"], r["metric"], number(r["value"]), r["unit"])


def dat_value(v):
    return "NaN" if v is None else str(v)   # gnuplot leaves NaN out


# strategies.png: the four per-call costs of a 4 KiB page, one bar each.
# Colours from dark to light (readable in greyscale), values on the bars.
STRATEGY_SERIES = (("translate_insns", "translate 4 KiB page", "#440154"),
                   ("map_4k_insns", "map 4 KiB page", "#31688e"),
                   ("unmap_4k_insns", "unmap 4 KiB page", "#35b779"),
                   ("protect_4k_insns", "protect 4 KiB page", "#fde725"))

BARS_PLOT = """
set terminal pngcairo size {width},500 noenhanced font 'sans,11'
set output '{png}'
set title "{title}"
set style data histogram
set style histogram cluster gap 1
set style fill solid 1.0 border rgb 'black'
set bmargin {bmargin}
set key at screen 0.5, screen 0.01 center bottom horizontal maxrows {keyrows} samplen 2 width 1
set xlabel '{xlabel}'
set ylabel '{ylabel}'
set xrange [-0.6:{xmax}]
set yrange [0:*]
set grid ytics lc rgb '#c0c0c0'
set xtics nomirror scale 0
set ytics nomirror
N = {n}; G = 1
array T[N] = [{titles}]
array C[N] = [{colours}]
plot for [i=1:N] '{data}' skip 1 using (column(i+1)):xtic(1) title T[i] lc rgb C[i], \\
     for [i=1:N] '' skip 1 using ($0 + (i - 1 - (N - 1) / 2.0) / (N + G)):(column(i+1)) \\
         :(valid(i+1) ? sprintf('%d', column(i+1)) : '') \\
         with labels offset 0,0.55 font ',9' notitle
"""


def plot_bars(out, name, series, groups, value_of, **labels):
    """name.png in out: one cluster of bars per group, one bar per series
    (metric, title, colour), value_of(group, metric) its height; labels:
    title, xlabel, ylabel (optional: width in pixels, keyrows)."""
    data = os.path.join(out, name + ".dat")
    with open(data, "w") as f:
        f.write("group " + " ".join(m for m, _, _ in series) + "\n")
        for g in groups:
            f.write(g + " " + " ".join(dat_value(value_of(g, m)) for m, _, _ in series) + "\n")
    png = os.path.join(out, name + ".png")
    keyrows = labels.pop("keyrows", 1)
    return gnuplot(BARS_PLOT.format(
        png=png, data=data, n=len(series), xmax=len(groups) - 0.4, width=labels.pop("width", 900),
        keyrows=keyrows, bmargin=5 + keyrows,
        titles=", ".join('"%s"' % t for _, t, _ in series),
        colours=", ".join('"%s"' % c for _, _, c in series), **labels), png)


def plot_strategies(strategies, out):
    return plot_bars(out, "strategies", STRATEGY_SERIES, strategies, value,
                     title="Cost of one operation on a 4 KiB page, by strategy\\n"
                     "(guest instructions under QEMU -icount shift=0, median of 201 calls, "
                     "1 GiB of RAM)",
                     xlabel="page-table access strategy", ylabel="guest instructions per call")


# faults.png and summary.md's page-fault table: user/faultbench.c's
# figures, each with the issue's target for pagelab (Linux 6.1's figure is
# compare.LINUX's). fork's slope has a plot of its own, fork.png.
FAULT_ROWS = (("fault_zero_fill_insns", "demand-zero write fault, per page, with zeroing", 1500),
              ("fault_zero_page_insns", "read fault mapping the zero page", 600),
              ("fault_cow_copy_insns", "copy-on-write fault in the child, with the copy", 2000),
              ("fault_cow_reuse_insns", "write fault of the last sharer (no copy)", 500),
              ("fork_per_page_insns", "fork, per mapped page (slope)", 60),
              ("munmap_touched_page_insns", "munmap of one touched page, the next one still "
               "mapped", 1000),
              ("munmap_lone_page_insns", "munmap of a touched one-page mapping, alone in its "
               "page table", None),
              ("mprotect_page_insns", "mprotect of one touched page to read-only", 800),
              ("mprotect_page_rw_insns", "mprotect of that page back to writable", None))
FAULT_SERIES = (("fault_zero_fill_insns", "zero-fill write fault", "#440154"),
                ("fault_zero_page_insns", "zero-page read fault", "#414487"),
                ("fault_cow_copy_insns", "copy-on-write fault (copy)", "#2a788e"),
                ("fault_cow_reuse_insns", "last sharer's write fault", "#22a884"),
                ("munmap_touched_page_insns", "munmap, 1 touched page", "#7ad151"),
                ("mprotect_page_insns", "mprotect, 1 page read-only", "#fde725"))
FORK_PAGES = (0, 64, 256, 1024, 4096)     # user/faultbench.c's fork_sizes
LINUX_GROUP = "linux-6.1"


def reference(group, metric):
    """A figure of this run, or Linux 6.1's for LINUX_GROUP."""
    import compare
    return compare.LINUX.get(metric) if group == LINUX_GROUP else value(group, metric)


def plot_faults(strategies, out):
    return plot_bars(out, "faults", FAULT_SERIES, list(strategies) + [LINUX_GROUP], reference,
                     width=1100, keyrows=2,
                     title="Page faults, munmap and mprotect timed from ring 3, by strategy, "
                     "and Linux 6.1 on the same QEMU\\n(guest instructions under QEMU -icount "
                     "shift=0, median over 256 pages or 201 calls, the empty window taken out)",
                     xlabel="page-table access strategy (linux-6.1: ../shared/anchors/vm.md)",
                     ylabel="guest instructions per fault or call")


FORK_PLOT = """
set terminal pngcairo size 900,560 noenhanced font 'sans,11'
set output '{png}'
set title "fork against the touched pages it maps copy-on-write, by strategy\\n\
(guest instructions from the parent's SYSCALL to its return, median of 5 forks; \
slope: least squares)"
set style data linespoints
set xlabel 'touched heap pages when forking'
set ylabel 'guest instructions per fork'
set xrange [0:*]
set yrange [0:*]
set grid xtics ytics lc rgb '#d0d0d0'
set key top left reverse Left samplen 3
plot {series}
"""
FORK_COLOURS = ("#000000", "#e69f00", "#56b4e9", "#009e73", "#d55e00", "#cc79a7")


def plot_fork(strategies, out):
    """fork.png: each strategy's fork at each heap size, its slope in the
    key; Linux 6.1's slope (no intercept measured) as a dashed line from 0."""
    import compare
    data = os.path.join(out, "fork.dat")
    with open(data, "w") as f:
        f.write("pages " + " ".join(strategies) + "\n")
        for p in FORK_PAGES:
            f.write("%d %s\n" % (p, " ".join(dat_value(value(s, "fork_%d_pages_insns" % p))
                                            for s in strategies)))
    items = []
    for i, s in enumerate(strategies):
        items.append("'%s' using 1:%d title '%s: %s insns per page' lc rgb '%s' lw 2 pt %d ps 1.3"
                     % (data, i + 2, s, cell(value(s, "fork_per_page_insns")),
                        FORK_COLOURS[i % len(FORK_COLOURS)], 4 + 2 * i))
    linux = compare.LINUX.get("fork_per_page_insns")
    if linux is not None:
        items.append("[0:%d] %s * x with lines title 'Linux 6.1: %s insns per page (its slope "
                     "only)' lc rgb '#808080' lw 2 dt 2" % (FORK_PAGES[-1], linux, linux))
    png = os.path.join(out, "fork.png")
    return gnuplot(FORK_PLOT.format(png=png, series=", \\\n     ".join(items)), png)


MEM_GIB = {"128M": 0.125, "1G": 1, "8G": 8, "512G": 512}
MEM_NAME = {"128M": "128 MiB", "1G": "1 GiB", "8G": "8 GiB", "512G": "512 GiB"}

MEMORY_PLOT = """
set terminal pngcairo size 900,560 noenhanced font 'sans,11'
set output '{png}'
set title "Frame allocator and physical-memory window against guest RAM (offset strategy)\\n\
(left axis: guest instructions under QEMU -icount shift=0, median of 201 calls; \
right axis: frames)"
set style data linespoints
set logscale x 2
set xrange [0.09:720]
set xtics ({xtics}) nomirror
set xlabel 'guest RAM (log scale)'
set ylabel 'pmm_alloc, pmm_free: guest instructions per call'
set yrange [0:*]
set offsets 0, 0, graph 0.06, 0
set ytics nomirror
set logscale y2 2
set y2range [0.5:{y2top}]
set y2tics ({y2tics})
set y2label 'window page-table frames (log scale)'
set grid xtics ytics lc rgb '#d0d0d0'
set bmargin {bmargin}
set key at screen 0.5, screen 0.015 center bottom horizontal maxrows 2 samplen 4 width 2
plot {series}
"""


def memory_series(mem_data):
    """gnuplot plot items for memory.dat. alloc and free do not depend on
    the window's page size; where the 1 GiB and 2 MiB runs measured the
    same at every size, one line stands for both and its title says so
    (two would hide each other); otherwise both, with different dashes and
    points, the 2 MiB one drawn with larger open points."""
    cols = {name: i + 1 for i, name in enumerate(
        "mem_gib alloc_1g free_1g alloc_2m free_2m frames_1g frames_2m".split())}
    items = []
    for op, colour, pt, pt_open in (("alloc", "#000000", 7, 6), ("free", "#d55e00", 9, 8)):
        a = [value("offset", "%s_insns@%s/1g" % (op, m)) for m in MEMS]
        b = [value("offset", "%s_insns@%s/2m" % (op, m)) for m in MEMS]
        style = "lc rgb '%s' lw 2 dt 1 pt %d ps 1.4" % (colour, pt)
        if a == b:
            items.append("'%s' using 1:%d title '%s, 1 GiB or 2 MiB window pages: same values "
                         "(left axis)' %s" % (mem_data, cols[op + "_1g"], op, style))
        else:
            items.append("'%s' using 1:%d title '%s, 1 GiB window pages (left axis)' %s"
                         % (mem_data, cols[op + "_1g"], op, style))
            items.append("'%s' using 1:%d title '%s, 2 MiB window pages (left axis)' "
                         "lc rgb '%s' lw 2 dt 3 pt %d ps 2.2"
                         % (mem_data, cols[op + "_2m"], op, colour, pt_open))
    for pages, colour, dt, pt in (("1g", "#0072b2", 2, 4), ("2m", "#009e73", 4, 12)):
        col = cols["frames_" + pages]
        title = "window page-table frames, %s pages (right axis)" % (
            "1 GiB" if pages == "1g" else "2 MiB")
        items.append("'%s' using 1:%d axes x1y2 title '%s' lc rgb '%s' lw 2 dt %d pt %d ps 1.6"
                     % (mem_data, col, title, colour, dt, pt))
        items.append("'%s' using 1:%d:%d axes x1y2 with labels offset 0,0.9 font ',9' "
                     "tc rgb '%s' notitle" % (mem_data, col, col, colour))
    return items


def plot_memory(out):
    mem_data = os.path.join(out, "memory.dat")
    with open(mem_data, "w") as f:
        f.write("mem_gib alloc_1g free_1g alloc_2m free_2m frames_1g frames_2m\n")
        for mem in MEMS:
            vals = [value("offset", m + "@%s/%s" % (mem, p)) for m, p in
                    (("alloc_insns", "1g"), ("free_insns", "1g"), ("alloc_insns", "2m"),
                     ("free_insns", "2m"), ("window_pt_frames", "1g"),
                     ("window_pt_frames", "2m"))]
            f.write("%s %s\n" % (MEM_GIB[mem], " ".join(dat_value(v) for v in vals)))
    png = os.path.join(out, "memory.png")
    xtics = ", ".join("'%s' %s" % (MEM_NAME[m], MEM_GIB[m]) for m in MEMS)
    # the right axis (log, from 0.5) goes high enough that the largest frame
    # count sits at most 60 % up: the frame counts stay below the instruction
    # lines, which the left axis (from 0) puts near the top
    frames = [v for m in MEMS for p in ("1g", "2m")
              for v in [value("offset", "window_pt_frames@%s/%s" % (m, p))] if v]
    y2top = 1024
    while math.log(2 * max(frames, default=1)) > 0.6 * math.log(2 * y2top):
        y2top *= 4
    y2tics = ", ".join(str(4 ** i) for i in range(y2top.bit_length() // 2 + 1))
    series = memory_series(mem_data)
    keys = sum(1 for item in series if "notitle" not in item)   # one key line each
    return gnuplot(MEMORY_PLOT.format(png=png, xtics=xtics, y2top=y2top, y2tics=y2tics,
                                      bmargin=5 + keys, series=", \\\n     ".join(series)), png)


def gnuplot(script, png):
    """Run one gnuplot script; png if it was written, else None."""
    if os.path.exists(png):
        os.remove(png)
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode or not os.path.exists(png):
        sys.stderr.write("bench: gnuplot failed on %s: %s\n" % (png, r.stderr))
        return None
    return png


# swap.png and summary.md's swap table: user/swapbench.c's figures. The
# transfers are QEMU answering the ATA polls: they follow the host, the
# kernel's work does not.
SWAP_ROWS = (("swapin_kernel_insns", "swap-in fault with a free frame: the kernel's work, "
              "the transfer apart", 2000),
             ("swapin_transfer_insns", "its transfer: READ SECTORS, PIO, polled (follows the "
              "host)", None),
             ("swapin_total_insns", "the whole swap-in fault", None),
             ("evict_writeback_insns", "eviction with write-back (a dirty victim), "
              "the transfer apart", None),
             ("evict_writeback_transfer_insns", "its transfer: WRITE SECTORS and FLUSH CACHE "
              "(follows the host)", None),
             ("evict_clean_insns", "eviction without write-back (clean, a valid copy on swap)",
              None),
             ("evict_base_zero_fill_insns", "the demand-zero fault both are measured against "
              "(under the limit)", None),
             ("swapin_evict_kernel_insns", "swap-in at the limit evicting a dirty page: the "
              "kernel's work, both transfers apart", None),
             ("clock_scan_per_frame_insns", "Clock: per frame passed over with its Accessed "
              "bit set (slope)", None))
SWAP_SERIES = (("swapin_kernel_insns", "swap-in: kernel's work", "#440154"),
               ("swapin_transfer_insns", "swap-in: transfer", "#3b528b"),
               ("evict_writeback_insns", "eviction with write-back", "#21918c"),
               ("evict_writeback_transfer_insns", "write-back: transfer", "#5ec962"),
               ("evict_clean_insns", "clean eviction", "#addc30"),
               ("clock_scan_per_frame_insns", "Clock, per frame passed over", "#fde725"))


def swap_limit(strategies):
    """The user_frames= limit swapbench ran with (the first strategy's)."""
    return next((value(s, "swapbench_user_frames") for s in strategies
                 if value(s, "swapbench_user_frames") is not None), None)


def plot_swap(strategies, out):
    return plot_bars(out, "swap", SWAP_SERIES, strategies, value, width=1100, keyrows=2,
                     title="Swap's costs timed from ring 3 by user/swapbench.c, by strategy "
                     "(user_frames=%s; FIFO, Clock for its scan)\\n(guest instructions under "
                     "QEMU -icount shift=0, medians; the transfers follow the host)"
                     % cell(swap_limit(strategies)),
                     xlabel="page-table access strategy",
                     ylabel="guest instructions per fault or frame")


CLOCK_PLOT = """
set terminal pngcairo size 900,560 noenhanced font 'sans,11'
set output '{png}'
set title "A Clock fault against the pages it passes over (Accessed bit set) before its \
victim\\n\
(user_frames={frames}; guest instructions under QEMU -icount shift=0, medians; \
the write-back's transfer apart)"
set style data linespoints
set xlabel 'pages passed over (their Accessed bits cleared)'
set ylabel "the fault's kernel work (guest instructions)"
set xrange [0:*]
set yrange [0:*]
set grid xtics ytics lc rgb '#d0d0d0'
set key top left reverse Left samplen 3
plot {series}
"""


def clock_points(strategies):
    """The k values some strategy has a clock_scan_k<k>_insns row for."""
    ks = set()
    for s, m, _, _ in rows:
        g = re.match(r"clock_scan_k(\d+)_insns$", m)
        if g and s in strategies:
            ks.add(int(g.group(1)))
    return sorted(ks)


def plot_clock(strategies, out):
    """clock.png: each strategy's Clock fault against k, its slope in the
    key; None when the run has no Clock points."""
    ks = clock_points(strategies)
    if not ks:
        return None
    data = os.path.join(out, "clock.dat")
    with open(data, "w") as f:
        f.write("k " + " ".join(strategies) + "\n")
        for k in ks:
            f.write("%d %s\n" % (k, " ".join(dat_value(value(s, "clock_scan_k%d_insns" % k))
                                            for s in strategies)))
    items = ["'%s' using 1:%d title '%s: %s insns per frame' lc rgb '%s' lw 2 pt %d ps 1.3"
             % (data, i + 2, s, cell(value(s, "clock_scan_per_frame_insns")),
                FORK_COLOURS[i % len(FORK_COLOURS)], 4 + 2 * i)
             for i, s in enumerate(strategies)]
    png = os.path.join(out, "clock.png")
    return gnuplot(CLOCK_PLOT.format(png=png, frames=cell(swap_limit(strategies)), series=", \\\n     ".join(items)), png)


def plot(strategies, out=OUT):
    """strategies.png, memory.png, faults.png, fork.png, swap.png and
    clock.png (with their .dat files) in out; the paths of the plots
    written."""
    return [p for p in (plot_strategies(strategies, out), plot_memory(out),
                        plot_faults(strategies, out), plot_fork(strategies, out),
                        plot_swap(strategies, out), plot_clock(strategies, out)) if p]


def cell(v, unit=""):
    """A table cell: '-' where the run measured nothing."""
    return "-" if v is None else "%s%s" % (v, unit)


SUMMARY_INTRO = """# pagelab bench results

Written by `make bench` (tests/bench.py); every figure is a row of
results.csv (`strategy,metric,value,unit`). "insns" are guest
instructions counted by QEMU/TCG with `-icount shift=0` (the guest TSC
advances by one per retired instruction, so they repeat exactly from run
to run): each per-call figure is the median of 201 calls inside the bench
kernel (tests/guest/variant_bench.c), from the CALL to the RET with the cost of
calling an empty function taken out. The per-strategy table is measured
with 1 GiB of RAM and `-cpu max`; the memory table with the offset
strategy, its window in 1 GiB pages (`-cpu max`) or 2 MiB pages (`-cpu
max,-pdpe1gb`); the boot counts include SeaBIOS's disk polling and move by
a few hundred. The boot times are wall clock (plain TCG, no icount: host
milliseconds from starting QEMU to the boot's last line, noisy on a busy
host) and the guest's own TSC from stage1's first instruction to the final
translations; "over bare" is pagelab's median minus the bare MBR's median
(fastest minus fastest), not a median of differences. The page faults
are timed from ring 3 by user/faultbench.c, swap's costs by
user/swapbench.c (their tables say how). Plots: strategies.png,
memory.png, faults.png, fork.png, swap.png, clock.png.
"""


def summary_strategies(strategies):
    lines = ["## Cost per strategy", "",
             "| strategy | translate 4 KiB (insns) | translate 2 MiB (insns) |"
             " translate 1 GiB (insns) | map 4 KiB (insns) | unmap 4 KiB (insns) |"
             " protect 4 KiB (insns) | map with 3 new tables (insns) |"
             " unmap freeing 3 tables (insns) |"
             " invlpg per translate, alternating paths (per call) |"
             " map 1 GiB of 4 KiB pages (insns per page) | tables after boot (frames) |"
             " reserved VA (MiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in strategies:
        v = lambda m: value(s, m)  # noqa: E731
        reserved = v("reserved_va")
        lines.append("| %s |" % s + " %s |" * 12 % tuple(cell(x) for x in (
            v("translate_insns"), v("translate_2m_insns"), v("translate_1g_insns"),
            v("map_4k_insns"), v("unmap_4k_insns"), v("protect_4k_insns"),
            v("map_4k_new_tables_insns"), v("unmap_4k_free_tables_insns"),
            v("translate_alternating_invlpg"), v("map_range_1g_4k_per_page_insns"),
            v("tables_after_boot"), reserved >> 20 if reserved else None)))
    return lines


def summary_processes(strategies):
    """Issue 13's figures per strategy, with Linux 6.1's (compare.py's
    reference, measured on the same QEMU)."""
    import compare
    lines = ["## Processes and address spaces", "",
             "| strategy | null system call (insns) | yield, one way (insns) |"
             " build a 64-page space (insns) | fork it (insns) | switch to it (insns) |"
             " tear it down (insns) |",
             "|---|---|---|---|---|---|---|"]
    for s in list(strategies) + ["linux-6.1"]:
        vals = [compare.LINUX.get(m) if s == "linux-6.1" else value(s, m)
                for m, _, _ in compare.PROCESS_COLS]
        lines.append("| %s |" % s + " %s |" * len(vals) % tuple(cell(x) for x in vals))
    return lines


def summary_faults(strategies):
    """user/faultbench.c's figures per strategy, with Linux 6.1's
    (compare.LINUX) and the issue's target; then fork's points."""
    import compare
    lines = ["## Page faults", "",
             "Timed from ring 3 by user/faultbench.c, alone after the pingpongs: RDTSC, the one "
             "access or SYSCALL, RDTSC, less the same window without a fault (the access again) "
             "or without the SYSCALL; medians over 256 pages (faults) or 201 calls.", "",
             "| operation (insns) | %s | Linux 6.1 | pagelab target |" % " | ".join(strategies),
             "|---" * (len(strategies) + 3) + "|"]
    for metric, label, target in FAULT_ROWS:
        lines.append("| %s | %s | %s | %s |" % (
            label, " | ".join(cell(value(s, metric)) for s in strategies),
            cell(compare.LINUX.get(metric)), "-" if target is None else "≤ %d" % target))
    lines += ["", "| fork with P touched heap pages (insns) | %s |" % " | ".join(strategies),
              "|---" * (len(strategies) + 1) + "|"]
    for p in FORK_PAGES:
        lines.append("| P = %d | %s |" % (p, " | ".join(
            cell(value(s, "fork_%d_pages_insns" % p)) for s in strategies)))
    return lines


def summary_swap(strategies):
    """user/swapbench.c's figures per strategy, with the issue's target;
    then Clock's points."""
    lines = ["## Swap", "",
             "Timed from ring 3 by user/swapbench.c under `user_frames=%s` (FIFO; Clock for its "
             "scan): each sample one access between two vmstat calls, the window less the same "
             "access again, and less the TSC the kernel counted inside the ATA commands "
             "(vmstat's swap_read_tsc, swap_write_tsc) where a figure says the transfer apart; "
             "medians over each figure's samples (swapbench's kinds lines count them)."
             % cell(swap_limit(strategies)), "",
             "| operation (insns) | %s | pagelab target |" % " | ".join(strategies),
             "|---" * (len(strategies) + 2) + "|"]
    for metric, label, target in SWAP_ROWS:
        lines.append("| %s | %s | %s |" % (
            label, " | ".join(cell(value(s, metric)) for s in strategies),
            "-" if target is None else "≤ %d" % target))
    ks = clock_points(strategies)
    if ks:
        lines += ["", "| Clock fault passing k pages (insns) | %s |" % " | ".join(strategies),
                  "|---" * (len(strategies) + 1) + "|"]
        for k in ks:
            lines.append("| k = %d | %s |" % (k, " | ".join(
                cell(value(s, "clock_scan_k%d_insns" % k)) for s in strategies)))
    return lines


def boot_ratio_line():
    """The kernel's boot (kernel to bench) at 512 GiB against 128 MiB, both
    figures and their ratio, per window page size: what the frame records
    cost at boot shows here (the issue's bound: within a quarter)."""
    parts = []
    for pages, name in (("1g", "1 GiB"), ("2m", "2 MiB")):
        small = value("offset", "boot_kernel_insns@128M/%s" % pages)
        big = value("offset", "boot_kernel_insns@512G/%s" % pages)
        ratio = "%.3f" % (big / small) if small and big is not None else "-"
        parts.append("%s window pages %s insns at 512 GiB against %s at 128 MiB, ratio %s"
                     % (name, cell(big), cell(small), ratio))
    return ("Kernel boot (kernel to bench, frame records included) at 512 GiB against 128 MiB: "
            + "; ".join(parts) + " (the issue asks for at most 1.25).")


def summary_fork(strategies):
    """fork's page-table operations (pt_space_clone, pt_remap) per strategy."""
    lines = ["## Fork's page-table operations", "",
             "| strategy | clone COW, 64 pages (insns) | 512 pages (insns) | 4096 pages (insns) |"
             " per page, 64 to 4096 (insns) | remap 4 KiB (insns) | protect 4 KiB (insns) |",
             "|---|---|---|---|---|---|---|"]
    for s in strategies:
        vals = [value(s, m) for m in ("clone_cow_64_insns", "clone_cow_512_insns",
                                      "clone_cow_4096_insns", "clone_cow_per_page_insns",
                                      "remap_4k_insns", "protect_4k_insns")]
        lines.append("| %s |" % s + " %s |" * len(vals) % tuple(cell(x) for x in vals))
    return lines


def summary_memory():
    lines = ["## Boot and frame allocator against guest RAM (offset)", "",
             "| guest RAM | window pages | stage2 (insns) | kernel to bench (insns) |"
             " window page tables (frames) | alloc (insns per call) | free (insns per call) |",
             "|---|---|---|---|---|---|---|"]
    for mem in MEMS:
        for pages in ("1g", "2m"):
            tag = "@%s/%s" % (mem, pages)
            lines.append("| %s | %s |" % (MEM_NAME[mem], "1 GiB" if pages == "1g" else "2 MiB")
                         + " %s |" * 5 % tuple(cell(value("offset", m + tag)) for m in (
                             "boot_stage2_insns", "boot_kernel_insns", "window_pt_frames",
                             "alloc_insns", "free_insns")))
    lines += ["", "RAM ending below 512 GiB (-m 510G: up to 511 GiB; 1 GiB pages): %s window "
              "page-table frame(s)" % cell(value("offset", "window_pt_frames@510G/1g")),
              "", boot_ratio_line()]
    return lines


def summary_wall():
    tags = [tag for tag, _, _ in WALL_CONFIGS]
    lines = ["## Boot time (ms)", "",
             "| TCG, median (fastest) of %d runs | %s |" % (WALL_RUNS, " | ".join(
                 "%s%s" % (MEM_NAME[mem], " (sparse file)" if backend else "")
                 for _, mem, backend in WALL_CONFIGS)),
             "|---" * (len(tags) + 1) + "|"]
    for who, s, metric in (("bare MBR, wall clock", "bare-mbr", "boot_wall_ms"),
                           ("pagelab offset, wall clock", "offset", "boot_wall_ms"),
                           ("pagelab over bare, wall clock", "offset", "boot_over_bare_ms"),
                           ("pagelab, guest TSC: MBR to final translations", "offset",
                            "boot_guest_ms")):
        lines.append("| %s | %s |" % (who, " | ".join(
            "%s (%s) ms" % (cell(value(s, "%s@%s" % (metric, t))),
                            cell(value(s, "%s@%s" % (metric.replace("_ms", "_min_ms"), t))))
            for t in tags)))
    return lines


def summary(strategies, out=OUT):
    """summary.md in out: a title, how the figures are measured, and the
    tables NOTES.md carries (per strategy, processes, page faults, swap,
    per memory size, boot time)."""
    lines = [SUMMARY_INTRO] + summary_strategies(strategies) + [""] \
        + summary_processes(strategies) + [""] + summary_faults(strategies) + [""] \
        + summary_fork(strategies) + [""] + summary_swap(strategies) + [""] \
        + summary_memory() + [""] + summary_wall()
    path = os.path.join(out, "summary.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


OUTPUTS = {"results.csv": "every figure, one row each (strategy,metric,value,unit)",
           "strategies.png": "plot: translate/map/unmap/protect of a 4 KiB page per strategy",
           "memory.png": "plot: frame allocator and window page tables against guest RAM",
           "faults.png": "plot: page faults, munmap, mprotect per strategy, with Linux 6.1",
           "fork.png": "plot: fork against touched pages per strategy, slopes in the key",
           "swap.png": "plot: swap-in, evictions, Clock's scan per frame per strategy",
           "clock.png": "plot: a Clock fault against the pages it passes over, slopes in the key",
           "summary.md": "the tables (per strategy, processes, page faults, swap, per memory "
                         "size, boot time) in Markdown"}


def print_outputs(paths):
    for p in paths:
        print("bench: %-28s %s" % (p, OUTPUTS[os.path.basename(p)]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategies", nargs="*", default=STRATEGIES)
    ap.add_argument("--kvm", action="store_true", help="also measure cycles under KVM")
    ap.add_argument("--quick", action="store_true", help="strategies only (for make test)")
    ap.add_argument("--plot-only", metavar="CSV",
                    help="measure nothing: redraw the plots and summary.md from a results.csv")
    ap.add_argument("--out", default=OUT, help="where --plot-only writes (default %s)" % OUT)
    a = ap.parse_args()
    if a.plot_only:
        read_csv(a.plot_only)
        os.makedirs(a.out, exist_ok=True)
        strategies = [s for s in a.strategies if value(s, "translate_insns") is not None]
        print_outputs(plot(strategies, a.out) + [summary(strategies, a.out)])
        return
    os.makedirs(OUT, exist_ok=True)
    run_strategies(a.strategies, "icount", ICOUNT)
    if not a.quick:
        run_memory()
        run_wall()
        if a.kvm and os.path.exists("/dev/kvm"):
            run_strategies(a.strategies, "kvm", ["-accel", "kvm"])
    path = write_csv()
    for s, m, v, u in rows:
        print("%-10s %-44s %12s %s" % (s, m, v, u))
    print("bench: wrote %d rows" % len(rows))
    outputs = [path]
    if not a.quick:
        outputs += plot(a.strategies) + [summary(a.strategies)]
    print_outputs(outputs)


if __name__ == "__main__":
    main()
