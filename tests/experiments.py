#!/usr/bin/env python3
"""experiments.py - `make experiments`: page replacement's experiments on
the real MMU (QEMU/TCG, the offset strategy by default).

Every workload of user/refs.h runs alone in a copy of
build/<strategy>/swap.img whose /boot/pagelab.cfg names it, the limit and
the policy; its printed counts become rows of
build/experiments/replacement.csv:

  policy,scope,frames,workload,process,references,faults,evictions,writebacks,swapins

  - faults against frames, per policy: belady (Belady's anomaly shows as
    FIFO's rise from 3 to 4 frames), randrefs, rwrefs (reads among the
    writes), phases and cyclic, at 1 to FRAMES_MAX frames, under FIFO,
    Clock, OPT, NRU and aging; each row next to what
    tests/replacement_sim.py predicts for the same string (the `sim_faults`
    column of replacement-sim.csv, a file of its own so the CSV keeps the
    columns the interface names). NRU and aging (and scope=pff) boot under
    -icount with the workloads' pace checked (tests/replace_checks.py);
  - local against global: compete's two processes with quota=Q each
    (scope=local), with user_frames=2Q shared (scope=global), and under
    scope=pff with the same user_frames=2Q (quotas moved by fault rate);
  - the page-fault-frequency quotas over time: pff.csv, each quota change
    the kernel printed (tick, process, quota, faults in the window).

Plots (gnuplot, as make bench's): faults-vs-frames.png (one panel per
workload, one line per policy), local-vs-global.png (each process's
faults under the three scopes) and pff-quotas.png (each process's quota
against time). Then the page-size trade-off (tests/pagesize.py, one boot of
the test image): pagesize.csv.
"""
import argparse
import csv
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (its gnuplot runner)
import pagesize  # noqa: E402  (the page-size trade-off: pagesize.csv)
import replace_checks  # noqa: E402
import replacement_sim  # noqa: E402
import swap_checks  # noqa: E402

OUT = "build/experiments"
SCRATCH = "build/experiments/images"
POLICIES = replace_checks.POLICIES
FRAMES_MAX = 8
WORKLOADS = ["belady", "randrefs", "rwrefs", "phases", "cyclic"]
# scope=pff's experiment: compete with the frames local and global get
# together (2Q), a window of two ticks (eight references of each process)
PFF_MIN, PFF_MAX = 2, 5
PFF_LINES = ("scope=pff\npff_window=2\npff_low=1\npff_high=2\npff_min=%d\npff_max=%d\n"
             % (PFF_MIN, PFF_MAX))
COMPETE_QUOTA = 4
COLUMNS = ["policy", "scope", "frames", "workload", "process", "references", "faults",
           "evictions", "writebacks", "swapins"]


def boot(strategy, tag, text, names=()):
    """The serial log; where the clock matters (NRU, aging, scope=pff),
    under -icount, the first of replace_checks.PACE_TRIES boots whose
    workloads (names) kept their pace, or the last one."""
    timed = "scope=pff" in text or any(("replace=%s\n" % p) in text
                                        for p in replace_checks.SAMPLED)
    for _ in range(replace_checks.PACE_TRIES if timed else 1):
        out = swap_checks.boot_config(strategy, tag, text, SCRATCH,
                                      extra=swap_checks.ICOUNT if timed else ())
        if not timed or (out and all(replace_checks.paced(out, n) for n in names)):
            break
    return out


def row(policy, scope, frames, workload, process, string, counts):
    _, refs, faults, evictions, writebacks, swapins = counts
    return {"policy": policy, "scope": scope, "frames": frames, "workload": workload,
            "process": process, "references": refs, "faults": faults, "evictions": evictions,
            "writebacks": writebacks, "swapins": swapins}


def run_alone(strategy, rows, sims):
    for workload in WORKLOADS:
        for policy in POLICIES:
            for frames in range(1, FRAMES_MAX + 1):
                text = "run=%s\nuser_frames=%d\nreplace=%s\n" % (workload, frames, policy)
                out = boot(strategy, "%s-%s-%d" % (workload, policy, frames), text, [workload])
                string, reads, per_tick, counts = replace_checks.parse_rw(out or "", workload)
                if counts is None:
                    sys.stderr.write("experiments: %s, %s, %d frames: no counts\n"
                                     % (workload, policy, frames))
                    continue
                rows.append(row(policy, "global", frames, workload, workload, string, counts))
                sim = replacement_sim.run(policy, frames, string, reads, per_tick)
                sims.append({"policy": policy, "frames": frames, "workload": workload,
                             "faults": counts[2], "sim_faults": sim["faults"],
                             "same": counts[2:] == (sim["faults"], sim["evictions"],
                                                    sim["writebacks"], sim["swapins"])})


