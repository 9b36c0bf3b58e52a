#!/usr/bin/env python3
"""faultlog_check.py - the kernel's page-fault log (kernel/proc/fault_log.h)
against QEMU's own exception log, for every strategy.

Part of `make test` (tests/run_tests.py); alone, after `make images`:
`python3 tests/faultlog_check.py [strategy ...]`.

For each strategy a copy of build/<strategy>/disk.img gets a
/boot/pagelab.cfg with faultlog=on and a run list of programs that take
page faults (RUN_LIST: the isolation demos, each killed by one fault, and
two that take none today), and boots under QEMU/TCG with `-d int -D
<run dir>/qemu-int.log`: QEMU writes one line per exception or interrupt
it delivers, for a page fault

     6: v=0e e=0005 i=0 cpl=3 IP=0023:0000008000000039 pc=... SP=... CR2=ffffffff80200000

(QEMU 7.2, target/i386/tcg/seg_helper.c). The guest ends QEMU through
isa-debug-exit at `pagelab: halted`, so the log is complete and flushed
when it is read. Then:

- every "pagelab: #PF" serial line is well formed, and so is every v=0e
  line of QEMU's log (a changed format fails by name, it is not skipped);
  other vectors (the timer's, from X86_IRQ_VECTOR_BASE) are ignored;
- the user-mode (cpl=3) page faults of QEMU's log and the kernel's lines:
  neither empty, the same count, and pair by pair in order the same error
  code, CR2 and RIP;
- each line's (<decode>) is what the error code QEMU reported says, bit by
  bit as SDM Vol. 3A 4.7 (figure 4-12) defines them, decoded here and not
  by the kernel's pf_decode; its outcome is one the contract names; a
  "killed" line is followed by the kill line of the same pid, address and
  RIP, and every kill by a page fault has its #PF line;
- the faults the programs take by construction (their sources): the first
  read of kernel code, a write to its own code, a fetch from its stack and
  from its heap, each with the SDM's error code for it;
- kernel-mode (cpl=0) page faults: the kernel takes exactly one in these
  images, the blog experiment's write to its own code, which it announces
  itself ("caught: vector 14 at 0x..."); each cpl=0 fault must be one so
  announced (same CR2, in order), and any other fails with its CR2 and IP
  listed: none is filtered out silently;
- a self-test: the comparison, run on the first strategy's logs with one
  field changed (a CR2, an error code, a RIP, a decode, a line dropped,
  two lines swapped), must report each change.

And two boots (offset) with the same programs whose log is off, one
without a faultlog= line, one whose faultlog=on is followed by
faultlog=off and a refused faultlog=maybe (named with its line number):
the faults happen (QEMU's log has them, the kills are printed) and no
"#PF" line appears. Every file (the image copy, the config, QEMU's log) lives in
a run directory under build/test/runs/, removed unless a check failed.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402
from robustness import STRATEGIES, mtools  # noqa: E402
from modules_check import PART  # noqa: E402  (the FAT partition's offset for mtools)

IMAGE = "build/%s/disk.img"
CONFIG_PATH = layout.constant("BOOT_CONFIG_PATH")
VECTOR_PF = layout.constant("X86_VECTOR_PF")
KERNEL_TEXT = layout.constant("KERNEL_VIRT_OFFSET") + layout.constant("KERNEL_PHYS_BASE")
USER_BASE = layout.constant("USER_BASE")
USER_STACK_TOP = layout.constant("USER_STACK_TOP")
EXIT_HALTED = 2 * layout.constant("DEBUG_EXIT_HALTED") + 1     # isa-debug-exit: 2v + 1
DEBUG_EXIT = "isa-debug-exit,iobase=%#x,iosize=1" % layout.constant("DEBUG_EXIT_PORT")
TIMEOUT = 60

# hello and iso_twins take no page fault today (their lines would pair
# like any other once the kernel resolves faults); each iso_* demo below
# is killed by the one fault FAULT_OF_PROGRAM names.
RUN_LIST = ["hello", "iso_twins", "iso_kread", "iso_wcode", "iso_xstack", "iso_xheap"]

# Page-fault error code bits, SDM Vol. 3A 4.7 (figure 4-12). Written here
# again on purpose: the test decodes the error code QEMU reports without
# the kernel's definitions (kernel/trap.h) or its pf_decode.
ERR_P, ERR_WR, ERR_US, ERR_RSVD, ERR_ID, ERR_PK = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5
ERR_KNOWN = ERR_P | ERR_WR | ERR_US | ERR_RSVD | ERR_ID | ERR_PK

# What each demo does (user/<name>.c) and so the error code of the fault
# that kills it, with where CR2 must be: iso_kread reads KERNEL_TEXT (P:
# the page is present, U/S: from user mode, a read); iso_wcode writes its
# own code (P, W/R, U/S); iso_xstack and iso_xheap call a RET on their
# stack and heap (P, U/S, I/D: the leaf has XD, SDM Vol. 3A 4.6.2), where
# CR2 is the RIP of the fetch itself.
FAULT_OF_PROGRAM = {
    "iso_kread": (ERR_P | ERR_US, lambda cr2, rip: cr2 == KERNEL_TEXT),
    "iso_wcode": (ERR_P | ERR_WR | ERR_US,
                  lambda cr2, rip: USER_BASE <= cr2 < USER_BASE + (1 << 20)),
    "iso_xstack": (ERR_P | ERR_US | ERR_ID,
                   lambda cr2, rip: cr2 == rip and
                   USER_STACK_TOP - (1 << 20) <= cr2 < USER_STACK_TOP),
    "iso_xheap": (ERR_P | ERR_US | ERR_ID,
                  lambda cr2, rip: cr2 == rip and USER_BASE <= cr2 < USER_BASE + (1 << 30)),
}

# The outcomes kernel/proc/fault_log.h names.
OUTCOMES = {"zero-fill", "zero-page", "cow-copy", "cow-reuse", "shared", "stack-grow", "killed"}

KERNEL_LINE = re.compile(r"^pagelab: #PF pid (\d+) cr2 0x([0-9a-f]{16}) err 0x([0-9a-f]{4,})"
                         r" \((.*)\) rip 0x([0-9a-f]{16}): (.+)$")
QEMU_LINE = re.compile(r"^ *\d+: v=([0-9a-f]{2}) e=([0-9a-f]{4,}) i=([01]) cpl=([0-3])"
                       r" IP=([0-9a-f]{4}):([0-9a-f]{16}) pc=[0-9a-f]+ SP=[0-9a-f]{4}:[0-9a-f]+"
                       r" CR2=([0-9a-f]+)$")
PROBE_LINE = re.compile(r"^  caught: vector %d at 0x([0-9a-f]+); boot continues$" % VECTOR_PF)
KILL_LINE = re.compile(r"^pagelab: killed pid (\d+) \(([^)]+)\): page fault at 0x([0-9a-f]{16}),"
                       r" .* RIP 0x([0-9a-f]{16})$")


def decode(err):
    """The kernel's words for an error code, from the bits alone (SDM Vol. 3A
    4.7); None when a bit is set that this test does not decode."""
    if err & ~ERR_KNOWN:
        return None
    words = ["protection violation" if err & ERR_P else "page not present",
             "instruction fetch" if err & ERR_ID else "write" if err & ERR_WR else "read",
             "user mode" if err & ERR_US else "supervisor mode"]
    if err & ERR_RSVD:
        words.append("reserved bit set")
    if err & ERR_PK:
        words.append("protection key")
    return ", ".join(words)


def kernel_faults(serial):
    """([dict of each #PF line], [lines with #PF that do not parse])."""
    good, bad = [], []
    for line in serial.splitlines():
        if "#PF" not in line:
            continue
        m = KERNEL_LINE.match(line)
        if not m:
            bad.append(line)
            continue
        good.append({"pid": int(m.group(1)), "cr2": int(m.group(2), 16),
                     "err": int(m.group(3), 16), "decode": m.group(4),
                     "rip": int(m.group(5), 16), "outcome": m.group(6), "line": line})
    return good, bad


def qemu_faults(log):
    """([dict of each page fault QEMU delivered, in order], [v=0e lines that
    do not parse]). Exceptions only (i=0): INT n with n = 14 would be i=1."""
    good, bad = [], []
    for line in log.splitlines():
        if " v=%02x " % VECTOR_PF not in line:
            continue
        m = QEMU_LINE.match(line)
        if not m or m.group(3) != "0":
            bad.append(line)
            continue
        good.append({"err": int(m.group(2), 16), "cpl": int(m.group(4)),
                     "cs": int(m.group(5), 16), "rip": int(m.group(6), 16),
                     "cr2": int(m.group(7), 16), "line": line.strip()})
    return good, bad


def show(f):
    return "cr2 %#x err %#x rip %#x" % (f["cr2"], f["err"], f["rip"])


def compare(kernel, qemu_user):
    """Problems (strings) between the kernel's #PF lines and QEMU's user-mode
    page faults, pair by pair; [] when they agree. Empty logs are a problem."""
    problems = []
    if not kernel:
        problems.append("the kernel printed no #PF line")
    if not qemu_user:
        problems.append("QEMU's log has no user-mode page fault")
    if len(kernel) != len(qemu_user):
        problems.append("%d #PF lines, %d user page faults in QEMU's log"
                        % (len(kernel), len(qemu_user)))
    for i, (k, q) in enumerate(zip(kernel, qemu_user)):
        for field in ("err", "cr2", "rip"):
            if k[field] != q[field]:
                problems.append("fault %d: %s 0x%x, QEMU 0x%x (kernel: %s; QEMU: %s)"
                                % (i + 1, field, k[field], q[field], k["line"], q["line"]))
        want = decode(q["err"])
        if want is None:
            problems.append("fault %d: error code 0x%x has bits this test does not decode"
                            % (i + 1, q["err"]))
        elif k["decode"] != want:
            problems.append("fault %d: decode '%s', error code 0x%x is '%s'"
                            % (i + 1, k["decode"], q["err"], want))
    return problems


def kernel_mode_problems(serial, qemu_kernel):
    """The cpl=0 page faults must be exactly the kernel's announced probes, in
    order; [] when they are, else what is wrong."""
    probes = [int(m.group(1), 16) for m in map(PROBE_LINE.match, serial.splitlines()) if m]
    problems = []
    if not probes:
        problems.append("no 'caught: vector %d' line: the blog experiment's fault is missing"
                        % VECTOR_PF)
    for i, f in enumerate(qemu_kernel):
        if i >= len(probes) or f["cr2"] != probes[i]:
            problems.append("kernel-mode page fault no kernel line announces: %s" % f["line"])
    if len(probes) > len(qemu_kernel):
        problems.append("announced probes %s, QEMU saw %d kernel-mode page faults"
                        % (", ".join("%#x" % p for p in probes), len(qemu_kernel)))
    return problems


def outcome_problems(serial, kernel):
    """Outcomes are the contract's; a "killed" line is followed by the kill
    line of its pid, CR2 and RIP; every page-fault kill has its #PF line."""
    lines = serial.splitlines()
    problems = []
    for k in kernel:
        if k["outcome"] not in OUTCOMES:
            problems.append("outcome '%s' is not one fault_log.h names" % k["outcome"])
    for i, line in enumerate(lines):
        m = KILL_LINE.match(line)
        if not m:
            continue
        before = KERNEL_LINE.match(lines[i - 1]) if i else None
        if not before or before.group(6) != "killed" or before.group(1) != m.group(1) or \
                before.group(2) != m.group(3) or before.group(5) != m.group(4):
            problems.append("a kill without its #PF line just before: " + line)
    for i, line in enumerate(lines):
        m = KERNEL_LINE.match(line)
        followed = i + 1 < len(lines) and KILL_LINE.match(lines[i + 1])
        if m and m.group(6) == "killed" and not followed:
            problems.append("'killed' but no kill line follows: " + line)
    return problems


def program_problems(serial, kernel):
    """Each demo's killing fault: the error code and place its source gives."""
    name_of = {int(m.group(1)): m.group(2)
               for m in map(KILL_LINE.match, serial.splitlines()) if m}
    killing = {name_of.get(k["pid"]): k for k in kernel if k["outcome"] == "killed"}
    problems = []
    for prog, (err, where) in sorted(FAULT_OF_PROGRAM.items()):
        k = killing.get(prog)
        if k is None:
            problems.append("%s: no #PF line that killed it" % prog)
        elif k["err"] != err or not where(k["cr2"], k["rip"]):
            problems.append("%s: %s, want err %#x (%s) at its own place"
                            % (prog, show(k), err, decode(err)))
    return problems


def self_test(record, kernel, qemu_user):
    """compare() must notice each kind of damage to a log that agreed."""
    if len(kernel) < 2 or compare(kernel, qemu_user):
        record(False, "faultlog/self-test: a log that agrees to start from",
               "%d lines, problems: %s" % (len(kernel), compare(kernel, qemu_user)[:2]))
        return

    def changed(i, **fields):
        out = [dict(k) for k in kernel]
        out[i].update(fields)
        return out
    # the damage must change something: the first read or fetch for the
    # decode, the first two neighbours that differ for the swap (with
    # demand paging the first faults of two programs can be alike)
    rd = next((i for i, k in enumerate(kernel) if "write" not in k["decode"]), 0)
    key = [(k["err"], k["cr2"], k["rip"]) for k in kernel]
    sw = next((i for i in range(len(kernel) - 1) if key[i] != key[i + 1]), 0)
    cases = [
        ("a CR2 one page off", changed(0, cr2=kernel[0]["cr2"] ^ 0x1000)),
        ("an error code without U/S", changed(1, err=kernel[1]["err"] ^ ERR_US)),
        ("a RIP one byte off", changed(0, rip=kernel[0]["rip"] + 1)),
        ("a decode saying write for read", changed(rd, decode=kernel[rd]["decode"].replace(
            "read", "write").replace("instruction fetch", "write"))),
        ("the last line dropped", kernel[:-1]),
        ("two neighbouring lines that differ swapped",
         kernel[:sw] + [kernel[sw + 1], kernel[sw]] + kernel[sw + 2:]),
    ]
    for what, damaged in cases:
        record(bool(compare(damaged, qemu_user)), "faultlog/self-test: %s is reported" % what,
               "compare() found nothing")


def image_with(run, strategy, config):
    """A copy of the strategy's image in the run directory with config as
    its /boot/pagelab.cfg."""
    img = run.file("disk.img")
    shutil.copyfile(IMAGE % strategy, img)
    cfg = run.file("pagelab.cfg")
    with open(cfg, "w") as f:
        f.write(config)
    mtools("mcopy", "-o", "-i", img + PART, cfg, "::" + CONFIG_PATH)
    return img


def boot_logged(record, name, strategy, config):
    """Boots the image with config under -d int; (serial, QEMU's log) or None
    when the boot did not end at the halt."""
    run = qemu.RunDir("faultlog-%s-" % strategy)
    try:
        img = image_with(run, strategy, config)
        int_log = run.file("qemu-int.log")
        b = qemu.Boot(img, extra=["-device", DEBUG_EXIT, "-d", "int", "-D", int_log])
        try:
            try:
                code = b.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                code = None
            serial = b.serial()
            tail = serial[-400:].replace("\n", " | ")
            if not record(code == EXIT_HALTED and qemu.HALTED in serial,
                          name + ": boots to '%s' and QEMU exits %d" % (qemu.HALTED, EXIT_HALTED),
                          "exit %s; serial ends with: %s" % (code, tail)):
                return None
            return serial, qemu.read_log(int_log)
        finally:
            b.close()
    except (OSError, subprocess.CalledProcessError) as e:
        record(False, name + ": image with its config built", repr(e))
        return None
    finally:
        run.close()


def config_text(faultlog_lines):
    """The config: a comment, faultlog_lines (lines 2, 3, ...), the run list."""
    lines = ["# tests/faultlog_check.py: programs that take page faults"] + faultlog_lines
    return "\n".join(lines + ["run=" + p for p in RUN_LIST]) + "\n"


def check_strategy(record, strategy, self_tested):
    name = "faultlog/%s" % strategy
    got = boot_logged(record, name, strategy, config_text(["faultlog=on"]))
    if got is None:
        return self_tested
    serial, log = got
    record("page-fault log: on (faultlog=on in %s)" % CONFIG_PATH in serial,
           name + ": the report says the log is on", "missing")
    kernel, bad_k = kernel_faults(serial)
    faults, bad_q = qemu_faults(log)
    record(not bad_k, name + ": every #PF line has the documented format", "; ".join(bad_k[:3]))
    record(not bad_q, name + ": every v=0e line of QEMU's log parses", "; ".join(bad_q[:3]))
    user = [f for f in faults if f["cpl"] == 3]
    kmode = [f for f in faults if f["cpl"] == 0]
    other = [f for f in faults if f["cpl"] not in (0, 3)]
    problems = compare(kernel, user)
    record(not problems, name + ": %d #PF lines = QEMU's %d user page faults, in order, same"
           " error code, CR2, RIP; decodes match the error codes (SDM 4.7)"
           % (len(kernel), len(user)), "; ".join(problems[:4]))
    decoded = {w for k in kernel for w in ("read", "write", "instruction fetch")
               if w in k["decode"].split(", ")}
    record(decoded == {"read", "write", "instruction fetch"},
           name + ": the faults compared include a read, a write and a fetch", str(decoded))
    problems = kernel_mode_problems(serial, kmode) + ["cpl %d: %s" % (f["cpl"], f["line"])
                                                      for f in other]
    record(not problems, name + ": kernel-mode page faults: only the %d the kernel announced"
           % len(kmode), "; ".join(problems[:4]))
    problems = outcome_problems(serial, kernel)
    record(not problems, name + ": outcomes as fault_log.h names them; each 'killed' line just"
           " before its kill, no kill without one", "; ".join(problems[:4]))
    problems = program_problems(serial, kernel)
    record(not problems, name + ": each demo's killing fault has its source's error code and"
           " address", "; ".join(problems[:4]))
    if not self_tested and not compare(kernel, user):
        self_test(record, kernel, user)
        return True
    return self_tested


# Boots that must log nothing: no faultlog= line at all; and on, then off,
# then a refused value (the last accepted line wins; the refused one is
# named with its line number and changes nothing).
OFF_CASES = [
    ("no-faultlog-line", [], None),
    ("on-off-then-refused", ["faultlog=on", "faultlog=off", "faultlog=maybe"],
     'pagelab kernel: error: %s line 4: faultlog= wants on or off: "faultlog=maybe"'
     % CONFIG_PATH),
]


def check_off(record, strategy, case, lines, error):
    """The same faults as with the log on, and no #PF line."""
    name = "faultlog/%s/%s" % (strategy, case)
    got = boot_logged(record, name, strategy, config_text(lines))
    if got is None:
        return
    serial, log = got
    faults, _ = qemu_faults(log)
    user = [f for f in faults if f["cpl"] == 3]
    kills = [l for l in serial.splitlines() if KILL_LINE.match(l)]
    record(len(user) >= len(FAULT_OF_PROGRAM) and len(kills) >= len(FAULT_OF_PROGRAM),
           name + ": the demos still fault (QEMU: %d user page faults, %d kills)"
           % (len(user), len(kills)), "fewer than %d" % len(FAULT_OF_PROGRAM))
    pf = [l for l in serial.splitlines() if "#PF" in l]
    record(not pf and "page-fault log: on" not in serial,
           name + ": no #PF line and no 'page-fault log: on'", "; ".join(pf[:3]))
    if error:
        record(error in serial, name + ": the refused line is named: " + error, "missing")


def run(record, strategies=STRATEGIES):
    if not strategies:
        return
    self_tested = False
    for s in strategies:
        self_tested = check_strategy(record, s, self_tested)
    if not self_tested:
        record(False, "faultlog/self-test: ran on a log that agreed", "no strategy's log agreed")
    if "offset" in strategies:
        for case, lines, error in OFF_CASES:
            check_off(record, "offset", case, lines, error)


def main():
    qemu.run_alone(run, sys.argv[1:] or STRATEGIES)


if __name__ == "__main__":
    main()
