#!/usr/bin/env python3
"""gdb_check.py - `make test`'s check of tools/gdbinit against QEMU.

tests/run_tests.py calls run(record), so its results count in the same
"N passed, N failed" line (alone: `python3 tests/gdb_check.py` after
`make images`). `make gdb` itself starts QEMU paused (its stub must listen
on 127.0.0.1 only, and build/gdb-session must name the image); then gdb
sessions in batch mode, as `make gdb` users run it (`gdb -x tools/gdbinit`):
  1. from the reset vector: stops in stage1 and stage2 in real mode (the
     instructions decoded as 16-bit code), in stage2_main (32-bit, by
     symbol) and in kmain (long mode, by symbol); then, with `pagelab-user
     hello` (its symbols), `break main` stops in user/hello.c in ring 3
     (CS 0x23), where `pagewalk $pc` shows a user page (u); then it
     detaches: the boot goes on;
  2. once serial shows "pagelab: halted": `pagewalk` for every final-
     translation address; each result line must equal the kernel's (the
     physical address, page size and rwx, or unmapped);
  3. one with PAGELAB_STRATEGY naming another strategy: gdb warns that
     those symbols are not the running image's;
  4. `make gdb KERNEL=<the test kernel>`, whose boot ends with address-space
     blocks (tests/guest/spaces.c): `pagewalk <va> <cr3>` for every line of
     one inactive space must equal the kernel's line, and the same address
     walked from the live CR3 must differ (the user pages are not there).
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402

TIMEOUT = 60
RESULT = re.compile(r"^0x([0-9a-f]{16}) -> (?:0x([0-9a-f]{16}) (\S+) (\S+)|unmapped \((.*)\))$")


def gdb_batch(strategy, target, commands):
    """gdb -x tools/gdbinit in batch mode; strategy and target None: what
    build/gdb-session says, as for a user after `make gdb`."""
    env = dict(os.environ)
    for var, value in (("PAGELAB_STRATEGY", strategy), ("PAGELAB_GDB_TARGET", target)):
        if value is None:
            env.pop(var, None)
        else:
            env[var] = value
    args = ["gdb", "-batch", "-nx", "-x", "tools/gdbinit"]
    for c in commands:
        args += ["-ex", c]
    try:
        p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        return p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        return (e.stdout or b"").decode() + "\n(gdb timed out)"


def check_modes(record, name, out):
    record(re.search(r"real mode, CS:IP 0000:7c00 .*\n.*jmp +0x0:0x7c05\n.*\bcli\b", out)
           is not None, name + ": stops in stage1 in real mode, decoded as 16-bit code",
           out[-400:])
    record(re.search(r"in stage2_start \(\)\n\[pagelab\] real mode, CS:IP 0000:8004", out)
           is not None, name + ": stops at stage2's entry by symbol, in real mode", out[-400:])
    record(re.search(r"Breakpoint \d+, stage2_main .*\n(.*\n)*?\[pagelab\] 32-bit protected"
                     r" mode, paging off", out) is not None,
           name + ": stops in stage2_main (32-bit, paging off) with its symbols", out[-400:])
    record(re.search(r"Breakpoint \d+, kmain .*\n(.*\n)*?\[pagelab\] long mode", out)
           is not None, name + ": stops in kmain (long mode) with the kernel's symbols",
           out[-400:])


# From kmain on: the first process's program (the default run list's
# first, hello) by its own symbols, stopped in its main in ring 3
USER_PROGRAM = "hello"
USER_STOP = ["pagelab-user " + USER_PROGRAM, "break main", "continue", "pagewalk $pc",
             "print/x $cs"]


def check_user(record, name, out):
    stop = re.search(r"Breakpoint \d+, main \(\) at user/%s\.c:\d+" % USER_PROGRAM, out)
    tail = out[stop.end():] if stop else ""
    walk = re.search(r"^0x([0-9a-f]{16}) -> 0x[0-9a-f]{16} \S+ (\S+)$", tail, re.M)
    cs = re.search(r"^\$\d+ = (0x[0-9a-f]+)$", tail, re.M)
    record(stop is not None and cs is not None and int(cs.group(1), 16) == 0x23,
           name + ": pagelab-user %s, then break main: hit in ring 3 (CS 0x23)" % USER_PROGRAM,
           out[-400:])
    record(walk is not None and walk.group(2).endswith("u"),
           name + ": pagewalk of that PC shows a user page", tail[:400])


def check_walks(record, name, out, finals):
    got = {}
    for line in out.splitlines():
        m = RESULT.match(line)
        if m:
            got[int(m.group(1), 16)] = (int(m.group(2), 16) if m.group(2) else None,
                                        m.group(3), m.group(4), m.group(5))
    wrong = []
    for va, pa, rest in finals:
        g = got.get(va)
        if g is None:
            wrong.append("0x%x: no pagewalk result" % va)
        elif pa is None and (g[0] is not None or
                             ("non-canonical" in rest) != (g[3] == "non-canonical")):
            wrong.append("0x%x: kernel %s, pagewalk %s" % (va, rest, g))
        elif pa is not None and (g[0], g[1], g[2]) != (pa,) + tuple(rest.split()[:2]):
            wrong.append("0x%x: kernel 0x%x %s, pagewalk %s" % (va, pa, rest, g))
    record(bool(finals) and not wrong,
           name + ": pagewalk agrees with all %d final translations" % len(finals),
           "; ".join(wrong[:5]) or out[-400:])


def start_make_gdb(strategy, port, out_path, kernel=None):
    """`make gdb` as a user starts it (its package check skipped: make test
    did it; KERNEL=kernel when given), its terminal output into out_path;
    returns the process, which leads a process group of its own (make and
    its QEMU)."""
    out = open(out_path, "wb")
    p = subprocess.Popen(["make", "--no-print-directory", "gdb", "STRATEGY=" + strategy,
                          "GDB_PORT=%d" % port, "NO_DEPS=1"] +
                         (["KERNEL=" + kernel] if kernel else []), stdin=subprocess.DEVNULL,
                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    return p


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    p.wait()


def run(record, strategy="offset"):
    name = "gdb/%s" % strategy
    run_dir = qemu.RunDir("gdb-")
    port = qemu.free_port()
    out_path = run_dir.file("make-gdb.out")
    p = start_make_gdb(strategy, port, out_path)
    try:
        listening = None
        for _ in range(400):                  # QEMU listens once it is ready
            listening = qemu.listening(port)
            if listening[0] or p.poll() is not None:
                break
            time.sleep(0.05)
        record(listening[0] and not listening[1],
               name + ": make gdb's stub listens on 127.0.0.1 only", "listening: %s; %s"
               % (listening, qemu.read_log(out_path)[-300:]))
        session = qemu.read_log("build/gdb-session")
        record("strategy=%s\n" % strategy in session and "target=127.0.0.1:%d\n" % port in session,
               name + ": make gdb writes build/gdb-session for its image", session)
        out = gdb_batch(None, None, ["break *0x%x" % layout.constant("STAGE1_ADDR"), "continue",
                                     "break *0x%x" % layout.constant("STAGE2_ENTRY"),
                                     "continue", "break stage2_main", "continue",
                                     "break kmain", "continue", "delete"] + USER_STOP +
                      ["delete", "detach"])
        check_modes(record, name, out)
        check_user(record, name, out)
        serial = lambda: qemu.read_log(out_path)
        for _ in range(TIMEOUT * 20):
            if qemu.HALTED in serial():
                break
            time.sleep(0.05)
        if not record(qemu.HALTED in serial(), name + ": boots on to 'pagelab: halted' after"
                      " gdb detaches", serial()[-300:]):
            return
        finals = qemu.final_translations(serial()) or []
        out = gdb_batch(None, None, ["pagewalk 0x%x" % va for va, _, _ in finals])
        check_walks(record, name, out, finals)
        other = "identity" if strategy != "identity" else "offset"
        out = gdb_batch(other, None, ["detach"])
        record("warning: `make gdb` started the %s image" % strategy in out,
               name + ": gdb warns when PAGELAB_STRATEGY names another strategy's symbols",
               out[-300:])
    finally:
        stop(p)
        run_dir.close()
    run_other_space(record, strategy)


def run_other_space(record, strategy):
    """pagewalk VA CR3 against an address-space block of the test kernel."""
    name = "gdb/%s/test-kernel" % strategy
    run_dir = qemu.RunDir("gdb-")
    port = qemu.free_port()
    out_path = run_dir.file("make-gdb.out")
    p = start_make_gdb(strategy, port, out_path, kernel="build/%s/kernel-test.elf" % strategy)
    try:
        for _ in range(400):
            if qemu.listening(port)[0] or p.poll() is not None:
                break
            time.sleep(0.05)
        gdb_batch(None, None, ["detach"])            # QEMU starts paused: let it boot
        serial = lambda: qemu.read_log(out_path)
        for _ in range(TIMEOUT * 20):
            if qemu.HALTED in serial():
                break
            time.sleep(0.05)
        blocks = qemu.address_spaces(serial()) or []
        if not record(qemu.HALTED in serial() and blocks, name + ": boots to 'pagelab: halted'"
                      " with address-space blocks", serial()[-300:]):
            return
        space, cr3, lines = blocks[0]
        out = gdb_batch(None, None, ["pagewalk 0x%x 0x%x" % (va, cr3) for va, _, _ in lines])
        record("(given CR3 0x%x)" % cr3 in out, name + ": pagewalk names the CR3 it was given",
               out[-300:])
        check_walks(record, name + ": space %s, cr3 0x%x" % (space, cr3), out, lines)
        user = [(va, pa, rest) for va, pa, rest in lines if pa is not None and
                len(rest.split()) > 1 and rest.split()[1].endswith("u")]
        live = gdb_batch(None, None, ["pagewalk 0x%x" % va for va, _, _ in user])
        got = [l for l in live.splitlines() if RESULT.match(l)]
        record(user and len(got) == len(user) and all("unmapped" in l for l in got),
               name + ": the %d user pages of %s are unmapped from the live CR3" % (
                   len(user), space), "; ".join(got[:3]) or live[-300:])
    finally:
        stop(p)
        run_dir.close()


def main():
    qemu.run_alone(run, sys.argv[1] if len(sys.argv) > 1 else "offset")


if __name__ == "__main__":
    main()
