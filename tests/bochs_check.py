#!/usr/bin/env python3
"""bochs_check.py - the scripted Bochs runs of `make test`.

tests/run_tests.py calls run(record), so every check counts in the same
"N passed, N failed" line (alone: `python3 tests/bochs_check.py` after
`make debug-images images`).

Bochs 2.7 runs headless (bochsrc: rfb display, no client awaited) and
non-interactively: its debugger reads an -rc command file holding one `c`
per magic breakpoint the debug image must hit (common/debug.h), so a boot
passes only if it stops at exactly MILESTONES, in order. Stopped at the
last one ("halted", right before the final HLT, page tables live), it is
asked `page <va>` for every final-translation address the kernel printed:
those are known only then, so they reach the debugger on its standard input,
which it reads once the -rc file is exhausted. Each answer must match the
kernel's line: the frame, the page size (the level whose entry has PS),
write and execute permission (W at every level, XD at none), or "not
available" for an unmapped address. Non-canonical addresses are not asked:
Bochs's `page` walks bits 47:12 and ignores 63:48, where the CPU raises #GP
before any walk.

Also: the stale-TLB demo image shows, at its breakpoint, `tlb` holding frame
A while `page` walks to frame B, and the entry gone after INVLPG; the normal
images carry no magic breakpoint; and with `--transcript STRATEGY` this file
replays the walkthrough of NOTES.md ("Stepping through paging in Bochs"):
at each stop it runs the commands the kernel's "look:" lines suggest.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
import ring3_checks  # noqa: E402
import vm_checks  # noqa: E402
import swap_checks  # noqa: E402
import pagesize_check  # noqa: E402
import livelock_checks  # noqa: E402

STRATEGIES = ["identity", "table-offset", "offset", "temporary", "recursive"]
TIMEOUT = 60
NO_1G_CPU = "corei7_sandy_bridge_2600k"   # Bochs model without 1 GiB pages
BREAK = "pagelab break: "
MILESTONES = [
    "stage2: page tables built, CR3 not loaded yet",
    "stage2: long mode is on",
    "kernel entry",
    "first page-table frame reached: %s",
    "before the example mappings",
    "after the example mappings",
    "inside a deliberate page fault",
    "before an unmap that frees tables",
    "after the unmap",
    # the processes of the debug images' run list (tests/guest/debug.cfg)
    "first entry into ring 3",
    "demand-zero page fault resolved",
    "system call entry",
    "CR3 switch to another process",
    "copy-on-write fault resolved",
    "user page fault",
    "halted",
]
PROCESS_FIRST = MILESTONES.index("first entry into ring 3")
STALE_TLB = ["stale TLB: PTE changed without invlpg", "stale TLB: after invlpg"]
MAGIC_BREAK = re.compile(r"\bxchg\s+%bx,%bx")


class Bochs:
    """One headless Bochs run of a copy of `image` (Bochs locks the file it
    opens, and a user's `make bochs` may have it open)."""

    def __init__(self, image, rc_lines, extra=()):
        self.dir = qemu.RunDir("bochs-")
        disk = self.dir.file("disk.img")
        shutil.copyfile(image, disk)
        rc = self.dir.file("commands.rc")
        with open(rc, "w") as f:
            f.write("".join(l + "\n" for l in rc_lines))
        self.serial_path = self.dir.file("serial.log")
        self.out_path = self.dir.file("bochs.out")
        self.out = open(self.out_path, "w")
        cmd = ["tools/bochs.sh", "-q", "-f", "bochsrc", "-rc", rc,
               'ata0-master: type=disk, path="%s", mode=volatile' % disk,
               "com1: enabled=1, mode=file, dev=%s" % self.serial_path,
               "log: %s" % self.dir.file("bochs.log")] + list(extra)
        # a session of its own: tools/bochs.sh runs bochs-bin (and sed) as
        # children, and only killing the whole group stops them all
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.out,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)

    def serial(self):
        return qemu.read_log(self.serial_path)

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("latin-1")

    def wait_serial(self, text, count=1, timeout=TIMEOUT):
        """True once `text` occurs `count` times on serial; False on timeout/exit."""
        end = time.time() + timeout
        while time.time() < end:
            if self.serial().count(text) >= count:
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return self.serial().count(text) >= count

    def wait_output(self, text, timeout=TIMEOUT):
        """True once `text` is in Bochs's own output (a debugger answer)."""
        end = time.time() + timeout
        while time.time() < end and self.proc.poll() is None:
            if text in self.output():
                return True
            time.sleep(0.05)
        return text in self.output()

    def send(self, lines):
        """Debugger commands on stdin, read once the -rc file is done."""
        self.proc.stdin.write("".join(l + "\n" for l in lines))
        self.proc.stdin.flush()

    def finish(self, timeout=TIMEOUT):
        """Send `quit`, wait for the exit; returns Bochs's output."""
        try:
            self.send(["quit"])
            self.proc.stdin.close()
            self.proc.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.kill()
        self.out.close()
        return self.output()

    def kill(self):
        """Stops Bochs and the wrapper's other children at once (SIGKILL to
        the session: a Bochs that runs with no debugger prompt never reads
        `quit`, and killing only the wrapper would leave bochs-bin spinning)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def close(self):
        """Stops whatever is left of the run, then removes its files, or
        keeps them if a check failed (qemu.RunDir)."""
        if self.proc.poll() is None or not self.out.closed:
            self.kill()
            self.out.close()
        self.dir.close()


def canonical(va):
    """Bits 63:47 all equal (SDM Vol. 1, 3.3.7.1)."""
    return va >> 47 in (0, 0x1FFFF)


def breaks_seen(serial):
    return [l[len(BREAK):] for l in serial.splitlines() if l.startswith(BREAK)]


def expected_breaks(strategy, demo=False):
    names = [m % strategy if "%s" in m else m for m in MILESTONES]
    return names[:PROCESS_FIRST] + (STALE_TLB if demo else []) + names[PROCESS_FIRST:]


def milestones_match(seen, want):
    """Each seen break starts with the wanted name (the strategy's break
    goes on with ", how it reaches the frame")."""
    return len(seen) == len(want) and all(s == w or s.startswith(w + ",")
                                          for s, w in zip(seen, want))


# ---------------------------------------------------------------- `page`

LEVEL = re.compile(r"^\s*(PML4|PDPE|PDE|PTE): 0x([0-9a-f]+)\s+(.*)$")
MAPS = re.compile(r"^linear page 0x([0-9a-f]+) maps to physical page 0x([0-9a-f]+)")
NOT_AVAILABLE = re.compile(r"^physical address not available for linear 0x([0-9a-f]+)")


def parse_pages(text):
    """Bochs's answers to `page`, in order: dicts with linear, frame (None if
    not available), size and perms (rwx as the final-translation lines)."""
    results, levels = [], []
    for line in text.splitlines():
        line = re.sub(r"^<bochs:\d+> (page \S+)?", "", line)
        m = LEVEL.match(line)
        if m:
            levels.append((m.group(1), m.group(3).split()))
            continue
        m, n = MAPS.match(line), NOT_AVAILABLE.match(line)
        if not (m or n):
            continue
        size = "4K"
        for name, flags in levels:
            if "PS" in flags:
                size = {"PDPE": "1G", "PDE": "2M"}.get(name, "?")
        writable = all("W" in flags for _, flags in levels)
        executable = not any("XD" in flags for _, flags in levels)
        results.append({"linear": int((m or n).group(1), 16),
                        "frame": int(m.group(2), 16) if m else None, "size": size,
                        "perms": "r" + ("w" if writable else "-") + ("x" if executable else "-")})
        levels = []
    return results


def compare(finals, answers):
    """Problems, one string each, between the kernel's lines and Bochs's."""
    wrong = []
    for (va, pa, rest), got in zip(finals, answers):
        if got["linear"] != va & ~0xFFF:
            wrong.append("0x%x: Bochs answered for 0x%x" % (va, got["linear"]))
        elif pa is None and got["frame"] is not None:
            wrong.append("0x%x: kernel unmapped, Bochs 0x%x" % (va, got["frame"]))
        elif pa is not None:
            size, perms = rest.split()[:2]
            if (got["frame"], got["size"], got["perms"]) != (pa & ~0xFFF, size, perms):
                wrong.append("0x%x: kernel 0x%x %s %s, Bochs %s %s %s" % (
                    va, pa & ~0xFFF, size, perms,
                    "unmapped" if got["frame"] is None else hex(got["frame"]), got["size"], got["perms"]))
    if len(answers) != len(finals):
        wrong.append("%d answers for %d questions" % (len(answers), len(finals)))
    return wrong


def check_boot(record, name, image, strategy, extra=(), sizes=("4K", "2M", "1G")):
    want = expected_breaks(strategy)
    first = want.index(MILESTONES[PROCESS_FIRST]) + 1
    b = Bochs(image, ["c"] * first, extra)
    try:
        check_first_user(record, name, b, len(want) - first)
        check_halted_boot(record, name, b, want, sizes)
    finally:
        b.close()


ENTRY_LB = re.compile(r"`lb 0x([0-9a-f]+)`")


def check_first_user(record, name, b, stops_left):
    """Stopped before the first IRETQ into ring 3: the breakpoint its look:
    line suggests (`lb <entry>`, `c`) must stop at the program's first
    instruction in ring 3 (CS 0x23) on a page with U at every level. Then
    on to the other stops."""
    at = b.wait_serial("`d 1`")         # the stop's last look: line is out
    m = ENTRY_LB.search(b.serial()) if at else None
    hit = answer = None
    if m:
        b.send(["lb 0x" + m.group(1), "c"])
        hit = b.wait_output("Breakpoint 1, ")
        if hit:
            mark = len(b.output())
            b.send(["sreg", "page rip", "d 1"])
            b.wait_output("linear page 0x%016x" % (int(m.group(1), 16) & ~0xFFF))
            answer = b.output()[mark:]
    b.send(["c"] * stops_left)
    levels = [l for l in (answer or "").splitlines() if LEVEL.match(re.sub(r"^<bochs:\d+> ", "", l))]
    user = len(levels) == 4 and all(" U " in l for l in levels)
    record(bool(m and hit and answer and "cs:0x0023" in answer and user),
           name + ": the first process's first instruction runs in ring 3 (cs 0x23) on a user page",
           "entry %s, breakpoint %s, answer %r" % (m and m.group(1), hit, (answer or "")[-400:]))


def check_halted_boot(record, name, b, want, sizes):
    halted = b.wait_serial(BREAK + "halted")
    serial = b.serial()
    finals = qemu.final_translations(serial) or []
    asked = [f for f in finals if canonical(f[0])]
    vnc = vnc_sockets(b.output()) if halted else None
    if halted:
        b.send(["page 0x%x" % va for va, _, _ in asked])
    out = b.finish()
    record(vnc is not None and vnc[0] and not vnc[1],
           name + ": Bochs's VNC display listens on 127.0.0.1 only", "listening: %s" % (vnc,))
    seen = breaks_seen(serial)
    record(halted and milestones_match(seen, want), name + ": stops at every milestone, in order",
           "saw %s" % seen)
    if not record(bool(asked), name + ": final translations well formed", "none on serial"):
        return
    answers = parse_pages(out.rsplit(BREAK + "halted", 1)[-1])
    wrong = compare(asked, answers)
    unmapped = sum(1 for f in asked if f[1] is None)
    kinds = {f[2].split()[0] for f in asked if f[1] is not None}
    missing = [s for s in sizes if s not in kinds] + ([] if unmapped else ["unmapped"])
    record(not wrong and not missing,
           name + ": %d final translations agree with Bochs's page (%d mapped: %s; %d unmapped;"
           " %d non-canonical not asked)" % (len(asked), len(asked) - unmapped,
                                             "/".join(sorted(kinds)), unmapped,
                                             len(finals) - len(asked)),
           "; ".join(wrong[:5] + ["no %s line" % m for m in missing]))


VNC_PORT = re.compile(r"^pagelab: Bochs's VGA screen: vncviewer 127\.0\.0\.1::(\d+)", re.M)


def vnc_sockets(output):
    """qemu.listening() for the VNC port tools/bochs.sh reported; None when
    it reported none."""
    m = VNC_PORT.search(output)
    return qemu.listening(int(m.group(1))) if m else None


def tlb_entry(text, kind):
    """(lpf, ppf) of the first ITLB/DTLB entry `tlb` printed in text."""
    m = re.search(r"<%s\.entry\d+>\s*entry\d+ = \{\s*lpf = 0x([0-9a-f]+).*?ppf = 0x([0-9a-f]+)"
                  % kind, text, re.S)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def check_stale_tlb(record, name, image, strategy):
    want = expected_breaks(strategy, demo=True)
    stop = want.index(STALE_TLB[0]) + 1
    b = Bochs(image, ["c"] * stop)
    try:
        check_stale_tlb_run(record, name, b, want, stop)
    finally:
        b.close()


def check_stale_tlb_run(record, name, b, want, stop):
    ok = b.wait_serial(BREAK + STALE_TLB[0])
    m = re.search(r"demo: stale TLB: 0x([0-9a-f]+) -> frame A 0x([0-9a-f]+)", b.serial())
    n = re.search(r"demo: PTE now says frame B 0x([0-9a-f]+)", b.serial())
    if ok and m and n:
        va = m.group(1)
        b.send(["tlb 0x" + va, "page 0x" + va, "c", "tlb 0x" + va] + ["c"] * (len(want) - stop - 1))
        b.wait_serial(BREAK + "halted")
    serial, out = b.serial(), b.finish()
    if not record(ok and m and n, name + ": the demo stops with the PTE changed",
                  "serial ends with: " + serial[-300:].replace("\n", " | ")):
        return
    va, a, bb = int(m.group(1), 16), int(m.group(2), 16), int(n.group(1), 16)
    stale, after = out.split(BREAK + STALE_TLB[1], 1) if BREAK + STALE_TLB[1] in out else (out, "")
    page = parse_pages(stale.rsplit(BREAK + STALE_TLB[0], 1)[-1])
    record("read: frame A (stale)" in serial and "read: frame B (fresh)" in serial,
           name + ": the kernel reads frame A before invlpg, frame B after", "")
    record(tlb_entry(stale, "DTLB") == (va, a) and page and page[-1]["frame"] == bb,
           name + ": Bochs's tlb holds frame A while page walks to frame B",
           "tlb %s, page %s" % (tlb_entry(stale, "DTLB"), page and page[-1]))
    record(tlb_entry(after, "DTLB") is not None and tlb_entry(after, "DTLB")[0] != va,
           name + ": after invlpg the TLB entry is gone", "tlb %s" % (tlb_entry(after, "DTLB"),))
    record(milestones_match(breaks_seen(serial), want), name + ": stops at every milestone",
           "saw %s" % breaks_seen(serial))


def check_no_magic(record, strategy):
    """Normal builds compile the breakpoints out; debug builds have them."""
    def count(elf, arch):
        p = subprocess.run(["objdump", "-d"] + arch + [elf], capture_output=True, text=True)
        return len(MAGIC_BREAK.findall(p.stdout)) if p.returncode == 0 else None
    normal = [count("build/%s/kernel.elf" % strategy, []),
              count("build/stage2.elf", ["-m", "i386"])]
    debug = [count("build/%s/dbg/kernel-debug.elf" % strategy, []),
             count("build/dbg/stage2.elf", ["-m", "i386"])]
    record(None not in normal + debug and sum(normal) == 0 and sum(debug) >= len(MILESTONES),
           "bochs/%s: magic breakpoints only in the debug image" % strategy,
           "kernel, stage2: normal %s, debug %s" % (normal, debug))


def transcript(strategy, demo):
    """Walk through the debug image like NOTES.md: at each stop, run the
    commands the "look:" lines suggest, then `c`. Prints Bochs's output."""
    image = "build/%s/debug%s.img" % (strategy, "-stale-tlb" if demo else "")
    want = expected_breaks(strategy, demo)
    b = Bochs(image, [], ['debug_symbols: file="build/%s/dbg/bochs-debug%s.sym"'
                          % (strategy, "-stale-tlb" if demo else "")])
    b.send(["c"])
    for i in range(len(want)):
        if not b.wait_serial(BREAK, count=i + 1):
            break
        time.sleep(0.2)
        look = b.serial().split(BREAK)[i + 1].split("\n" + BREAK.strip())[0]
        cmds = [c for c in re.findall(r"`([^`]+)`", look) if "<" not in c and c != "c"]
        lb = [k for k, c in enumerate(cmds) if c.startswith("lb ")]
        if lb:      # `lb <va>` then `c`: the commands after it run at that breakpoint
            b.send(cmds[:lb[0] + 1] + ["c"])
            b.wait_output("Breakpoint 1, ")
            cmds = cmds[lb[0] + 1:]
        b.send(cmds + (["c"] if i + 1 < len(want) else []))
    print(b.finish())
    b.close()