def run_compete(strategy, rows, quotas):
    q = COMPETE_QUOTA
    for policy in POLICIES:
        for scope, text in (("local", "scope=local\nquota=%d\n" % q),
                            ("global", "user_frames=%d\n" % (2 * q)),
                            ("pff", "user_frames=%d\n%s" % (2 * q, PFF_LINES))):
            out = boot(strategy, "compete-%s-%s" % (policy, scope),
                       "run=compete\nreplace=%s\n%s" % (policy, text),
                       replace_checks.COMPETE)
            for proc in replace_checks.COMPETE:
                string, counts = replace_checks.parse(out or "", proc)
                if counts:
                    rows.append(row(policy, scope, q if scope == "local" else 2 * q,
                                    "compete", proc, string, counts))
            if scope == "pff" and policy == "clock":
                pff_timeline(out or "", quotas)


def pff_timeline(out, quotas):
    """compete's quota changes under scope=pff (the kernel's "pff:" lines),
    each process named by the pid its workload printed."""
    names = {int(m.group(2)): m.group(1) for m in
             re.finditer(r"^refs: (compete-\w+): pid (\d+),", out, re.M)}
    start = re.search(r"scope pff: quotas from (\d+)", out)
    for pid, name in sorted(names.items()):
        if start:
            quotas.append({"tick": 0, "process": name, "quota": int(start.group(1)),
                           "faults": 0})
    for tick, pid, _, now, faults, _ in replace_checks.pff_changes(out):
        quotas.append({"tick": tick, "process": names.get(pid, "pid %d" % pid),
                       "quota": now, "faults": faults})
    # each line runs on to the tick its workload ended at
    for name in names.values():
        end = re.search(r"^refs: %s: \d+ sleeps, .* \(\d+ to (\d+)\)$" % name, out, re.M)
        last = [q for q in quotas if q["process"] == name]
        if end and last:
            quotas.append(dict(last[-1], tick=int(end.group(1)), faults=0))


