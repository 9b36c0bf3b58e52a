#!/usr/bin/env python3
"""make_check.py - the Makefile's user-facing targets, run as a user runs them.

tests/run_tests.py calls run(record) at the end of `make test` (alone:
`python3 tests/make_check.py` after `make images test-images`). Each check
starts `make` itself (NO_DEPS=1: make test has checked the packages), with
no terminal:
  - `make run EXIT=1`: succeeds after "pagelab: halted", fails (the
    recipe's status 1) after a named error (a KERNEL= that is not an ELF
    file), and leaves
    build/<strategy>/disk.img as it was when KERNEL= is given;
  - MEM: RAM_MIN (include/layout.h) boots, with the strategy that needs the
    most (identity's table pool), and so does one KiB more; one KiB less,
    64K and a non-size are refused by name before QEMU starts;
  - BOCHS_DISPLAY: an unknown display, and x without an X display, are
    refused by name;
  - FAT: an image built as FAT16 is out of date for FAT=12 and is rebuilt
    as FAT16 again (the FAT type is one of the images' inputs).
Everything it writes stays in build/test/make/.
"""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402

OUT = "build/test/make"
TIMEOUT = 120
PART_OFFSET = 1024 * 1024          # the FAT partition starts at LBA 2048 (disk/mkimage.py)


def make(*args, timeout=TIMEOUT):
    """(exit status, output) of `make -s ARGS NO_DEPS=1`."""
    try:
        p = subprocess.run(["make", "-s", "--no-print-directory"] + list(args) + ["NO_DEPS=1"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode("latin-1") + "\n(timed out)"


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_exit(record):
    status, out = make("run", "EXIT=1")
    record(status == 0 and qemu.HALTED in out,
           "make/run: EXIT=1 exits 0 after 'pagelab: halted'", "status %s: %s" % (status, out[-300:]))
    os.makedirs(OUT, exist_ok=True)
    junk = os.path.join(OUT, "not-an-elf.bin")
    with open(junk, "wb") as f:
        f.write(b"this is not an ELF file\n" * 64)
    before = digest("build/offset/disk.img")
    status, out = make("run", "EXIT=1", "KERNEL=" + junk)
    # make itself exits 2 when a recipe fails; the recipe's own status is
    # the "Error N" it reports
    record(status == 2 and "pagelab stage2: error: " in out and "boot stopped" in out
           and "Error 1" in out,
           "make/run: KERNEL= that is not an ELF: its named error, then EXIT=1 fails (status 1)",
           "status %s: %s" % (status, out[-300:]))
    status, out = make("run", "EXIT=1", "KERNEL=build/offset/kernel-test.elf")
    record(status == 0 and "selftest: done" in out and qemu.HALTED in out,
           "make/run: KERNEL= another kernel boots it with the same loader",
           "status %s: %s" % (status, out[-300:]))
    record(digest("build/offset/disk.img") == before,
           "make/run: KERNEL= leaves build/offset/disk.img as it was", "")


def check_mem(record):
    least = layout.constant("RAM_MIN") >> 10          # KiB
    for strategy, mem in (("identity", "%dK" % least), ("identity", "%dK" % (least + 1))):
        status, out = make("run", "EXIT=1", "STRATEGY=" + strategy, "MEM=" + mem)
        record(status == 0 and qemu.HALTED in out,
               "make/run: MEM=%s (RAM_MIN%s) boots %s" % (mem, "" if mem == "%dK" % least
                                                           else " + 1 KiB", strategy),
               "status %s: %s" % (status, out[-300:]))
    for mem, what in (("%dK" % (least - 1), "RAM_MIN - 1 KiB"), ("64K", "64 KiB")):
        status, out = make("run", "EXIT=1", "MEM=" + mem)
        record(status not in (0, None) and "below the smallest RAM pagelab boots with" in out
               and "pagelab stage2" not in out,
               "make/run: MEM=%s (%s) is refused by name before QEMU starts" % (mem, what),
               "status %s: %s" % (status, out[-300:]))
    status, out = make("run", "EXIT=1", "MEM=lots")
    record(status not in (0, None) and "is not a memory size" in out,
           "make/run: MEM=lots is refused as not a memory size", out[-300:])


def fat_label(image):
    """The file-system type string of the FAT boot sector (offset 54 on
    FAT12/16, 82 on FAT32)."""
    with open(image, "rb") as f:
        f.seek(PART_OFFSET)
        sector = f.read(512)
    return (sector[54:62] + b"|" + sector[82:90]).decode("latin-1")


def check_fat(record):
    image = "build/offset/disk.img"
    up_to_date = subprocess.run(["make", "-q", image, "NO_DEPS=1"]).returncode
    other = subprocess.run(["make", "-q", image, "FAT=12", "NO_DEPS=1"]).returncode
    record(up_to_date == 0 and other == 1,
           "make/image: an image built as FAT16 is out of date for FAT=12",
           "make -q: FAT=16 %s, FAT=12 %s" % (up_to_date, other))
    status, out = make(image)
    again = subprocess.run(["make", "-q", image, "NO_DEPS=1"]).returncode
    record(status == 0 and again == 0 and "FAT16" in fat_label(image),
           "make/image: back to FAT=16, the image is rebuilt as FAT16",
           "status %s, then make -q %s, label %r" % (status, again, fat_label(image)))


def check_bochs_display(record):
    """The two BOCHS_DISPLAY refusals, before Bochs starts (the x window
    itself is shown by tools/fresh-check.sh --window, under Xvfb)."""
    status, out = make("bochs", "BOCHS_DISPLAY=nonsense")
    record(status not in (0, None) and "unknown BOCHS_DISPLAY 'nonsense'" in out,
           "make/bochs: BOCHS_DISPLAY=nonsense is refused by name", out[-300:])
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    p = subprocess.run(["make", "-s", "bochs", "BOCHS_DISPLAY=x", "NO_DEPS=1"], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT)
    record(p.returncode != 0 and "BOCHS_DISPLAY=x needs an X display" in p.stdout + p.stderr,
           "make/bochs: BOCHS_DISPLAY=x without an X display is refused by name",
           (p.stdout + p.stderr)[-300:])


def run(record):
    check_bochs_display(record)
    check_exit(record)
    check_mem(record)
    check_fat(record)


def main():
    qemu.run_alone(run)


if __name__ == "__main__":
    main()