def run_to_halt(record, name, image, what, checks, timeout=300):
    """A normal image (no magic breakpoints: one `c`) to its halt under
    Bochs's own CPU model; then checks(serial) judges what it printed."""
    b = Bochs(image, ["c"])
    try:
        halted = b.wait_serial(qemu.HALTED, timeout=timeout)
        out = b.serial()
        b.kill()        # no debugger prompt to send `quit` to: it would never be read
        if record(halted, name + ": %s boots to 'pagelab: halted'" % what,
                  "serial ends with: " + out[-400:].replace("\n", " | ")):
            checks(out)
    finally:
        b.close()


def check_ring3(record, name, image):
    """The test image to its halt, for the ring-3 checks
    (tests/ring3_checks.py), the swap checks and the page-size trade-off's
    (tests/pagesize_check.py): the whole in-guest suite runs, about a minute."""
    run_to_halt(record, name, image, "the test image",
                lambda out: (ring3_checks.check(record, name, out),
                             swap_checks.check_test_image(record, name, out),
                             pagesize_check.check_test_image(record, name, out)))


def check_vm(record, name, strategy):
    """The virtual-memory suite (user/vmsuite, tests/guest/vm.cfg) to its
    halt: every resolved fault (demand-zero, the zero frame, copy-on-write,
    shared memory, the stack and its guard) and the end-of-boot frame
    count, judged by the same checks as under QEMU (tests/vm_checks.py)."""
    def checks(out):
        vm_checks.check_serial(record, name, out)
        vm_checks.check_strategy_costs(record, name, strategy, out)
    run_to_halt(record, name, "build/%s/vm.img" % strategy, "the suite's image", checks)


