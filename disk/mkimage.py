#!/usr/bin/env python3
"""mkimage.py - build pagelab's raw disk image without root or loop mounts.

Layout (LBA = 512-byte sector):
  LBA 0              stage1 (MBR): code, the stage2 locator this script
                     writes at MBR_LOCATOR_OFFSET (u32 LBA, u16 sectors),
                     disk signature, partition table, 0x55AA
  LBA 1 ..           stage2, in the gap before the first partition
  LBA PART_START ..  partition 1: FAT12/16/32 made by mkfs.fat, holding
                     KERNEL_PATH, every --bin file as BOOT_MODULE_DIR/<name>
                     (build/user/hello.elf -> /bin/hello: the boot modules
                     stage2 loads) and, with --config, BOOT_CONFIG_PATH;
                     filled with mtools
  LBA SWAP_START ..  partition 2 (with --swap-mib > 0; SWAP_DEFAULT_MIB
                     by default): type SWAP_PART_TYPE, the kernel's swap
                     (kernel/mm/swap.h), starting at the next MiB after
                     partition 1; its first page is the header
                     include/layout.h describes (SWAP_MAGIC, SWAP_VERSION,
                     the slot size, the slot count), the rest is left
                     sparse (zeros)
This script is the single source of where things are on disk: stage1 reads
the locator, stage2 reads the partition table. Offsets and the kernel path
come from include/layout.h. The output is written to a temporary file and
renamed, so a failed build never leaves a half-written image behind.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import layout  # noqa: E402  tools/layout.py: the one parser of include/layout.h

SECTOR = 512
PART_START = 2048               # 1 MiB: the usual alignment, and room for stage2
FAT_TYPES = {12: 0x01, 16: 0x0E, 32: 0x0C}   # MBR type bytes (FAT16/32 with LBA)
BOCHS_MIN_BYTES = 16 * 63 * SECTOR            # Bochs refuses disks below one cylinder
DEFAULT_MIB = {12: 4, 16: 32, 32: 64}


def fail(msg):
    sys.stderr.write("mkimage: error: %s\n" % msg)
    sys.exit(1)


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))


def chs(lba, heads=255, spt=63):
    """CHS triple for a partition entry; LBA-only marker past cylinder 1023."""
    cyl, rem = divmod(lba, heads * spt)
    head, sec = divmod(rem, spt)
    if cyl > 1023:
        return bytes([0xFE, 0xFF, 0xFF])
    return bytes([head, ((cyl >> 2) & 0xC0) | (sec + 1), cyl & 0xFF])


def module_name(path):
    """/bin's name for a program: its file name without the extension."""
    return os.path.splitext(os.path.basename(path))[0]


def make_fat(path, fat_bits, mib, files):
    """files: [(host file, absolute path on the partition)], copied in order
    (a directory's listing order is the order its files were copied)."""
    run("mkfs.fat", "-C", "-F", str(fat_bits), "-S", str(SECTOR), "-n", "PAGELAB",
        path, str(mib * 1024))
    made = set()
    for host, target in files:
        parts = target.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "::/" + "/".join(parts[:i])
            if d not in made:
                run("mmd", "-i", path, d)
                made.add(d)
        run("mcopy", "-i", path, host, "::" + target)


def part_entry(active, ptype, first, sectors):
    """One 16-byte MBR partition entry."""
    return bytes([0x80 if active else 0]) + chs(first) + bytes([ptype]) \
        + chs(first + sectors - 1) + struct.pack("<II", first, sectors)


def make_mbr(stage1, c, stage2_sectors, part_sectors, fat_bits, swap):
    """swap: (first LBA, sectors) of the swap partition, or None."""
    mbr = bytearray(stage1)
    if len(mbr) != SECTOR or mbr[510:512] != b"\x55\xaa":
        fail("stage1 is not a 512-byte boot sector")
    struct.pack_into("<IH", mbr, c["MBR_LOCATOR_OFFSET"], 1, stage2_sectors)
    struct.pack_into("<I", mbr, 0x1B8, 0x504C4142)          # disk signature "BALP"
    table = c["MBR_PART_TABLE_OFFSET"]
    mbr[table:table + 16] = part_entry(True, FAT_TYPES[fat_bits], PART_START, part_sectors)
    if swap:
        mbr[table + 16:table + 32] = part_entry(False, c["SWAP_PART_TYPE"], *swap)
    return mbr


