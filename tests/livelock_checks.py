#!/usr/bin/env python3
"""livelock_checks.py - livelock detection in the guest (kernel/proc/
livelock.h), for tests/run_tests.py.

user/livelock.c runs a movsq from one heap page to another, both on swap,
and then a rep movsb over many pages, each in a child of its own, in
copies of build/<strategy>/swap.img with limits just below, at and above
what one instruction needs (two pages):
  - user_frames=1 (every strategy; FIFO, and Clock on offset): both
    children killed with the two named lines at the instruction's address
    (from the program's symbols, read here with nm) and "user_frames=1",
    the parent told status -1 and going on; under offset's FIFO run with
    faultlog=on, swaptest (its data checked word by word) and hello in the
    same run list, and the three faults of the movsq in the log, the last
    one "killed";
  - user_frames=2 (every strategy) and 3 (offset): both complete, every
    word copied, with the faults and swap-ins of the instruction alone
    exactly what tests/replacement_sim.py's FIFO gives for the pages the
    program touches;
  - scope=local with quota=1, 2, 3 under user_frames=8: the same, the kill
    line naming quota=1;
  - scope=pff: pff_max=1 kills naming pff_max=1; pff_max=2 with quota=1
    (under -icount, so the windows fall on instructions) lets the
    livelocked movsq's fault rate raise its quota to 2, after which it
    completes: the rule must not fire while a quota can still grow.
Every boot must reach "pagelab: halted" with every frame and swap slot
free again, and the kill lines fit 80 columns.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import layout  # noqa: E402
import replacement_sim  # noqa: E402
import swap_checks  # noqa: E402

OUT = "build/test/livelock"
ELF = "build/user/livelock.elf"
PAGE = layout.constant("PAGE_SIZE")
COLUMNS = layout.constant("VGA_COLS")
STRATEGIES = swap_checks.STRATEGIES


def symbols(elf=ELF):
    """{name: address} of a program's symbols (nm)."""
    r = subprocess.run(["nm", elf], capture_output=True, text=True, check=True)
    return {m.group(2): int(m.group(1), 16)
            for m in re.finditer(r"^([0-9a-f]+) \w (\w+)$", r.stdout, re.M)}


def segment(frames, prefix, instr):
    """(faults, swap-ins) of the references instr under FIFO with frames
    frames after prefix: the simulator's counts with and without them.
    A reference is (page, read)."""
    def counts(refs):
        c = replacement_sim.run("fifo", frames, [p for p, _ in refs], [r for _, r in refs])
        return c["faults"], c["swapins"]
    whole, before = counts(prefix + instr), counts(prefix)
    return whole[0] - before[0], whole[1] - before[1]


def movsq_counts(frames):
    """The movsq child: pages 0 (A) and 1 (B) and `frames` more written,
    then A read and B written by the one instruction."""
    prefix = [(p, False) for p in range(2 + frames)]
    return segment(frames, prefix, [(0, True), (1, False)])


def rep_counts(frames, pages):
    """The rep movsb child: its `pages` source pages written, then each
    source page read and its destination page (pages on) written, in
    turn."""
    prefix = [(p, False) for p in range(pages)]
    instr = []
    for k in range(pages):
        instr += [(k, True), (pages + k, False)]
    return segment(frames, prefix, instr)


def kill_re(sym, key, bound):
    return re.compile(r"^pagelab: killed pid (\d+) \(livelock\): livelock at RIP 0x%016x\n"
                      r"  one instruction needs %d\+ heap/mmap pages at once, more than %s=%d$"
                      % (sym, bound + 1, key, bound), re.M)


FINAL = re.compile(r"pagelab: frames: (\d+) free at boot, (\d+) free now; (\d+) references"
                   r" held\npagelab: shared objects: (\d+) alive; frame records: (\d+) frames,"
                   r" (\d+) at boot\npagelab: swap: (\d+) slots in use; replacement: (\d+) pages"
                   r" resident, (\d+) evicted\n")