def check_swap(record, name):
    """swap.img (user/swaptest.c under user_frames=16, FIFO, global) to its
    halt under Bochs's CPU and its ATA disk (volatile: nothing reaches the
    image): the checks tests/swap_checks.py makes under QEMU."""
    run_to_halt(record, name, "build/offset/swap.img", "the swap image",
                lambda out: swap_checks.check_swaptest_out(record, name, "fifo", True, out))


def check_livelock(record, name):
    """user/livelock.c (tests/livelock_checks.py) under Bochs's CPU, whose
    single-step trap the detection relies on: with user_frames=1 both
    instructions killed by name at their addresses, with 2 both complete
    with FIFO's exact counts."""
    syms = livelock_checks.symbols()
    for frames in (1, 2):
        tag = "frames%d" % frames
        path = swap_checks.image_with_config("offset", "bochs-livelock-" + tag,
                                             livelock_checks.config(frames),
                                             out=livelock_checks.OUT)

        def checks(out, frames=frames, n="%s/%s" % (name, tag)):
            if frames == 1:
                livelock_checks.check_killed(record, n, out, syms, "user_frames", 1)
            else:
                livelock_checks.check_completed(record, n, out, frames)
            livelock_checks.check_end(record, n, out)
        try:
            run_to_halt(record, "%s/%s" % (name, tag), path, "the livelock image", checks)
        finally:
            os.remove(path)
    if os.path.isdir(livelock_checks.OUT) and not os.listdir(livelock_checks.OUT):
        os.rmdir(livelock_checks.OUT)


