#!/usr/bin/env python3
"""swapbench_check.py - user/swapbench.c's faults are the ones its figures
are about, for tests/run_tests.py. Timings are never asserted here; `make
bench` measures them.

swapbench times swap-ins and evictions under FIFO and Clock's scan under
Clock, and for each figure prints how many of its samples did exactly one
fault of that figure's kind (a kinds line, from vmstat's counters around
each sample) and the counters' sums over its samples (counts lines). A
copy of build/<strategy>/swap.img runs it alone with replace= and
user_frames= (plain TCG: the counts do not depend on the clock), and the
expected counts are computed here from the program's design and the
policies' rules, not from its output:
  FIFO, rounds of 3L pages (L = user_frames): L demand-zero faults below
    the limit; L that each evict the oldest page, dirty, written back; L
    swap-ins at the limit, each evicting a dirty page; L demand-zero faults
    whose victims were read back and not written since (clean drops); L
    swap-ins with free frames (no eviction);
  Clock: faults whose victim comes after k pages with the Accessed bit
    set (k cleared, k + 1 examined), for k = 0, L/4, L/2, 3L/4, and a full
    turn (k = L: all L cleared, the first examined again);
every sample one fault. In every strategy under both policies with L =
16; in offset also at swapbench's limits (FRAMES_MIN and SAMPLES, where
Clock's largest k below L is L - 2), just outside them and under
scope=local (refused, by name). At the end of each boot no slot is in use and no page resident.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swap_checks  # noqa: E402

OUT = "build/test/swapbench"
SOURCE = "user/swapbench.c"
STRATEGIES = swap_checks.STRATEGIES
FRAMES = 16
COLS = 80
COUNTERS = ("faults", "swap_ins", "zero_fills", "swap_reads", "swap_writes", "evictions",
            "writebacks", "clean_drops", "a_cleared", "scanned")


def define(name):
    """A number #defined in user/swapbench.c (its one home)."""
    with open(SOURCE) as f:
        m = re.search(r"^#define %s\s+\(?(\d+)" % name, f.read(), re.M)
    return int(m.group(1))


SAMPLES = define("SAMPLES")
FRAMES_MIN = define("FRAMES_MIN")
CLOCK_KS = define("CLOCK_KS")


def fifo_figures(frames):
    """{figure: (samples, {counter: per sample})} under FIFO."""
    n = SAMPLES // frames * frames
    evict = {"evictions": 1, "scanned": 1}
    written = dict(evict, writebacks=1, swap_writes=1)
    return {"zero_fill": (n, {"zero_fills": 1}),
            "evict_writeback": (n, dict(written, zero_fills=1)),
            "swapin_evict": (n, dict(written, swap_ins=1, swap_reads=1)),
            "evict_clean": (n, dict(evict, zero_fills=1, clean_drops=1)),
            "swapin": (n, {"swap_ins": 1, "swap_reads": 1})}


def clock_figures(frames):
    """The same under Clock: a victim after k pages with A set, each one
    dirty (written back); the full turns are one more than the others."""
    per_k = (SAMPLES - 1) // CLOCK_KS
    out = {}
    for j in range(CLOCK_KS + 1):
        k = j * frames // CLOCK_KS
        out["clock_k%d" % k] = (per_k if k < frames else 1 + per_k * CLOCK_KS,
                                {"zero_fills": 1, "evictions": 1, "writebacks": 1,
                                 "swap_writes": 1, "a_cleared": k, "scanned": k + 1})
    return out


