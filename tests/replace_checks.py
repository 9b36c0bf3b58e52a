#!/usr/bin/env python3
"""replace_checks.py - the replacement workloads on the real MMU against
the reference simulator, for tests/run_tests.py.

Each workload (user/belady.c, user/cyclic.c, user/randrefs.c,
user/rwrefs.c) prints its reference string and then the kernel's counts
for it (user/refs.h). For every strategy, policy (FIFO, Clock, OPT: the
workloads declare their strings with refs(); NRU and aging, which sample
the Accessed bits at timer ticks) and frame count here, a copy of
build/<strategy>/swap.img with that run list and user_frames= is booted,
the string read back from serial and replayed in
tests/replacement_sim.py: the faults, evictions, write-backs and swap-ins
must be exactly the simulator's. Belady's anomaly must be there for FIFO,
from the textbook and not from either program: 9 faults with 3 frames, 10
with 4.

NRU and aging boot under -icount shift=0, where a tick is a million guest
instructions, and the workloads pace themselves (a sleep(1) before every
fourth reference): the simulator then samples where the kernel did. A run
reports its ticks and its sleeps; only a run where they are equal (no
tick fell elsewhere, e.g. while the host was slow to complete a disk
read) is compared, and a boot is retried up to PACE_TRIES times for one.
scope=pff is checked by its rules (tests/host/test_replace.c checks its
arithmetic exactly): every quota change is one frame, within the bounds,
up only after more than pff_high= faults, down only after fewer than
pff_low=.
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
RUNS = [("belady", 3), ("belady", 4), ("cyclic", 4), ("randrefs", 4), ("rwrefs", 4)]
POLICIES = ["fifo", "clock", "opt", "nru", "aging"]
SAMPLED = ("nru", "aging")
PACE_TRIES = 3
BELADY_FIFO = {3: 9, 4: 10}


def paced(out, name):
    """Whether workload name's run took exactly one tick per sleep (no tick
    fell between references other than where its pace puts them)."""
    m = re.search(r"^refs: %s: (\d+) sleeps, (\d+) ticks between the first and the last"
                  r" \(\d+ to \d+\)$" % name, out, re.M)
    return bool(m) and int(m.group(1)) == int(m.group(2)) + 1


def parse_rw(out, name):
    """(string, reads, per_tick, counts) of workload name's lines, Nones
    for what is missing."""
    string = reads = per_tick = None
    t = re.search(r"^refs: %s: pid \d+, a tick every (\d+) references$" % name, out, re.M)
    if t:
        per_tick = int(t.group(1))
    m = re.search(r"^refs: %s: string (\d+):((?: \d+r?)*)$" % name, out, re.M)
    if m:
        words = m.group(2).split()
        for more in re.findall(r"^refs: %s: more:((?: \d+r?)*)$" % name, out, re.M):
            words += more.split()
        if len(words) == int(m.group(1)):
            string = [int(w.rstrip("r")) for w in words]
            reads = [w.endswith("r") for w in words]
    c = re.search(r"^refs: %s: frames (\d+) references (\d+) faults (\d+) evictions (\d+)"
                  r" writebacks (\d+) swapins (\d+)$" % name, out, re.M)
    counts = tuple(int(x) for x in c.groups()) if c else None
    return string, reads, per_tick, counts


def parse(out, name):
    """(string, counts) of workload name's lines, or (None, None)."""
    string, _, _, counts = parse_rw(out, name)
    return string, counts


def boot_paced(record, name, strategy, tag, text, names):
    """The log of a boot of text; for NRU and aging under -icount, the
    first of PACE_TRIES whose workloads (names) all kept their pace."""
    sampled = any(("replace=%s\n" % p) in text for p in SAMPLED)
    for attempt in range(PACE_TRIES if sampled else 1):
        out = swap_checks.boot_config(strategy, tag, text, OUT,
                                      extra=swap_checks.ICOUNT if sampled else ())
        if not sampled or (out and all(paced(out, n) for n in names)):
            break
    if sampled:
        record(out is not None and all(paced(out, n) for n in names),
               name + ": the ticks fell where the pace puts them (ticks = sleeps - 1)",
               "after %d boots: %s" % (PACE_TRIES, re.findall(r"^refs: .*sleeps.*$",
                                                                 out or "", re.M)))
    return out


def sim_counts(policy, frames, string, reads, per_tick):
    c = replacement_sim.run(policy, frames, string, reads, per_tick)
    return c["faults"], c["evictions"], c["writebacks"], c["swapins"]


