#!/usr/bin/env python3
"""replace_checks.py - the replacement workloads on the real MMU against
the reference simulator, for tests/run_tests.py.

Each workload (user/belady.c, user/cyclic.c, user/randrefs.c) prints its reference string
and then the kernel's counts for it (user/refs.h). For every strategy,
policy (FIFO, Clock, OPT: the workloads declare their strings with
refs(), user/refs.h) and frame count here, a copy of
build/<strategy>/swap.img with that run list and user_frames= is booted,
the string read back from serial and replayed in tests/replacement_sim.py:
the faults must be exactly the simulator's, and the evictions the faults
less the frames filled. Belady's anomaly must be there for FIFO, from the
textbook and not from either program: 9 faults with 3 frames, 10 with 4.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replacement_sim  # noqa: E402
import swap_checks  # noqa: E402

OUT = "build/test/replace"
STRATEGIES = swap_checks.STRATEGIES
# (workload, frames): belady at 3 and 4 frames, the loop one page larger
# than 4 frames, the seeded random string (where FIFO and Clock differ)
RUNS = [("belady", 3), ("belady", 4), ("cyclic", 4), ("randrefs", 4)]
POLICIES = ["fifo", "clock", "opt"]
BELADY_FIFO = {3: 9, 4: 10}


def parse(out, name):
    """(string, counts) of workload name's lines, or (None, None)."""
    string = None
    m = re.search(r"^refs: %s: string (\d+):((?: \d+)*)$" % name, out, re.M)
    if m:
        string = [int(x) for x in m.group(2).split()]
        for more in re.findall(r"^refs: %s: more:((?: \d+)*)$" % name, out, re.M):
            string += [int(x) for x in more.split()]
        if len(string) != int(m.group(1)):
            string = None
    c = re.search(r"^refs: %s: frames (\d+) references (\d+) faults (\d+) evictions (\d+)"
                  r" writebacks (\d+) swapins (\d+)$" % name, out, re.M)
    counts = tuple(int(x) for x in c.groups()) if c else None
    return string, counts


def check_run(record, strategy, policy, workload, frames):
    name = "replace/%s/%s-%s-%d" % (strategy, workload, policy, frames)
    text = "run=%s\nuser_frames=%d\nreplace=%s\n" % (workload, frames, policy)
    out = swap_checks.boot_config(strategy, "%s-%s-%d" % (workload, policy, frames), text, OUT)
    string, counts = parse(out or "", workload)
    if not record(out is not None and string is not None and counts is not None,
                  name + ": the workload runs and prints its string and counts",
                  (out or "no halt")[-400:].replace("\n", " | ")):
        return None
    got_frames, refs, faults, evictions, _, _ = counts
    sim_faults, sim_evictions = replacement_sim.simulate(policy, frames, string)
    record(got_frames == frames and refs == len(string) and faults == sim_faults and
           evictions == sim_evictions,
           name + ": %d faults and %d evictions, exactly the simulator's" % (sim_faults,
                                                                             sim_evictions),
           "kernel: frames %d, %d references, %d faults, %d evictions"
           % (got_frames, refs, faults, evictions))
    return faults


LOCAL_QUOTA = 4


def check_local(record, strategy, policy):
    """user/compete.c under scope=local, quota=LOCAL_QUOTA: each process's
    faults are the simulator's for its own string with its quota alone."""
    name = "replace/%s/compete-%s-local-%d" % (strategy, policy, LOCAL_QUOTA)
    text = "run=compete\nscope=local\nquota=%d\nreplace=%s\n" % (LOCAL_QUOTA, policy)
    out = swap_checks.boot_config(strategy, "compete-%s" % policy, text, OUT) or ""
    record("  policy %s, scope local, %d frames each (quota=)" % (policy, LOCAL_QUOTA) in out,
           name + ": the boot names the policy, the scope and the quota",
           out[-300:].replace("\n", " | "))
    for proc in ("compete-hot", "compete-scan"):
        string, counts = parse(out, proc)
        if not record(string is not None and counts is not None,
                      name + ": %s prints its string and counts" % proc, "missing"):
            continue
        faults, evictions = counts[2], counts[3]
        want = replacement_sim.simulate(policy, LOCAL_QUOTA, string)
        record((faults, evictions) == want,
               name + ": %s: %d faults, %d evictions, the simulator's with %d frames of its own"
               % (proc, want[0], want[1], LOCAL_QUOTA),
               "kernel: %d faults, %d evictions" % (faults, evictions))


def run(record, strategies=STRATEGIES):
    for strategy in strategies:
        for policy in POLICIES:
            seen = {}
            for workload, frames in RUNS:
                seen[(workload, frames)] = check_run(record, strategy, policy, workload, frames)
            check_local(record, strategy, policy)
            if policy == "fifo":
                got = {f: seen.get(("belady", f)) for f in BELADY_FIFO}
                record(got == BELADY_FIFO,
                       "replace/%s: Belady's anomaly under FIFO: 9 faults with 3 frames, 10"
                       " with 4" % strategy, "got %s" % got)
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    results = [0, 0]

    def rec(ok, name, why=""):
        results[0 if ok else 1] += 1
        print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
        return ok
    run(rec, sys.argv[1:] or STRATEGIES)
    print("%d passed, %d failed" % tuple(results))
