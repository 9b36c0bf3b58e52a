#!/usr/bin/env python3
"""gdb_check.py - `make test`'s check of tools/gdbinit against QEMU.

tests/run_tests.py calls run(record), so its results count in the same
"N passed, N failed" line (alone: `python3 tests/gdb_check.py` after
`make images`). Two gdb sessions in batch mode, as `make gdb` users run it
(`gdb -x tools/gdbinit`), against one QEMU started paused with its stub on
a Unix socket:
  1. from the reset vector: stops in stage1 and stage2 in real mode (the
     instructions decoded as 16-bit code), in stage2_main (32-bit, by
     symbol) and in kmain (long mode, by symbol), then detaches: the boot
     goes on;
  2. once serial shows "pagelab: halted": `pagewalk` for every final-
     translation address; each result line must equal the kernel's (the
     physical address, page size and rwx, or unmapped).
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402

TIMEOUT = 60
RESULT = re.compile(r"^0x([0-9a-f]{16}) -> (?:0x([0-9a-f]{16}) (\S+) (\S+)|unmapped \((.*)\))$")


def gdb_batch(strategy, target, commands):
    env = dict(os.environ, PAGELAB_STRATEGY=strategy, PAGELAB_GDB_TARGET=target)
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


def run(record, strategy="offset"):
    name = "gdb/%s" % strategy
    tmp = tempfile.mkdtemp(prefix="pagelab-gdb-")
    sock = os.path.join(tmp, "gdb.sock")
    b = qemu.Boot("build/%s/disk.img" % strategy, mem="512M", cpu="max",
                  extra=["-S", "-gdb", "unix:%s,server,nowait" % sock])
    try:
        for _ in range(200):                  # QEMU creates the socket when it is ready
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        out = gdb_batch(strategy, sock, ["break *0x7c00", "continue", "break *0x8004",
                                         "continue", "break stage2_main", "continue",
                                         "break kmain", "continue", "delete", "detach"])
        check_modes(record, name, out)
        if not record(b.wait_for(qemu.HALTED), name + ": boots on to 'pagelab: halted' after"
                      " gdb detaches", b.serial()[-300:]):
            return
        finals = qemu.final_translations(b.serial()) or []
        out = gdb_batch(strategy, sock, ["pagewalk 0x%x" % va for va, _, _ in finals])
        check_walks(record, name, out, finals)
    finally:
        b.close()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


def main():
    qemu.run_alone(run, sys.argv[1] if len(sys.argv) > 1 else "offset")


if __name__ == "__main__":
    main()