def check_end(record, name, out):
    """Every frame and slot free at the end (swap_checks' rule)."""
    m = FINAL.search(out)
    ok = False
    if m:
        at_boot, now, refs, shm, pages, pages_at_boot, slots, res, _ = (int(x) for x in
                                                                         m.groups())
        ok = (now == at_boot - (pages - pages_at_boot) and refs == 0 and shm == 0 and
              slots == 0 and res == 0)
    record(ok, name + ": at the end every frame and swap slot is free again, nothing resident",
           m.group(0).replace("\n", " | ") if m else "no frame report")


def check_killed(record, name, out, syms, key, bound):
    for what, sym in (("movsq", "livelock_movsq"), ("rep movsb", "livelock_rep_movsb")):
        m = kill_re(syms[sym], key, bound).search(out)
        pid = m.group(1) if m else None
        record(m is not None and
               "livelock: %s: child pid %s ended with status -1\n" % (what, pid) in out,
               name + ": the %s child is killed at %s (0x%x), naming %s=%d; the parent is told"
               " -1" % (what, sym, syms[sym], key, bound),
               "kill line %s" % ("found" if m else "missing"))
        if m:
            wide = [l for l in m.group(0).split("\n") if len(l) > COLUMNS]
            record(not wide, name + ": the %s kill lines fit %d columns" % (what, COLUMNS),
                   "; ".join(wide))
    record("livelock: done\n" in out, name + ": the parent goes on to its end", "")


def check_completed(record, name, out, frames, exact=True):
    """Both children complete, every word copied; with exact, the
    instructions' faults and swap-ins are the simulator's."""
    record("livelock at RIP" not in out, name + ": no livelock kill", "")
    m = re.search(r"^livelock: pid (\d+): movsq: faults (\d+) swap-ins (\d+)\n"
                  r"livelock: pid \1: movsq: page B holds 0x[0-9a-f]+: page A's word\n", out,
                  re.M)
    record(m is not None and "livelock: movsq: child pid %s ended with status 0\n"
           % m.group(1) in out,
           name + ": the movsq completes, B holds A's word, the child exits 0",
           m.group(0) if m else "no movsq lines")
    r = re.search(r"^livelock: pid (\d+): rep movsb: faults (\d+) swap-ins (\d+)\n"
                  r"livelock: pid \1: rep movsb: (\d+) pages, (\d+) words wrong\n", out, re.M)
    record(r is not None and int(r.group(5)) == 0 and
           "livelock: rep movsb: child pid %s ended with status 0\n" % r.group(1) in out,
           name + ": the rep movsb completes, no word wrong, the child exits 0",
           r.group(0) if r else "no rep movsb lines")
    if exact and m and r:
        want = (movsq_counts(frames), rep_counts(frames, int(r.group(4))))
        got = ((int(m.group(2)), int(m.group(3))), (int(r.group(2)), int(r.group(3))))
        record(got == want, name + ": the instructions' faults and swap-ins are FIFO's with %d"
               " frames: movsq %s, rep movsb %s" % (frames, want[0], want[1]), "got %s" % (got,))
    record("livelock: done\n" in out, name + ": the parent goes on to its end", "")


def check_others(record, name, out):
    """swaptest and hello, in the same run list, went on."""
    steps = list(swap_checks.STEP.finditer(out))
    record(len(steps) == 5 and all(int(s.group(4)) == 0 for s in steps) and
           "swaptest: done, child status 0" in out,
           name + ": swaptest in the same run: its five steps, no word lost or mixed",
           "%d steps" % len(steps))
    record(re.search(r"^hello: pid \d+, hello from user mode$", out, re.M) is not None,
           name + ": hello in the same run", "")


def check_fault_log(record, name, out, syms):
    """The movsq child's faults in the log: A read, B written, A read
    again: the last "killed", right before the kill line."""
    heap = (syms["_end"] + PAGE - 1) // PAGE * PAGE
    m = kill_re(syms["livelock_movsq"], "user_frames", 1).search(out)
    if not m:
        record(False, name + ": the movsq's faults in the log", "no kill line")
        return
    pid = m.group(1)
    pf = re.findall(r"^pagelab: #PF pid %s cr2 0x([0-9a-f]{16}) err 0x([0-9a-f]{4}) \([^)]*\)"
                    r" rip 0x%016x: ([\w-]+)\n" % (pid, syms["livelock_movsq"]),
                    out[:m.start()], re.M)
    want = [("%016x" % heap, "0004", "swap-in"), ("%016x" % (heap + PAGE), "0006", "swap-in"),
            ("%016x" % heap, "0004", "killed")]
    record(pf == want and out[:m.start()].endswith("%s: killed\n" % ("rip 0x%016x"
                                                                        % syms["livelock_movsq"])),
           name + ": the movsq's three faults in the log (A read, B written, A read: killed),"
           " the last right before the kill line", "got %s" % (pf,))