def run(record, strategies=STRATEGIES):
    for s in strategies:
        check_no_magic(record, s)
        check_boot(record, "bochs/%s" % s, "build/%s/debug.img" % s, s)
        check_stale_tlb(record, "bochs/%s/stale-tlb" % s, "build/%s/debug-stale-tlb.img" % s, s)
        check_vm(record, "bochs/%s/vm" % s, s)
    if "offset" in strategies:
        check_boot(record, "bochs/offset/no-1g-pages", "build/offset/debug.img", "offset",
                   extra=["cpu: model=%s, count=1, ips=50000000" % NO_1G_CPU],
                   sizes=("4K", "2M"))
        check_ring3(record, "bochs/offset/ring3", "build/offset/test.img")
        check_swap(record, "bochs/offset/swap")
        check_livelock(record, "bochs/offset/livelock")
    # every run's Bochs is gone: a leaked bochs-bin keeps a CPU busy for good
    left = subprocess.run(["pgrep", "-f", "bochs-bin .*build/test/runs/bochs-"],
                          capture_output=True, text=True).stdout.split()
    record(not left, "bochs: no Bochs process left running after the runs", " ".join(left))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategies", nargs="*", default=STRATEGIES)
    ap.add_argument("--transcript", metavar="STRATEGY")
    ap.add_argument("--demo", action="store_true", help="with --transcript: the stale-TLB image")
    a = ap.parse_args()
    if a.transcript:
        transcript(a.transcript, a.demo)
        return
    qemu.run_alone(run, a.strategies)


if __name__ == "__main__":
    main()