def parse(log):
    """kinds: {figure: (exact, samples)}; counts: {figure: {counter: sum}}."""
    kinds, counts = {}, {}
    for line in log.splitlines():
        m = re.match(r"swapbench: kinds (\w+) (\d+) of (\d+)$", line)
        if m:
            kinds[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        m = re.match(r"swapbench: counts (\w+)((?: \w+=\d+)+)$", line)
        if m:
            for key, v in re.findall(r"(\w+)=(\d+)", m.group(2)):
                counts.setdefault(m.group(1), {})[key] = int(v)
    return kinds, counts


def boot(strategy, policy, frames, scope=""):
    text = "run=swapbench\nuser_frames=%d\nreplace=%s\n%s" % (frames, policy, scope)
    return swap_checks.boot_config(strategy, "%s-%d" % (policy, frames), text, out=OUT)


def check_common(record, name, log, frames, policy):
    """What every boot must show: its lines within COLS, the policy line,
    and nothing left on swap or the list at the end."""
    wide = [line for line in log.splitlines() if len(line) > COLS]
    record(not wide, "%s: every line within %d columns" % (name, COLS), "%r" % wide[:2])
    record("swapbench: policy %s, user_frames=%d\n" % (policy, frames) in log,
           "%s: swapbench sees replace=%s and user_frames=%d" % (name, policy, frames),
           "no such line")
    record("pagelab: swap: 0 slots in use; replacement: 0 pages resident" in log,
           "%s: no slot in use and no page resident at the end" % name,
           "; ".join(line for line in log.splitlines() if line.startswith("pagelab: swap:")))


def check_run(record, strategy, policy, frames):
    name = "swapbench/%s/%s/%d" % (strategy, policy, frames)
    log = boot(strategy, policy, frames)
    if not record(log is not None and "swapbench: done" in log, "%s: runs to its end" % name,
                  "no halt" if log is None else log[-600:]):
        return
    check_common(record, name, log, frames, policy)
    kinds, counts = parse(log)
    want = (fifo_figures if policy == "fifo" else clock_figures)(frames)
    record(sorted(kinds) == sorted(want), "%s: its figures" % name,
           "got %s, want %s" % (sorted(kinds), sorted(want)))
    for fig, (n, per) in sorted(want.items()):
        record(kinds.get(fig) == (n, n),
               "%s: %s: all %d samples were that fault (vmstat)" % (name, fig, n),
               "kinds %s" % (kinds.get(fig),))
        sums = {c: n * per.get(c, 0) for c in COUNTERS}
        sums["faults"] = n
        record(counts.get(fig) == sums, "%s: %s: counts %s" % (name, fig, " ".join(
            "%s=%d" % (c, sums[c]) for c in COUNTERS if sums[c])),
            "got %s" % counts.get(fig))


def check_refused(record, strategy, policy, frames, scope=""):
    """A limit outside FRAMES_MIN..SAMPLES, or a local scope: refused by
    name, nothing measured."""
    name = "swapbench/%s/%s/%d%s" % (strategy, policy, frames, "/local" if scope else "")
    log = boot(strategy, policy, frames, scope)
    if not record(log is not None, "%s: the boot halts" % name, "no halt"):
        return
    check_common(record, name, log, frames, policy)
    record("swapbench: needs scope=global, user_frames= from %d to %d, no pages yet\n"
           % (FRAMES_MIN, SAMPLES) in log and "swapbench: kinds" not in log,
           "%s: refused by name, nothing measured" % name, log[-600:])


def run(record, strategies=STRATEGIES):
    for strategy in strategies:
        for policy in ("fifo", "clock"):
            check_run(record, strategy, policy, FRAMES)
    if "offset" in strategies:
        for policy in ("fifo", "clock"):
            for frames in (FRAMES_MIN, SAMPLES):
                check_run(record, "offset", policy, frames)
        for frames in (FRAMES_MIN - 1, SAMPLES + 1):
            check_refused(record, "offset", "clock", frames)
        check_refused(record, "offset", "fifo", FRAMES, "scope=local\nquota=%d\n" % FRAMES)
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    results = [0, 0]

    def rec(ok, name, why=""):
        results[0 if ok else 1] += 1
        print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
        return ok
    run(rec, sys.argv[1:] or STRATEGIES)
    print("%d passed, %d failed" % tuple(results))
    sys.exit(1 if results[1] else 0)