def config(frames=None, scope="", policy="fifo", extra=""):
    text = "run=livelock\nrun=hello\nreplace=%s\n" % policy
    if frames:
        text += "user_frames=%d\n" % frames
    return text + scope + extra


def boot(record, strategy, tag, text, extra=()):
    out = swap_checks.boot_config(strategy, tag, text, out=OUT, extra=extra)
    record(out is not None, "livelock/%s/%s: the boot reaches its halt" % (strategy, tag), "")
    return out


def frames_line(record, name, out, frames):
    record(("livelock: %d frames\n" % frames) in out,
           name + ": the program sees %d frames" % frames, "")


def run(record, strategies=STRATEGIES):
    syms = symbols()
    for s in strategies:
        for frames in (1, 2) + ((3,) if s == "offset" else ()):
            tag = "frames%d" % frames
            full = s == "offset" and frames == 1
            text = config(frames, extra="run=swaptest\nfaultlog=on\n" if full else "")
            out = boot(record, s, tag, text)
            if out is None:
                continue
            name = "livelock/%s/%s" % (s, tag)
            frames_line(record, name, out, frames)
            if frames == 1:
                check_killed(record, name, out, syms, "user_frames", 1)
            else:
                check_completed(record, name, out, frames)
            if full:
                check_others(record, name, out)
                check_fault_log(record, name, out, syms)
            check_end(record, name, out)
    if "offset" not in strategies:
        return
    s = "offset"
    for policy in ("clock",):
        out = boot(record, s, "clock-frames1", config(1, policy=policy))
        if out is not None:
            check_killed(record, "livelock/offset/clock-frames1", out, syms, "user_frames", 1)
            check_end(record, "livelock/offset/clock-frames1", out)
    for quota in (1, 2, 3):
        tag = "local-quota%d" % quota
        name = "livelock/%s/%s" % (s, tag)
        out = boot(record, s, tag, config(8, "scope=local\nquota=%d\n" % quota))
        if out is None:
            continue
        frames_line(record, name, out, quota)
        if quota == 1:
            check_killed(record, name, out, syms, "quota", 1)
        else:
            check_completed(record, name, out, quota)
        check_end(record, name, out)
    name = "livelock/offset/pff-max1"
    out = boot(record, s, "pff-max1", config(8, "scope=pff\npff_max=1\n"))
    if out is not None:
        check_killed(record, name, out, syms, "pff_max", 1)
        check_end(record, name, out)
    name = "livelock/offset/pff-max2"
    out = boot(record, s, "pff-max2", config(8, "scope=pff\nquota=1\npff_max=2\n"),
               extra=swap_checks.ICOUNT)
    if out is not None:
        frames_line(record, name, out, 1)
        m = re.search(r"^livelock: pid (\d+): movsq: faults", out, re.M)
        grew = m and re.search(r"^pff: tick \d+: pid %s quota 1 -> 2 " % m.group(1), out, re.M)
        record(bool(grew), name + ": the movsq child's quota grows from 1 to 2", "")
        check_completed(record, name, out, 2, exact=False)
        check_end(record, name, out)
    if os.path.isdir(OUT) and not os.listdir(OUT):
        os.rmdir(OUT)


if __name__ == "__main__":
    results = {"pass": 0, "fail": 0}

    def rec(ok, name, why=""):
        results["pass" if ok else "fail"] += 1
        print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)), flush=True)
        return ok

    run(rec, sys.argv[1:] or STRATEGIES)
    print("%d passed, %d failed" % (results["pass"], results["fail"]))
    sys.exit(1 if results["fail"] else 0)
