#!/usr/bin/env python3
"""run_tests.py - pagelab's `make test`: host tests, then boot tests.

Host tests are programs that print one line per test, "PASS: ..." or
"FAIL: ...". Boot tests boot each strategy's image under QEMU/TCG with
several memory sizes and check, from serial and from QEMU's monitor:
the loader's progress, the kernel's boot report, the blog experiments, and
that every final-translation line agrees with QEMU's own page walk
(gva2gpa) and with what the line must be by construction (0xdeadbeaf000
was mapped to the VGA frame, page 0 was mapped and unmapped again, the
guard page is not mapped, ...). Then the Bochs runs of the debug images
(bochs_check.py), gdb's pagewalk against QEMU (gdb_check.py), the user
programs and boot modules (modules_check.py), the address-space blocks
walked from guest physical memory (aspace_check.py, in every boot), the
kernel's page-fault log against QEMU's exception log (faultlog_check.py),
the virtual-memory suite booted alone (vm_checks.py), the page-size
trade-off's tables against the address bits (pagesize_check.py, in every
test-image boot), swap's benchmark program's counts (swapbench_check.py),
livelock detection (livelock_checks.py), swap writes and reads the disk
refuses (diskerr_checks.py) and the strategy comparison table
(compare.py). Ends with
"N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
import ring3_checks  # noqa: E402
import proc_checks  # noqa: E402
import robustness  # noqa: E402
import bochs_check  # noqa: E402
import gdb_check  # noqa: E402
import compare  # noqa: E402
import make_check  # noqa: E402
import modules_check  # noqa: E402
import aspace_check  # noqa: E402
import faultlog_check  # noqa: E402
import vm_checks  # noqa: E402
import swap_checks  # noqa: E402
import pagesize_check  # noqa: E402
import replace_checks  # noqa: E402
import swapbench_check  # noqa: E402
import livelock_checks  # noqa: E402
import diskerr_checks  # noqa: E402
from robustness import constant  # noqa: E402  (tools/layout.py)

VGA = constant("VGA_TEXT_ADDR")
BOOT_MEMS = ["32M", "512M", "6G"]
# The VGA screen's width. A normal boot's serial lines fit in it, except
# those listed in WIDE_LINES (pattern, reason); the screen wraps any line
# at a word boundary (common/vga.c), serial never does.
COLUMNS = constant("VGA_COLS")
WIDE_LINES = [
    # (pattern, reason): none today; a line that cannot be shortened goes
    # here with the reason why
]
results = {"pass": 0, "fail": 0}


def record(ok, name, why=""):
    results["pass" if ok else "fail"] += 1
    if not ok:
        qemu.record_failure()
    m = re.match(r"(?:boot|guest)/([a-z-]+)/", name)
    if m:
        compare.note_result(m.group(1), ok)
    print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)), flush=True)
    return ok


def run_host(binaries):
    for b in binaries:
        name = "host/" + os.path.relpath(b, "build/host")  # host/<strategy>/test_pt
        p = subprocess.run([b], capture_output=True, text=True)
        lines = p.stdout.splitlines()
        n = 0
        for l in lines:
            if l.startswith("PASS: ") or l.startswith("FAIL: "):
                n += 1
                results["pass" if l.startswith("PASS") else "fail"] += 1
                print(l)
        if p.returncode != 0 and not any(l.startswith("FAIL: ") for l in lines):
            record(False, name,
                   "exited with %d: %s" % (p.returncode, (p.stderr or "")[-400:]))
        elif n == 0:
            record(False, name, "printed no test results")


def wide_lines(out):
    """The serial lines wider than COLUMNS that no WIDE_LINES entry allows."""
    return [l for l in out.splitlines()
            if len(l) > COLUMNS and not any(p.match(l) for p, _ in WIDE_LINES)]


def expect_line(finals, label, want, strategy):
    for va, pa, rest in finals:
        if rest.endswith(label):
            return pa == want, "0x%x -> %s, want %s" % (
                va, "unmapped" if pa is None else "0x%x" % pa,
                "unmapped" if want is None else "0x%x" % want)
    return False, "no final-translation line for '%s'" % label


def check_boot(name, image, strategy, mem, cpu="max", extra=(), test_image=True, timeout=60,
               expect_map_source=None, expect_text=None):
    b = qemu.Boot(image, mem=mem, cpu=cpu, extra=extra, timeout=timeout)
    try:
        halted = b.wait_for(qemu.HALTED)
        out = b.serial()
        if not record(halted, name + ": boots to 'pagelab: halted'",
                      "serial ends with: " + out[-600:].replace("\n", " | ")):
            return
        for text in ["pagelab stage2: started", "read back via 0xb8000: New! (same frame)", "pagelab stage2: memory map:",
                     "pagelab stage2: kernel:", "pagelab stage2: entering long mode",
                     "pagelab kernel: started", "memory map (sanitised", "CPU features:",
                     "boot time"]:
            record(text in out, name + ": shows '%s'" % text, "missing")
        # The guest's own timing: the stages of the report fit inside the
        # total printed just before the final translations (an ordering of
        # TSC readings, not a time limit).
        stages = re.search(r"boot time: stage1 (\d+) us, stage2 (\d+) us, kernel (\d+) us",
                           out)
        total = re.search(r"boot time: (\d+) us from the MBR [^\n]*\npagelab: final translations",
                          out)
        record(stages is not None and total is not None and
               0 < sum(int(x) for x in stages.groups()) <= int(total.group(1)),
               name + ": boot time from the MBR, printed before the final translations, covers"
               " the report's stages", str((stages and stages.group(0), total and total.group(0))))
        if not test_image:
            wide = wide_lines(out)
            record(not wide, name + ": no serial line wider than %d columns (but WIDE_LINES)"
                   % COLUMNS, "; ".join("%d: %s" % (len(l), l) for l in wide[:5]))
        if expect_text:
            record(expect_text in out, name + ": shows '%s'" % expect_text, "missing")
        if expect_map_source:
            record(re.search(r"memory map: \d+ entries from %s" % re.escape(expect_map_source),
                             out) is not None,
                   name + ": the memory map came from %s" % expect_map_source, "")
        bad = [w for w in ["PANIC", "exception", "error:", "BUG"] if w in out]
        record(not bad, name + ": no error, panic or exception", ", ".join(bad))
        record("unmap page 0 again (NULL must fault): ok, it mapped 0xb8000" in out,
               name + ": page 0 is unmapped again after the experiment", "")
        record("with no frames: out of frames" in out and "with the frame allocator: ok"
               in out and "via 0xdeadbeaf000; read back via 0xb8000: New!" in out, name + ": 0xdeadbeaf000 fails without frames, maps with them", "")
        record(re.search(r"caught: vector 14 .*\n  error code: protection violation, write", out) is not None,
               name + ": write to kernel code is caught as a protection-violation write", "")
        m = re.search(r"window (\d+) GiB", out)
        want_gib = int(mem[:-1]) if mem.endswith("G") else 0
        record(m is not None and int(m.group(1)) >= max(4, want_gib),
               name + ": window covers all RAM and at least 4 GiB", m and m.group(0))
        guest = [l for l in out.splitlines() if l.startswith(("PASS: guest/", "FAIL: guest/"))]
        for l in guest:
            record(l.startswith("PASS"), name + ": " + l.split(": ", 1)[1].split("/", 1)[1],
                   l.split(": ", 3)[-1])
        if test_image:
            record(len(guest) >= 20 and "selftest: done" in out,
                   name + ": the in-guest suite ran to the end", "%d results" % len(guest))
            ring3_checks.check(record, name, out)
            proc_checks.check_test_image(record, name, out, nx="-nx" not in cpu)
            swap_checks.check_test_image(record, name, out)
            pagesize_check.check_test_image(record, name, out, cpu)
        else:
            proc_checks.check_normal_image(record, name, out)
        finals = qemu.final_translations(out)
        if not record(bool(finals), name + ": final translations well formed", "unparsable"):
            return
        wrong = []
        for va, pa, rest in finals:
            hw = b.gva2gpa(va)
            if hw != pa:
                wrong.append("0x%x: kernel %s, QEMU %s" % (
                    va, pa and hex(pa), hw and hex(hw)))
        record(not wrong, name + ": %d final translations agree with QEMU's gva2gpa"
               % len(finals), "; ".join(wrong[:5]))
        compare.note_oracle(strategy, len(finals) - len(wrong), len(finals))
        aspace_check.boot_check(record, name, b, out, test_image)
        modules_check.boot_lines(record, name, out, finals, test_image)
        for line in out.splitlines():
            if line.startswith("STAT: ") and mem == "512M":
                compare.note_stat(strategy, line)
        for label, want in [("page 0 (NULL, unmapped again)", None), ("VGA buffer", VGA),
                            ("VGA (kernel view)", VGA),
                            ("0xdeadbeaf000 (mapped to VGA)", VGA + 0x123),
                            ("stack guard page", None), ("surely unmapped", None),
                            ("non-canonical", None),
                            ("window base", 0 if strategy == "offset" else None)]:
            ok, why = expect_line(finals, label, want, strategy)
            record(ok, name + ": '%s' translates as it must" % label, why)
    finally:
        b.close()


def fat_variant(bits):
    out = "build/test/fat%d.img" % bits
    os.makedirs("build/test", exist_ok=True)
    subprocess.run([sys.executable, "disk/mkimage.py", "--layout", "include/layout.h",
                    "--stage1", "build/stage1.bin", "--stage2", "build/stage2.bin",
                    "--kernel", "build/offset/kernel.elf", "--fat", str(bits),
                    "--bin"] + modules_check.user_elfs() + ["--out", out],
                   check=True)
    return out


def chs_variant():
    """A copy of the offset image whose stage1 never sets its 'use LBA'
    flag, so it must load stage2 with the CHS path (AH=08h geometry, AH=02h
    reads, one track at a time), and whose stage2 believes the extensions
    are missing too. stage1's instruction is found in its own listing, not
    by a typed offset."""
    lst = open("build/stage1.lst").read()
    m = re.search(r"^\s*\d+\s+([0-9A-F]{8})\s+([0-9A-F\[\]]+)\s+inc byte \[use_lba\]", lst, re.M)
    off, size = int(m.group(1), 16), len(re.sub(r"[\[\]]", "", m.group(2))) // 2
    out = "build/test/chs.img"
    os.makedirs("build/test", exist_ok=True)
    img = bytearray(open("build/offset/disk.img", "rb").read())
    img[off:off + size] = b"\x90" * size                # NOP it out
    # stage2 too: its AH=41h check compares BX with AA55h; make the compare
    # fail (the only "55 AA" in stage2) so disk.c reads with CHS as well
    stage2 = bytes(img[512:512 + os.path.getsize("build/stage2.bin")])
    hits = [m.start() for m in re.finditer(b"\x55\xaa", stage2)]
    if len(hits) == 1:
        img[512 + hits[0]:512 + hits[0] + 2] = b"\0\0"
    open(out, "wb").write(img)
    return out


def memmap_variants():
    """Copies of the offset image whose stage2 cannot use E820 (the 'SMAP'
    signature it passes and checks zeroed), and then not E801 either (its
    function number changed), so the boot must fall back to INT 15h E801h
    and then to AH=88h. The immediates are found by their bytes and must
    occur exactly as often as stage2/memmap.c uses them; anything else means
    the compiler changed the code and the test says so."""
    os.makedirs("build/test", exist_ok=True)
    img = bytearray(open("build/offset/disk.img", "rb").read())
    stage2 = slice(512, 512 + os.path.getsize("build/stage2.bin"))

    def patch(old, new, count):
        hits = [m.start() for m in re.finditer(re.escape(old), bytes(img[stage2]))]
        if len(hits) != count:
            return False
        for h in hits:
            img[stage2.start + h:stage2.start + h + len(new)] = new
        return True

    out = []
    ok = patch(bytes.fromhex("50414d53"), bytes(4), 2)        # 'SMAP' = 0x534D4150
    open("build/test/e801.img", "wb").write(img)
    out.append(("e801", "E801", ok))
    ok = ok and patch(bytes.fromhex("01e80000"), bytes.fromhex("ffe80000"), 1)
    open("build/test/e88.img", "wb").write(img)
    out.append(("e88", "AH=88h", ok))
    return out


def check_left_behind(started):
    """Nothing of the boots is left: under build/test/runs only the runs
    that had a failing check, in /tmp nothing named pagelab* made since the
    suite started."""
    kept = sorted(os.listdir(qemu.RUNS)) if os.path.isdir(qemu.RUNS) else []
    record(results["fail"] > 0 or not kept,
           "suite: every passing run removed its files from %s" % qemu.RUNS, ", ".join(kept[:5]))
    tmp = tempfile.gettempdir()
    new = [n for n in os.listdir(tmp) if n.startswith("pagelab")
           and os.path.getmtime(os.path.join(tmp, n)) >= started]
    record(not new, "suite: nothing named pagelab* left in %s" % tmp, ", ".join(new[:5]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", nargs="*", default=[])
    ap.add_argument("--strategies", nargs="*", default=[])
    ap.add_argument("--mems", nargs="*", default=BOOT_MEMS)
    ap.add_argument("--kvm", action="store_true", help="also boot each test image under KVM")
    a = ap.parse_args()
    started = time.time()
    # the kept files of the previous run's failures go: what is there at
    # the end is this run's
    shutil.rmtree(qemu.RUNS, ignore_errors=True)
    run_host(a.host)
    for s in a.strategies:
        check_boot("boot/%s/disk.img" % s, "build/%s/disk.img" % s, s, "512M", test_image=False)
        for mem in a.mems:
            check_boot("boot/%s/%s" % (s, mem), "build/%s/test.img" % s, s, mem)
    if "offset" in a.strategies:
        for bits in (12, 32):
            check_boot("boot/offset/fat%d" % bits, fat_variant(bits), "offset", "512M",
                       test_image=False)
        check_boot("boot/offset/chs", chs_variant(), "offset", "512M", test_image=False,
                   expect_text="no INT 13h extensions, using CHS")
        for tag, source, patched in memmap_variants():
            if record(patched, "boot/offset/%s: stage2 patched to skip the newer calls" % tag,
                      "the byte patterns were not found as expected"):
                check_boot("boot/offset/%s" % tag, "build/test/%s.img" % tag, "offset", "512M",
                           test_image=False, expect_map_source=source)
    # the virtual-memory suite alone (build/<strategy>/vm.img), every strategy
    vm_checks.run(record, strategies=a.strategies)
    if "offset" in a.strategies:
        # the swap partition, its header's variants, and q35 without ATA
        swap_checks.run(record)
        # a write and a read of swap refused by the disk (QEMU's blkdebug)
        diskerr_checks.run(record)
    # the replacement workloads against the reference simulator, every strategy
    replace_checks.run(record, strategies=a.strategies)
    # swap's benchmark program: each figure's faults are of its kind, exactly
    swapbench_check.run(record, strategies=a.strategies)
    # one instruction that needs more pages than the limit: killed by name
    livelock_checks.run(record, strategies=a.strategies)
    if "offset" in a.strategies:
        # the timer must tick when QEMU counts instructions instead of time
        check_boot("boot/offset/icount", "build/offset/test.img", "offset", "512M",
                   extra=["-icount", "shift=0"])
    for s in a.strategies:
        check_boot("boot/%s/no-1g-pages" % s, "build/%s/test.img" % s, s, "6G",
                   cpu="qemu64,-pdpe1gb")
    faultlog_check.run(record, strategies=a.strategies)
    if a.kvm and os.path.exists("/dev/kvm"):
        for s in a.strategies:
            # nested KVM on these machines is slower than TCG: a longer wait
            check_boot("boot/%s/kvm" % s, "build/%s/test.img" % s, s, "512M", cpu="host",
                       extra=["-accel", "kvm"], timeout=600)
    elif a.kvm:
        print("note: KVM=1 asked for, but this machine has no /dev/kvm: KVM boots skipped")
    if "offset" in a.strategies:
        robustness.run(record, strategies=a.strategies)
        modules_check.run(record)
    bochs_check.run(record, strategies=a.strategies)
    if "offset" in a.strategies:
        gdb_check.run(record, strategy="offset")
        make_check.run(record)
    if a.strategies:
        check_left_behind(started)
        compare.print_table(a.strategies)
    print("%d passed, %d failed" % (results["pass"], results["fail"]))
    sys.exit(1 if results["fail"] else 0)


if __name__ == "__main__":
    main()