def swap_header(c, slots):
    """The swap partition's first page (include/layout.h, SWAP_MAGIC)."""
    page = c["PAGE_SIZE"]
    head = c["SWAP_MAGIC"].encode().ljust(16, b"\0") \
        + struct.pack("<IIQ", c["SWAP_VERSION"], page, slots)
    return head.ljust(page, b"\0")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", required=True, help="include/layout.h")
    ap.add_argument("--stage1", required=True)
    ap.add_argument("--stage2", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--bin", nargs="*", default=[], metavar="ELF",
                    help="user programs: each becomes BOOT_MODULE_DIR/<name without extension>")
    ap.add_argument("--config", help="copied to BOOT_CONFIG_PATH (none by default)")
    ap.add_argument("--fat", type=int, choices=(12, 16, 32), default=16)
    ap.add_argument("--size-mib", type=int, help="FAT partition size (default by FAT type)")
    ap.add_argument("--swap-mib", type=int,
                    help="swap partition size (default include/layout.h's SWAP_DEFAULT_MIB;"
                         " 0: none)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    c = layout.constants(a.layout)
    stage1 = open(a.stage1, "rb").read()
    stage2 = open(a.stage2, "rb").read()
    if struct.unpack_from("<I", stage2, 0)[0] != c["STAGE2_MAGIC"]:
        fail("%s does not start with the stage2 signature" % a.stage2)
    stage2_sectors = (len(stage2) + SECTOR - 1) // SECTOR
    if 1 + stage2_sectors > PART_START:
        fail("stage2 (%d sectors) does not fit before LBA %d" % (stage2_sectors, PART_START))
    mib = a.size_mib or DEFAULT_MIB[a.fat]
    part_sectors = mib * 1024 * 1024 // SECTOR
    swap_mib = c["SWAP_DEFAULT_MIB"] if a.swap_mib is None else a.swap_mib
    if swap_mib < 0:
        fail("--swap-mib %d: a size is not negative" % swap_mib)
    swap = None
    slot_sectors = c["PAGE_SIZE"] // SECTOR
    if swap_mib:
        first = PART_START + part_sectors         # a MiB boundary: part_sectors is whole MiB
        sectors = swap_mib * 1024 * 1024 // SECTOR
        swap = (first, sectors)
        slots = sectors // slot_sectors - c["SWAP_HEADER_SLOTS"]
        if first + sectors > 0xFFFFFFFF:
            fail("--swap-mib %d: the partition would end past the MBR's 32-bit LBAs" % swap_mib)
    out_dir = os.path.dirname(os.path.abspath(a.out))
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        part = os.path.join(tmp, "part.img")
        files = [(a.kernel, c["KERNEL_PATH"])]
        names = [module_name(b) for b in a.bin]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            fail("two --bin files would both be %s/%s" % (c["BOOT_MODULE_DIR"], dupes[0]))
        files += [(b, "%s/%s" % (c["BOOT_MODULE_DIR"], n)) for b, n in zip(a.bin, names)]
        if a.config:
            files.append((a.config, c["BOOT_CONFIG_PATH"]))
        make_fat(part, a.fat, mib, files)
        img = os.path.join(tmp, "disk.img")
        with open(img, "wb") as f:
            f.write(make_mbr(stage1, c, stage2_sectors, part_sectors, a.fat, swap))
            f.write(stage2.ljust(stage2_sectors * SECTOR, b"\0"))
            f.seek(PART_START * SECTOR)
            f.write(open(part, "rb").read())
            if swap:
                f.seek(swap[0] * SECTOR)
                f.write(swap_header(c, slots))
                f.truncate((swap[0] + swap[1]) * SECTOR)   # the slots: sparse zeros
            if f.tell() < BOCHS_MIN_BYTES and os.fstat(f.fileno()).st_size < BOCHS_MIN_BYTES:
                f.truncate(BOCHS_MIN_BYTES)
        os.replace(img, a.out)


if __name__ == "__main__":
    main()