def check_run(record, strategy, policy, workload, frames):
    name = "replace/%s/%s-%s-%d" % (strategy, workload, policy, frames)
    text = "run=%s\nuser_frames=%d\nreplace=%s\n" % (workload, frames, policy)
    out = boot_paced(record, name, strategy, "%s-%s-%d" % (workload, policy, frames), text,
                     [workload])
    string, reads, per_tick, counts = parse_rw(out or "", workload)
    if not record(out is not None and string is not None and counts is not None and
                  per_tick is not None,
                  name + ": the workload runs and prints its pace, string and counts",
                  (out or "no halt")[-400:].replace("\n", " | ")):
        return None
    got_frames, refs = counts[:2]
    want = sim_counts(policy, frames, string, reads, per_tick)
    record(got_frames == frames and refs == len(string) and counts[2:] == want,
           name + ": %d faults, %d evictions, %d write-backs, %d swap-ins: exactly the"
           " simulator's" % want,
           "kernel: frames %d, %d references, counts %s" % (got_frames, refs, counts[2:]))
    return counts[2]


LOCAL_QUOTA = 4


COMPETE = ("compete-hot", "compete-scan")


def check_local(record, strategy, policy):
    """user/compete.c under scope=local, quota=LOCAL_QUOTA: each process's
    faults are the simulator's for its own string with its quota alone."""
    name = "replace/%s/compete-%s-local-%d" % (strategy, policy, LOCAL_QUOTA)
    text = "run=compete\nscope=local\nquota=%d\nreplace=%s\n" % (LOCAL_QUOTA, policy)
    out = boot_paced(record, name, strategy, "compete-%s" % policy, text, COMPETE) or ""
    record("  policy %s, scope local, %d frames each (quota=)" % (policy, LOCAL_QUOTA) in out,
           name + ": the boot names the policy, the scope and the quota",
           out[-300:].replace("\n", " | "))
    for proc in COMPETE:
        string, reads, per_tick, counts = parse_rw(out, proc)
        if not record(string is not None and counts is not None and per_tick is not None,
                      name + ": %s prints its string and counts" % proc, "missing"):
            continue
        want = sim_counts(policy, LOCAL_QUOTA, string, reads, per_tick)
        record(counts[2:] == want,
               name + ": %s: %d faults, %d evictions, %d write-backs, %d swap-ins, the"
               " simulator's with %d frames of its own" % ((proc,) + want + (LOCAL_QUOTA,)),
               "kernel: %s" % (counts[2:],))


PFF = re.compile(r"^pff: tick (\d+): pid (\d+) quota (\d+) -> (\d+) \((\d+) faults in (\d+)"
                 r" ticks\)$", re.M)
PFF_TEXT = ("run=compete\nuser_frames=12\nscope=pff\npff_window=4\npff_low=1\npff_high=2\n"
            "pff_min=2\npff_max=9\nreplace=clock\n")


def pff_changes(out):
    return [tuple(int(x) for x in m.groups()) for m in PFF.finditer(out)]


def check_pff(record, strategy):
    """user/compete.c under scope=pff: the quotas move by the rules."""
    name = "replace/%s/compete-pff" % strategy
    out = swap_checks.boot_config(strategy, "compete-pff", PFF_TEXT, OUT,
                                  extra=swap_checks.ICOUNT) or ""
    record("  policy clock, scope pff: quotas from 5 in 2..9" in out and
           "  pff: every 4 ticks, more than 2 faults: +1 frame, fewer than 1: -1" in out,
           name + ": the boot names the scope, the first quota, the bounds and the rules",
           out[-300:].replace("\n", " | "))
    changes = pff_changes(out)
    quota, bad = {}, []
    for tick, pid, was, now, faults, window in changes:
        up = now == was + 1 and faults > 2 and now <= 9
        down = now == was - 1 and faults < 1 and now >= 2
        if window != 4 or tick % 4 or quota.get(pid, 5) != was or not (up or down):
            bad.append((tick, pid, was, now, faults))
        quota[pid] = now
    record(len(changes) >= 2 and not bad and any(c[3] > c[2] for c in changes),
           name + ": each quota change is one frame at a window's end, within 2..9, up only"
           " after more than 2 faults, down only after none; some quota grew",
           "%d changes; against the rules: %s" % (len(changes), bad[:4]))
    for proc in COMPETE:
        _, counts = parse(out, proc)
        record(counts is not None and "refs: compete: " not in out,
               name + ": %s runs to its end" % proc, out[-300:].replace("\n", " | "))


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
        check_pff(record, strategy)
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    results = [0, 0]

    def rec(ok, name, why=""):
        results[0 if ok else 1] += 1
        print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
        return ok
    run(rec, sys.argv[1:] or STRATEGIES)
    print("%d passed, %d failed" % tuple(results))
