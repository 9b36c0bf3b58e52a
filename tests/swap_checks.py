#!/usr/bin/env python3
"""swap_checks.py - the swap partition and the kernel's view of it, for
tests/run_tests.py.

disk/mkimage.py gives every image a second MBR partition of type
SWAP_PART_TYPE with a header page (include/layout.h, SWAP_MAGIC); the
kernel finds it through its own ATA driver (kernel/dev/ata.c) and says so
in one "swap: ..." line, or why it runs without swap. Checked here, with
the expected lines computed from include/layout.h:
  - the image as built: the partition table entry, the header's fields,
    and the boot line with the slot count and the partition's LBA;
  - variants of build/offset/disk.img made here under build/test/swap/:
    no swap partition (the entry cleared, and mkimage --swap-mib 0), a
    type-82h partition without pagelab's header, a header of another
    version, one that counts one slot more than its partition holds, all
    of them or one less, a partition past the disk's end, and slot counts
    at, just below and just above SWAP_SLOTS_MAX;
  - QEMU's q35 machine, whose disk sits on AHCI: nothing at the legacy
    ATA ports, a named line, and the boot goes on to its halt.
Every variant must still reach "pagelab: halted".
"""
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402

SECTOR = layout.constant("SECTOR_SIZE")
PAGE = layout.constant("PAGE_SIZE")
SLOT_SECTORS = PAGE // SECTOR
TABLE = layout.constant("MBR_PART_TABLE_OFFSET")
TYPE = layout.constant("SWAP_PART_TYPE")
HEADER_SLOTS = layout.constant("SWAP_HEADER_SLOTS")
SLOTS_MAX = layout.constant("SWAP_SLOTS_MAX")
DEFAULT_MIB = layout.constant("SWAP_DEFAULT_MIB")
MAGIC = layout.constant("SWAP_MAGIC").encode().ljust(16, b"\0")
VERSION = layout.constant("SWAP_VERSION")
OUT = "build/test/swap"
BASE = "build/offset/disk.img"
NONE = "swap: none, running without swap:\n  "


def entry(img, i):
    """(type, first LBA, sectors) of MBR entry i."""
    off = TABLE + 16 * i
    return img[off + 4], struct.unpack_from("<I", img, off + 8)[0], \
        struct.unpack_from("<I", img, off + 12)[0]


def set_entry(img, i, ptype, first, sectors):
    off = TABLE + 16 * i
    img[off + 4] = ptype
    struct.pack_into("<II", img, off + 8, first, sectors)


def header(img, lba):
    """(magic, version, slot size, slots) at the partition's start."""
    off = lba * SECTOR
    return bytes(img[off:off + 16]), *struct.unpack_from("<IIQ", img, off + 16)


def write_variant(name, img, size=None):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".img")
    with open(path, "wb") as f:
        f.write(img)
        if size and size > len(img):
            f.truncate(size)
    return path


def boot_lines(path, machine=None):
    """The serial log of a boot to its halt (None if it did not halt)."""
    extra = ["-machine", machine] if machine else []
    b = qemu.Boot(path, mem="512M", extra=extra, timeout=120)
    try:
        halted = b.wait_for("pagelab: halted")
        return b.serial() if halted else None
    finally:
        b.close()


def swap_line(log):
    """The kernel's "swap:" line and the indented lines under it."""
    m = re.search(r"^swap: .*(?:\n  .*)*", log or "", re.M)
    return m.group(0) if m else None


def check_boot(record, name, path, want, machine=None):
    log = boot_lines(path, machine)
    line = swap_line(log)
    record(log is not None and line == want,
           "swap/%s: the boot says \"%s\" and goes on to its halt"
           % (name, want.replace("\n  ", " / ")),
           "halted: %s; its line: %r" % (log is not None, line))


