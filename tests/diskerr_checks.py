#!/usr/bin/env python3
"""diskerr_checks.py - real disk errors on swap under QEMU, for
tests/run_tests.py.

QEMU's blkdebug driver sits between the raw format and the image file
(-drive driver=raw,file.driver=blkdebug,file.config=<rules>,
file.image.filename=<copy>): its [inject-error] rules fail a request
touching a given sector with an errno, here EIO, once. The raw format
driver announces its requests to blkdebug as the events "write_aio" and
"read_aio"; with snapshot=on the writes would go to QEMU's temporary
overlay and never reach blkdebug, so each boot runs on a copy of
build/offset/swap.img under build/test/diskerr/ (removed afterwards).
werror=report and rerror=report make QEMU's IDE controller report the
error to the guest, which sees ERR in the status register with ABRT in
the error register (hw/ide/core.c, ide_rw_error: the command aborted).

user/swaperr.c (its comment has the steps) makes swap slot 0 the first
slot written, by a child evicting its parent's page 0, and then read
back by the child. Slot 0's sectors come from the image's MBR (partition
2) and SWAP_HEADER_SLOTS (include/layout.h). Cases:
  - no error: the child reads its page back and exits 0;
  - a write of slot 0 refused, at its first and at its last sector: the
    kernel names the I/O error (swap.c: "writing slot 0 (LBA n)", the
    ATA status and error register), kills the child by name ("swap
    refused the write of the page evicted for it"), and page 0 stays in
    its frame: the parent reads all its pages back without a fault;
  - a read of slot 0 refused, at its first and its last sector: the
    error named ("reading slot 0"), the child killed ("its page could
    not be read back from swap"), and the parent reads page 0 back from
    the same slot (the rule fires once), every word right.
Each boot runs hello beside it, must reach "pagelab: halted", and ends
with every frame and swap slot free.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import layout  # noqa: E402
import livelock_checks  # noqa: E402  (its end-of-boot check)
import qemu  # noqa: E402
import swap_checks  # noqa: E402

OUT = "build/test/diskerr"
ELF = "build/user/swaperr.elf"
PAGE = layout.constant("PAGE_SIZE")
SECTOR = layout.constant("SECTOR_SIZE")
SLOT_SECTORS = PAGE // SECTOR
HEADER_SLOTS = layout.constant("SWAP_HEADER_SLOTS")
FRAMES = 4          # user_frames= of these boots: the parent's pages fill it
EIO = 5
ABRT = 0x04         # the ATA error register's "command aborted" bit (ATA8-ACS 6.2)
CONFIG = "run=swaperr\nrun=hello\nuser_frames=%d\nreplace=fifo\n" % FRAMES
WRITE_KILL = "out of memory: swap refused the write of the page evicted for it"
READ_KILL = "its page could not be read back from swap"


def slot0_sectors(image):
    """The first and last LBA of swap slot 0 in image (its MBR's swap
    partition, after the header)."""
    with open(image, "rb") as f:
        mbr = bytearray(f.read(SECTOR))
    ptype, first, _ = swap_checks.entry(mbr, 1)
    if ptype != swap_checks.TYPE:
        raise RuntimeError("%s: partition 2 has type %xh, not swap" % (image, ptype))
    lba = first + HEADER_SLOTS * SLOT_SECTORS
    return lba, lba + SLOT_SECTORS - 1


def rules(event, sector):
    """A blkdebug configuration failing the first request of event's kind
    that touches sector with EIO (none for event None). The event only
    arms a rule (blkdebug then fails the next request that matches): the
    iotype keeps a read_aio rule from failing a write that comes first."""
    if event is None:
        return "# no rule: every request goes through\n"
    return ('[inject-error]\nevent = "%s"\niotype = "%s"\nerrno = "%d"\nsector = "%d"\n'
            'once = "on"\n' % (event, event.split("_")[0], EIO, sector))


def boot(tag, event, sector):
    """The serial log of the configured copy of swap.img booted through
    blkdebug with one rule, to its halt (None if it did not halt)."""
    path = swap_checks.image_with_config("offset", tag, CONFIG, out=OUT)
    conf = os.path.join(OUT, tag + ".blkdebug")
    with open(conf, "w") as f:
        f.write(rules(event, sector))
    drive = ("driver=raw,file.driver=blkdebug,file.config=%s,file.image.driver=file,"
             "file.image.filename=%s,if=ide,werror=report,rerror=report" % (conf, path))
    b = qemu.Boot(path, mem="512M", timeout=120, drive=drive)
    try:
        halted = b.wait_for("pagelab: halted")
        log = b.serial()
    finally:
        b.close()
        os.remove(path)
        os.remove(conf)
    return log if halted else None


def heap_start():
    """swaperr's heap: the page after its _end (user/user.ld)."""
    end = livelock_checks.symbols(ELF)["_end"]
    return (end + PAGE - 1) // PAGE * PAGE