def write_csv(path, fields, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow(r)


FAULTS_PLOT = """set terminal pngcairo size 1500,900 font "sans,10" noenhanced
set output "{png}"
set datafile separator ","
set multiplot layout 2,3 title "Page faults against frames (pagelab, QEMU/TCG, {strategy}); \\
dashed: the reference simulator"
set key top right
set xlabel "frames (user_frames=)"
set ylabel "faults"
set grid
{panels}
unset multiplot
"""

PANEL = """set title "{title}"
plot for [p in "{policies}"] "{dat}" using ((stringcolumn(1) eq p && \\
     stringcolumn(3) eq "{workload}") ? $2 : 1/0):4 with linespoints lw 2 title p, \\
     for [p in "{policies}"] "{dat}" using ((stringcolumn(1) eq p && \\
     stringcolumn(3) eq "{workload}") ? $2 : 1/0):5 with lines dt 2 lc rgb "gray40" notitle
"""

COMPETE_PLOT = """set terminal pngcairo size 900,500 font "sans,10" noenhanced
set output "{png}"
set datafile separator ","
set title "compete: a hot set against a scanner: local (quota={q} each), global \\
(user_frames={q2}) and pff (user_frames={q2}, quotas moved)"
set style data histogram
set style histogram cluster gap 1
set style fill pattern border
set ylabel "faults"
set key below horizontal
set grid y
plot "{dat}" using 2:xtic(1) title "hot set, local", "" using 3 title "hot set, global", \\
     "" using 4 title "hot set, pff", "" using 5 title "scanner, local", \\
     "" using 6 title "scanner, global", "" using 7 title "scanner, pff"
"""

PFF_PLOT = """set terminal pngcairo size 900,500 font "sans,10" noenhanced
set output "{png}"
set datafile separator ","
set title "scope=pff: each process's quota against time (compete, Clock, user_frames={q2}, \\
window 2 ticks, bounds {lo}..{hi})"
set xlabel "timer tick (1 ms; -icount: a million instructions)"
set ylabel "quota (frames)"
set yrange [0:{top}]
set key bottom right
set grid
plot "{dat}" index 0 using 1:3 with steps lw 2 title "hot set (3 pages)", \\
     "{dat}" index 1 using 1:3 with steps lw 2 dt 2 title "scanner (12 pages)"
"""


def plot(strategy, rows, sims, quotas, out):
    pngs = []
    dat = os.path.join(out, "faults-vs-frames.dat")
    with open(dat, "w") as f:
        for s in sims:
            f.write("%s,%d,%s,%d,%d\n" % (s["policy"], s["frames"], s["workload"], s["faults"],
                                          s["sim_faults"]))
    titles = {"cyclic": "cyclic (a loop over frames + 1 pages, 4 turns)",
              "belady": "belady (1 2 3 4 1 2 5 1 2 3 4 5)",
              "randrefs": "randrefs (64 seeded references over 8 pages)",
              "rwrefs": "rwrefs (96 seeded reads and writes over 8 pages)",
              "phases": "phases (4 pages, then 4 others, then the first 4)"}
    panels = "".join(PANEL.format(workload=w, title=titles[w], policies=" ".join(POLICIES),
                                  dat=dat) for w in WORKLOADS)
    png = os.path.join(out, "faults-vs-frames.png")
    pngs.append(bench.gnuplot(FAULTS_PLOT.format(png=png, strategy=strategy, panels=panels), png))
    dat = os.path.join(out, "local-vs-global.dat")
    by = {(r["policy"], r["scope"], r["process"]): r["faults"] for r in rows
          if r["workload"] == "compete"}
    with open(dat, "w") as f:
        for p in POLICIES:
            f.write(",".join([p] + [str(by.get((p, sc, proc), 0))
                                    for proc in replace_checks.COMPETE
                                    for sc in ("local", "global", "pff")]) + "\n")
    png = os.path.join(out, "local-vs-global.png")
    pngs.append(bench.gnuplot(COMPETE_PLOT.format(png=png, dat=dat, q=COMPETE_QUOTA,
                                            q2=2 * COMPETE_QUOTA), png))
    dat = os.path.join(out, "pff-quotas.dat")
    with open(dat, "w") as f:          # one block per process, in tick order
        for proc in replace_checks.COMPETE:
            for q in sorted((q for q in quotas if q["process"] == proc),
                            key=lambda q: q["tick"]):
                f.write("%(tick)d,%(process)s,%(quota)d\n" % q)
            f.write("\n\n")
    png = os.path.join(out, "pff-quotas.png")
    pngs.append(bench.gnuplot(PFF_PLOT.format(png=png, dat=dat, q2=2 * COMPETE_QUOTA,
                                              lo=PFF_MIN, hi=PFF_MAX, top=PFF_MAX + 2), png))
    return [p for p in pngs if p]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", default="offset")
    ap.add_argument("--plot-only", metavar="DIR",
                    help="draw the plots from DIR's CSVs (a run's), measuring nothing")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if a.plot_only:
        def load(name, ints):
            with open(os.path.join(a.plot_only, name)) as f:
                return [{k: int(v) if k in ints else v for k, v in r.items()}
                        for r in csv.DictReader(f)]
        rows = load("replacement.csv", {"frames", "references", "faults", "evictions",
                                        "writebacks", "swapins"})
        sims = load("replacement-sim.csv", {"frames", "faults", "sim_faults"})
        quotas = load("pff.csv", {"tick", "quota", "faults"})
        for p in plot(a.strategy, rows, sims, quotas, OUT):
            print("experiments: %s" % p)
        return 0
    rows, sims, quotas = [], [], []
    run_alone(a.strategy, rows, sims)
    run_compete(a.strategy, rows, quotas)
    shutil.rmtree(SCRATCH, ignore_errors=True)
    csv_path = os.path.join(OUT, "replacement.csv")
    write_csv(csv_path, COLUMNS, rows)
    sim_path = os.path.join(OUT, "replacement-sim.csv")
    write_csv(sim_path, ["policy", "frames", "workload", "faults", "sim_faults"],
              [{k: v for k, v in s.items() if k != "same"} for s in sims])
    pff_path = os.path.join(OUT, "pff.csv")
    write_csv(pff_path, ["tick", "process", "quota", "faults"], quotas)
    pngs = plot(a.strategy, rows, sims, quotas, OUT)
    off = [s for s in sims if not s["same"]]
    for p in [csv_path, sim_path, pff_path] + pngs:
        print("experiments: %s" % p)
    print("experiments: %d runs, %d rows; %d differ from the simulator (faults, evictions,"
          " write-backs or swap-ins)%s"
          % (len(sims) + 3 * len(POLICIES), len(rows), len(off),
             "" if not off else ": " + ", ".join("%(workload)s/%(policy)s/%(frames)d" % s
                                                  for s in off[:5])))
    if not pagesize.experiment(a.strategy, OUT):
        return 1
    return 1 if off or not rows or not quotas else 0


if __name__ == "__main__":
    sys.exit(main())