def found_line(slots, lba, mib_sectors, unused=0):
    line = ("swap: %d slots of 4 KiB, partition 2 at LBA %d (%d MiB)\n"
            "  on the ATA primary master: QEMU HARDDISK"
            % (slots, lba, mib_sectors * SECTOR // (1024 * 1024)))
    if unused:
        line += "\n  %d slots of its header past SWAP_SLOTS_MAX (%d) left unused" % (unused,
                                                                                  SLOTS_MAX)
    return line


def resized(img, first, slots_in_header, part_slots):
    """img with a swap partition of part_slots slots after its header,
    whose header says slots_in_header; and the file size it needs."""
    img = bytearray(img)
    sectors = (HEADER_SLOTS + part_slots) * SLOT_SECTORS
    set_entry(img, 1, TYPE, first, sectors)
    struct.pack_into("<Q", img, first * SECTOR + 24, slots_in_header)
    return img, (first + sectors) * SECTOR


# tests/guest/swapio.c's checks, in its order: a test image on a machine
# with the legacy ATA controller (QEMU's pc, Bochs) must print them all
GUEST_SWAP_CHECKS = 11


def check_test_image(record, name, out):
    """A test image's boot on a machine with ATA (run_tests.py's boots):
    swap was found, and the in-guest swap checks all ran (swapio.c prints
    no PASS or FAIL line, only why, when there is no swap)."""
    ran = re.findall(r"^(?:PASS|FAIL): guest/[\w-]+: swap: ", out, re.M)
    record(swap_line(out) is not None and not swap_line(out).startswith(NONE) and
           len(ran) == GUEST_SWAP_CHECKS,
           name + ": swap found, and the in-guest swap checks all ran",
           "%r; %d of %d checks" % (swap_line(out), len(ran), GUEST_SWAP_CHECKS))


# user/swaptest.c under tests/guest/swap.cfg's limit, and copies of
# build/<strategy>/swap.img with other policies' lines
QUOTA = 16
STRATEGIES = ["identity", "table-offset", "offset", "temporary", "recursive"]
STEP = re.compile(r"^swaptest: pid (\d+): (.+?): (\d+) pages, (\d+) words wrong; swap-ins (\d+)"
                  r" evictions (\d+) writebacks (\d+) clean (\d+) resident (\d+)$", re.M)


def sequential_counts(q):
    """What one process writing 4q heap pages in order, then reading them
    in order, must see under a limit of q frames, FIFO or Clock (a
    sequential scan leaves every resident page's Accessed bit set, so
    Clock clears them all and takes the oldest, as FIFO does):
    (swap-ins, evictions, writebacks, clean drops, resident) after each.
    Writing: the first q pages fill the frames, each later one evicts the
    oldest, dirty: 3q evictions, all written. Reading: page 0 on is on
    swap or, for the last q, still resident but evicted by the first q
    reads (dirty: written); so 4q swap-ins, 4q evictions, q of them
    writes and 3q clean drops (pages read back and not written since)."""
    p = 4 * q
    written = (0, p - q, p - q, 0, q)
    read = (p, (p - q) + p, (p - q) + q, p - q, q)
    return written, read


def set_config(path, text):
    """The image at path gets text as its /boot/pagelab.cfg (mtools, at the
    FAT partition's offset)."""
    cfg = path + ".cfg"
    with open(cfg, "w") as f:
        f.write(text)
    _, first, _ = entry(bytearray(open(path, "rb").read(512)), 0)
    subprocess.run(["mcopy", "-o", "-i", "%s@@%d" % (path, first * SECTOR), cfg,
                    "::" + layout.constant("BOOT_CONFIG_PATH")], check=True, capture_output=True)
    os.remove(cfg)


def image_with_config(strategy, tag, text, out=OUT):
    """A copy of build/<strategy>/swap.img under out whose
    /boot/pagelab.cfg is text."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "%s-%s.img" % (strategy, tag))
    with open("build/%s/swap.img" % strategy, "rb") as f, open(path, "wb") as g:
        g.write(f.read())
    set_config(path, text)
    return path


FULL_KILL = re.compile(r"^pagelab: killed pid \d+ \(swaptest\): page fault at 0x[0-9a-f]{16}[^\n]*"
                       r"out of memory: a page had to be evicted for it and swap is full", re.M)


def check_swap_full(record, strategy="offset"):
    """Swap full, under QEMU: swaptest (user_frames=QUOTA, FIFO) on a swap
    area whose header counts fewer slots than its write step needs (3 *
    QUOTA evictions of dirty pages, none with a copy), and exactly as
    many. Below: swaptest killed by name when its last page needs a slot,
    hello beside it unharmed, every frame and slot free at the end. At:
    the write step completes with its exact counts (the later steps may
    run out and must be named the same way); the boot ends clean."""
    base = bytearray(open("build/%s/swap.img" % strategy, "rb").read())
    _, first, _ = entry(base, 1)
    need = 3 * QUOTA
    written, _ = sequential_counts(QUOTA)
    for slots in (need - 1, need):
        name = "swap/%s/full-%d-slots" % (strategy, slots)
        img, size = resized(base, first, slots, slots)
        path = write_variant("full-%d" % slots, img, size)
        set_config(path, "run=swaptest\nrun=hello\nuser_frames=%d\nreplace=fifo\n" % QUOTA)
        log = boot_lines(path) or ""
        os.remove(path)
        step = {m.group(2): m for m in STEP.finditer(log)}.get("written")
        if slots < need:
            record(FULL_KILL.search(log) is not None and step is None,
                   name + ": swaptest killed by name (swap is full) before its write step ends",
                   log[-600:].replace("\n", " | "))
        else:
            got = tuple(int(step.group(i)) for i in range(5, 10)) if step else None
            record(step is not None and int(step.group(4)) == 0 and got == written,
                   name + ": the write step completes in exactly %d slots, counts %s"
                   % (need, written), "got %s" % (got,))
        record("hello: pid " in log and "pagelab: halted" in log,
               name + ": hello runs beside it and the boot ends", log[-300:].replace("\n", " | "))
        m = re.search(r"pagelab: frames: (\d+) free at boot, (\d+) free now; (\d+) references"
                      r" held\npagelab: shared objects: (\d+) alive; frame records: (\d+) frames,"
                      r" (\d+) at boot\npagelab: swap: (\d+) slots in use; replacement: (\d+)"
                      r" pages resident", log)
        ok = False
        if m:
            at_boot, now, refs, _, rec_now, rec_boot, used, res = (int(x) for x in m.groups())
            ok = now == at_boot - (rec_now - rec_boot) and refs == 0 and used == 0 and res == 0
        record(ok, name + ": every frame and every slot free at the end",
               m.group(0).replace("\n", " | ") if m else "no frame report")


# Where the guest's clock counts instructions (a tick every million):
# NRU's and aging's samples, and scope=pff's windows, fall where the
# workloads' pace puts them (user/refs.h), not where the host's load does.
# With it the disk's cache=unsafe: the guest polls the disk while QEMU
# completes a FLUSH CACHE, and under -icount every poll is guest time, so
# a host fsync of a few milliseconds would move the ticks; unsafe makes
# the flush a no-op on the host (the boot's disk is a snapshot anyway).
ICOUNT = ("-icount", "shift=0")


def boot_config(strategy, tag, text, out=OUT, timeout=120, extra=()):
    """The serial log of a copy of build/<strategy>/swap.img with text as
    its configuration, booted to its halt (None if it did not halt); the
    copy is gone afterwards. extra: more QEMU arguments (ICOUNT)."""
    path = image_with_config(strategy, tag, text, out)
    b = qemu.Boot(path, mem="512M", timeout=timeout, extra=list(extra),
                  cache="unsafe" if list(extra) == list(ICOUNT) else None)
    try:
        halted = b.wait_for("pagelab: halted")
        log = b.serial()
    finally:
        b.close()
        os.remove(path)
    return log if halted else None


# Every policy under every scope, swaptest's integrity check: FIFO and
# Clock under scope=global in every strategy (their counts are exact), and
# the other thirteen pairs spread over the strategies, so that each
# strategy runs every policy and each pair runs somewhere.
POLICIES = ("fifo", "clock", "opt", "nru", "aging")
SCOPES = ("global", "local", "pff")
SCOPE_LINES = {"global": "", "local": "scope=local\nquota=%d\n" % QUOTA,
               "pff": "scope=pff\n"}


def swaptest_runs(strategies):
    runs = [(s, p, "global") for s in strategies for p in ("fifo", "clock")]
    rest = [(p, sc) for p in POLICIES for sc in SCOPES
            if (p, sc) not in (("fifo", "global"), ("clock", "global"))]
    for k, (p, sc) in enumerate(rest):
        runs.append((strategies[k % len(strategies)], p, sc))
    return runs


def swaptest_image(strategy, policy, scope="global"):
    """build/<strategy>/swap.img, or a copy under OUT with policy's and
    scope's lines."""
    if policy == "fifo" and scope == "global":
        return "build/%s/swap.img" % strategy
    with open("tests/guest/swap.cfg") as f:
        text = f.read().replace("replace=fifo", "replace=" + policy) + SCOPE_LINES[scope]
    return image_with_config(strategy, "%s-%s" % (policy, scope), text)


def check_swaptest(record, strategy, policy, scope="global"):
    name = "swap/%s/swaptest-%s%s" % (strategy, policy,
                                      "" if scope == "global" else "-" + scope)
    path = swaptest_image(strategy, policy, scope)
    b = qemu.Boot(path, mem="512M", timeout=300)
    try:
        halted = b.wait_for("pagelab: halted")
        out = b.serial()
    finally:
        b.close()
    check_swaptest_out(record, name, policy, halted, out, scope)


def check_swaptest_out(record, name, policy, halted, out, scope="global"):
    """What swaptest printed (under QEMU here, under Bochs in
    tests/bochs_check.py): nothing lost or mixed, and the counts: exact
    where the policy and scope decide them (the sequential write takes the
    same evictions under every policy with a fixed limit; the read back
    under FIFO and Clock), and otherwise the bookkeeping every policy
    must keep: each eviction a write-back or a clean drop, each page
    brought in or evicted counted once in what is resident."""
    if not record(halted and "swaptest: done, child status 0" in out,
                  name + ": swaptest runs to its end, the child exits 0",
                  out[-600:].replace("\n", " | ")):
        return
    steps = {m.group(2): m for m in STEP.finditer(out)}
    pages = 4 * QUOTA
    want_steps = ["written", "read back", "parent wrote and read back",
                  "child wrote and read back", "parent read back after the child's exit"]
    for step in want_steps:
        m = steps.get(step)
        record(m is not None and int(m.group(3)) == pages and int(m.group(4)) == 0,
               name + ": %s: %d pages, none lost or mixed" % (step, pages),
               m.group(0) if m else "no line")
    written, read = sequential_counts(QUOTA)
    exact = {"written": scope != "pff", "read back": scope != "pff" and
             policy in ("fifo", "clock")}
    before = (0, 0, 0, 0, 0)            # the counts are the process's since its start
    for step, want in (("written", written), ("read back", read)):
        m = steps.get(step)
        got = tuple(int(m.group(i)) for i in range(5, 10)) if m else None
        if exact[step]:
            record(got == want,
                   name + ": %s: swap-ins, evictions, writebacks, clean drops, resident %s"
                   % (step, want), "got %s" % (got,))
        elif got:
            swapins, evictions, writebacks, drops = (g - b for g, b in zip(got[:4], before))
            resident = got[4]
            brought = pages if step == "written" else swapins
            record(evictions == writebacks + drops and
                   before[4] + brought - evictions == resident and 0 < resident <= QUOTA and
                   (step != "written" or (swapins, drops) == (0, 0)),
                   name + ": %s: each eviction a write-back or a clean drop, resident ="
                   " before + brought in - evicted, within the limit" % step,
                   "got %s after %s" % (got, before))
        else:
            record(False, name + ": %s: its counts" % step, "no line")
        before = got or before
    record(re.search(r"^replacement: user_frames=%d: " % QUOTA, out, re.M) is not None and
           ("policy %s, scope %s" % (policy, scope)) in out,
           name + ": the boot names the limit, the policy and the scope", "")
    m = re.search(r"pagelab: frames: (\d+) free at boot, (\d+) free now; (\d+) references"
                  r" held\npagelab: shared objects: (\d+) alive; frame records: (\d+) frames,"
                  r" (\d+) at boot\npagelab: swap: (\d+) slots in use; replacement: (\d+) pages"
                  r" resident, (\d+) evicted\n", out)
    if record(m is not None, name + ": the kernel's frame and swap counts at the end", "missing"):
        at_boot, now, refs, _, pages, pages_at_boot, slots, res, evicted = \
            (int(x) for x in m.groups())
        record(now == at_boot - (pages - pages_at_boot) and refs == 0 and slots == 0 and
               res == 0 and evicted > 0,
               name + ": with both processes gone every frame and every swap slot is free"
               " again, nothing resident, pages were evicted", m.group(0).replace("\n", " | "))


def run(record):
    img = bytearray(open(BASE, "rb").read())
    ptype, first, sectors = entry(img, 1)
    want_sectors = DEFAULT_MIB * 1024 * 1024 // SECTOR
    want_slots = want_sectors // SLOT_SECTORS - HEADER_SLOTS
    ok = record(ptype == TYPE and sectors == want_sectors and first % 2048 == 0 and
                os.path.getsize(BASE) == (first + sectors) * SECTOR,
                "swap/image: partition 2 has type %xh, SWAP_DEFAULT_MIB (%d MiB), on a MiB "
                "boundary, and ends the image" % (TYPE, DEFAULT_MIB),
                "type %xh, LBA %d, %d sectors; image %d bytes"
                % (ptype, first, sectors, os.path.getsize(BASE)))
    if not ok:
        return
    magic, version, slot_size, slots = header(img, first)
    record((magic, version, slot_size, slots) == (MAGIC, VERSION, PAGE, want_slots),
           "swap/image: its header: magic, version, slot size, %d slots" % want_slots,
           "%r %d %d %d" % (magic, version, slot_size, slots))
    check_boot(record, "default", BASE, found_line(want_slots, first, want_sectors))
    check_boot(record, "q35", BASE,
               NONE + "ATA primary master: no ATA controller at the legacy ports (1F0h reads"
               " FFh)", machine="q35")

    cleared = bytearray(img)
    set_entry(cleared, 1, 0, 0, 0)
    check_boot(record, "no-partition", write_variant("no-partition", cleared),
               NONE + "no partition of type %xh in the MBR" % TYPE)

    foreign = bytearray(img)
    foreign[first * SECTOR:first * SECTOR + 10] = b"SWAPSPACE2"
    check_boot(record, "foreign", write_variant("foreign", foreign),
               NONE + "the type-82h partition at LBA %d has no pagelab swap header: left alone"
               % first)

    other = bytearray(img)
    struct.pack_into("<I", other, first * SECTOR + 16, VERSION + 1)
    check_boot(record, "version", write_variant("version", other),
               NONE + "the swap header at LBA %d: another version or slot size" % first)

    room = sectors // SLOT_SECTORS - HEADER_SLOTS
    over, _ = resized(img, first, room + 1, room)
    check_boot(record, "too-many-slots", write_variant("too-many-slots", over),
               NONE + "the swap header at LBA %d counts more slots than its partition holds"
               % first)
    exact, _ = resized(img, first, room, room)
    check_boot(record, "all-slots", write_variant("all-slots", exact),
               found_line(room, first, sectors))
    fewer, _ = resized(img, first, room - 1, room)
    check_boot(record, "one-slot-less", write_variant("one-slot-less", fewer),
               found_line(room - 1, first, sectors))
    # a partition entry reaching past the disk's end (the image not grown)
    past, _ = resized(img, first, room + 1, room + 1)
    check_boot(record, "past-the-disk", write_variant("past-the-disk", past),
               NONE + "the swap partition ends past the end of the disk (%d sectors)"
               % (len(img) // SECTOR))

    # SWAP_SLOTS_MAX: just below, at, just above (the rest unused, by name)
    for tag, n in (("below-max", SLOTS_MAX - 1), ("at-max", SLOTS_MAX),
                   ("above-max", SLOTS_MAX + 1)):
        big, size = resized(img, first, n, n)
        used = min(n, SLOTS_MAX)
        check_boot(record, tag, write_variant(tag, big, size),
                   found_line(used, first, (HEADER_SLOTS + n) * SLOT_SECTORS, n - used))

    # mkimage --swap-mib 0: no second entry, the image ends with the FAT
    path = os.path.join(OUT, "mkimage-noswap.img")
    r = subprocess.run([sys.executable, "disk/mkimage.py", "--layout", "include/layout.h",
                        "--stage1", "build/stage1.bin", "--stage2", "build/stage2.bin",
                        "--kernel", "build/offset/kernel.elf", "--swap-mib", "0",
                        "--out", path], capture_output=True, text=True)
    made = r.returncode == 0 and os.path.exists(path)
    t, f1, s1 = entry(bytearray(open(path, "rb").read(512)), 1) if made else (None, 0, 0)
    _, f0, s0 = entry(img, 0)
    record(made and (t, f1, s1) == (0, 0, 0) and os.path.getsize(path) == (f0 + s0) * SECTOR,
           "swap/mkimage: --swap-mib 0 makes no second partition and nothing after the FAT",
           "exit %d %s; entry 2 %r; %d bytes" % (r.returncode, r.stderr.strip(), (t, f1, s1),
                                                  os.path.getsize(path) if made else -1))
    if made:
        check_boot(record, "mkimage-noswap", path,
                   NONE + "no partition of type %xh in the MBR" % TYPE)
    r = subprocess.run([sys.executable, "disk/mkimage.py", "--layout", "include/layout.h",
                        "--stage1", "build/stage1.bin", "--stage2", "build/stage2.bin",
                        "--kernel", "build/offset/kernel.elf", "--swap-mib", "-1",
                        "--out", os.path.join(OUT, "negative.img")],
                       capture_output=True, text=True)
    record(r.returncode != 0 and "--swap-mib -1" in r.stderr and
           not os.path.exists(os.path.join(OUT, "negative.img")),
           "swap/mkimage: a negative --swap-mib is refused by name, no image written",
           "exit %d: %s" % (r.returncode, r.stderr.strip()))
    for strategy, policy, scope in swaptest_runs(STRATEGIES):
        check_swaptest(record, strategy, policy, scope)
    check_swap_full(record)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    os.rmdir(OUT)