def check(record, tag, event, sector, lba):
    name = "diskerr/offset/%s" % tag
    out = boot(tag, event, sector)
    if not record(out is not None, name + ": the boot reaches its halt", ""):
        return
    heap = heap_start()
    parent = re.search(r"^swaperr: pid (\d+): child pid (\d+) ended with status (-?\d+); (\d+)"
                       r" pages read back, (\d+) words wrong\nswaperr: pid \1: domain faults"
                       r" (\d+) swap-ins (\d+) evictions (\d+)$", out, re.M)
    if not record(parent is not None, name + ": the parent's lines", out[-400:]):
        return
    child = parent.group(2)
    io = re.findall(r"^swap: I/O error (\w+) slot (\d+) \(LBA (\d+)\), frame 0x[0-9a-f]+:\n"
                    r"  the device reported an error \(error register 0x([0-9a-f]+)\)$", out, re.M)
    kills = re.findall(r"^pagelab: killed pid (\d+) \((\w+)\): page fault at 0x([0-9a-f]{16}),"
                       r" page not present, (\w+), user mode; there: nothing mapped; ([^;]+);"
                       r" RIP 0x[0-9a-f]{16}$", out, re.M)
    if event is None:
        record(io == [] and kills == [] and
               "swaperr: pid %s: page 0 read back: its word\n" % child in out and
               parent.group(3) == "0",
               name + ": no I/O error, no kill; the child reads page 0 back and exits 0",
               "%r %r" % (io, kills))
        counts = (2, 2, 2)
    elif event == "write_aio":
        record(io == [("writing", "0", str(lba), "%x" % ABRT)],
               name + ": swap names the refused write: slot 0, LBA %d, error register 0x%x"
               % (lba, ABRT), "%r" % (io,))
        record(kills == [(child, "swaperr", "%016x" % (heap + FRAMES * PAGE), "write",
                          WRITE_KILL)] and parent.group(3) == "-1",
               name + ": the child is killed at the write of its own page, by name; the parent"
               " is told -1", "%r" % (kills,))
        counts = (0, 0, 0)      # page 0 stayed in its frame: nothing evicted, nothing read
    else:
        record(io == [("reading", "0", str(lba), "%x" % ABRT)],
               name + ": swap names the refused read: slot 0, LBA %d, error register 0x%x"
               % (lba, ABRT), "%r" % (io,))
        record(kills == [(child, "swaperr", "%016x" % heap, "read", READ_KILL)] and
               parent.group(3) == "-1",
               name + ": the child is killed at its read of page 0, by name; the parent is"
               " told -1", "%r" % (kills,))
        counts = (2, 2, 2)      # pages 0 and 1 went to swap for the child; both read back
    got = tuple(int(parent.group(i)) for i in (6, 7, 8))
    record(int(parent.group(4)) == FRAMES and parent.group(5) == "0" and got == counts,
           name + ": the parent reads its %d pages back, no word wrong; domain faults, swap-ins,"
           " evictions %s" % (FRAMES, counts),
           "%s pages, %s wrong, %s" % (parent.group(4), parent.group(5), got))
    record(re.search(r"^hello: pid \d+, hello from user mode$", out, re.M) is not None,
           name + ": hello in the same run", "")
    livelock_checks.check_end(record, name, out)


def run(record):
    first, last = slot0_sectors("build/offset/swap.img")
    check(record, "none", None, 0, first)
    for event in ("write_aio", "read_aio"):
        for where, sector in (("first", first), ("last", last)):
            check(record, "%s-%s" % (event.split("_")[0], where), event, sector, first)
    if os.path.isdir(OUT) and not os.listdir(OUT):
        os.rmdir(OUT)


if __name__ == "__main__":
    results = {"pass": 0, "fail": 0}

    def rec(ok, name, why=""):
        results["pass" if ok else "fail"] += 1
        print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)), flush=True)
        return ok

    run(rec)
    print("%d passed, %d failed" % (results["pass"], results["fail"]))
    sys.exit(1 if results["fail"] else 0)
