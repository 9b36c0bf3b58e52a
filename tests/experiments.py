#!/usr/bin/env python3
"""experiments.py - `make experiments`: page replacement's experiments on
the real MMU (QEMU/TCG, the offset strategy by default).

Every workload of user/refs.h runs alone in a copy of
build/<strategy>/swap.img whose /boot/pagelab.cfg names it, the limit and
the policy; its printed counts become rows of
build/experiments/replacement.csv:

  policy,scope,frames,workload,process,references,faults,evictions,writebacks,swapins

  - faults against frames, per policy: belady (Belady's anomaly shows as
    FIFO's rise from 3 to 4 frames), randrefs, phases and cyclic, at 1 to
    FRAMES_MAX frames, under FIFO, Clock and OPT; each row next to what
    tests/replacement_sim.py predicts for the same string (the `sim_faults`
    column of replacement-sim.csv, a file of its own so the CSV keeps the
    columns the interface names);
  - local against global: compete's two processes with quota=Q each
    (scope=local) and with user_frames=2Q shared (scope=global).

Plots (gnuplot, as make bench's): faults-vs-frames.png (one panel per
workload, one line per policy) and local-vs-global.png (each process's
faults under both scopes). What is not here yet, and says so in its
output: NRU and aging, and the page-fault-frequency quotas over time.
"""
import argparse
import csv
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (its gnuplot runner)
import replace_checks  # noqa: E402
import replacement_sim  # noqa: E402
import swap_checks  # noqa: E402

OUT = "build/experiments"
SCRATCH = "build/experiments/images"
POLICIES = ["fifo", "clock", "opt"]
FRAMES_MAX = 8
WORKLOADS = ["belady", "randrefs", "phases", "cyclic"]
COMPETE_QUOTA = 4
COLUMNS = ["policy", "scope", "frames", "workload", "process", "references", "faults",
           "evictions", "writebacks", "swapins"]


def boot(strategy, tag, text):
    return swap_checks.boot_config(strategy, tag, text, SCRATCH)


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
                out = boot(strategy, "%s-%s-%d" % (workload, policy, frames), text)
                string, counts = replace_checks.parse(out or "", workload)
                if counts is None:
                    sys.stderr.write("experiments: %s, %s, %d frames: no counts\n"
                                     % (workload, policy, frames))
                    continue
                rows.append(row(policy, "global", frames, workload, workload, string, counts))
                sims.append({"policy": policy, "frames": frames, "workload": workload,
                             "faults": counts[2],
                             "sim_faults": replacement_sim.simulate(policy, frames, string)[0]})


def run_compete(strategy, rows):
    q = COMPETE_QUOTA
    for policy in POLICIES:
        for scope, text in (("local", "scope=local\nquota=%d\n" % q),
                            ("global", "user_frames=%d\n" % (2 * q))):
            out = boot(strategy, "compete-%s-%s" % (policy, scope),
                       "run=compete\nreplace=%s\n%s" % (policy, text))
            for proc in ("compete-hot", "compete-scan"):
                string, counts = replace_checks.parse(out or "", proc)
                if counts:
                    rows.append(row(policy, scope, q if scope == "local" else 2 * q,
                                    "compete", proc, string, counts))


def write_csv(path, fields, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow(r)


FAULTS_PLOT = """set terminal pngcairo size 1200,900 font "sans,10" noenhanced
set output "{png}"
set datafile separator ","
set multiplot layout 2,2 title "Page faults against frames (pagelab, QEMU/TCG, {strategy}); \\
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
set title "compete: a hot set against a scanner, local (quota={q} each) against global \\
(user_frames={q2})"
set style data histogram
set style histogram cluster gap 1
set style fill pattern border
set ylabel "faults"
set key top left
set grid y
plot "{dat}" using 2:xtic(1) title "hot set, local", "" using 3 title "hot set, global", \\
     "" using 4 title "scanner, local", "" using 5 title "scanner, global"
"""


def plot(strategy, rows, sims, out):
    pngs = []
    dat = os.path.join(out, "faults-vs-frames.dat")
    with open(dat, "w") as f:
        for s in sims:
            f.write("%s,%d,%s,%d,%d\n" % (s["policy"], s["frames"], s["workload"], s["faults"],
                                          s["sim_faults"]))
    titles = {"cyclic": "cyclic (a loop over frames + 1 pages, 4 turns)",
              "belady": "belady (1 2 3 4 1 2 5 1 2 3 4 5)",
              "randrefs": "randrefs (64 seeded references over 8 pages)",
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
            f.write("%s,%s,%s,%s,%s\n" % (p, by.get((p, "local", "compete-hot"), 0),
                                          by.get((p, "global", "compete-hot"), 0),
                                          by.get((p, "local", "compete-scan"), 0),
                                          by.get((p, "global", "compete-scan"), 0)))
    png = os.path.join(out, "local-vs-global.png")
    pngs.append(bench.gnuplot(COMPETE_PLOT.format(png=png, dat=dat, q=COMPETE_QUOTA,
                                            q2=2 * COMPETE_QUOTA), png))
    return [p for p in pngs if p]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", default="offset")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rows, sims = [], []
    run_alone(a.strategy, rows, sims)
    run_compete(a.strategy, rows)
    shutil.rmtree(SCRATCH, ignore_errors=True)
    csv_path = os.path.join(OUT, "replacement.csv")
    write_csv(csv_path, COLUMNS, rows)
    sim_path = os.path.join(OUT, "replacement-sim.csv")
    write_csv(sim_path, ["policy", "frames", "workload", "faults", "sim_faults"], sims)
    pngs = plot(a.strategy, rows, sims, OUT)
    off = [s for s in sims if s["faults"] != s["sim_faults"]]
    for p in [csv_path, sim_path] + pngs:
        print("experiments: %s" % p)
    print("experiments: %d runs, %d rows; %d differ from the simulator%s"
          % (len(sims) + 2 * len(POLICIES), len(rows), len(off),
             "" if not off else ": " + ", ".join("%(workload)s/%(policy)s/%(frames)d" % s
                                                  for s in off[:5])))
    print("experiments: not measured yet: NRU and aging, the page-fault-frequency quotas")
    return 1 if off or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
