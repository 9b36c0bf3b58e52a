#!/usr/bin/env python3
"""mkseeds.py - (re)make the seed corpora of the fuzz harnesses in tests/fuzz/corpus/.

Run from the repo root; needs mkfs.fat and mtools. The seeds are committed; this script
says where they came from:
  e820/  maps a BIOS gives (QEMU pc and q35, 32 MiB to 512 GiB), and
         overlapping, unsorted, unaligned, disabled and huge entries;
  elf/   a minimal kernel that passes every check (the host-built sample
         executables are seeds too: fuzz.mk strips them into build/fuzz/seeds/);
  fat/   FAT12, FAT16 and FAT32 volumes from mkfs.fat holding
         /boot/kernel.elf and a long-named directory, in fuzz_fat.c's
         sparse-disk format (only the non-zero sectors);
  pt/    operation streams (fixed pseudo-random bytes), with and without the swap
         and clone operations (byte 0, bit 1).
"""
import os
import random
import struct
import subprocess
import tempfile

OUT = "tests/fuzz/corpus"
SECTOR = 512


def write(kind, name, data):
    os.makedirs(os.path.join(OUT, kind), exist_ok=True)
    with open(os.path.join(OUT, kind, name), "wb") as f:
        f.write(data)


def e820_entry(base, length, kind, attr=1):
    return struct.pack("<QQII", base, length, kind, attr)


def e820_seeds():
    G = 1 << 30
    qemu_512m = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2),
                 (0x100000, 0x1FEE0000, 1), (0x1FFE0000, 0x20000, 2), (0xFFFC0000, 0x40000, 2)]
    qemu_512g = qemu_512m[:3] + [(0x100000, 0xBFEDF000, 1), (0xBFFDF000, 0x21000, 2),
                                 (0xFFFC0000, 0x40000, 2), (1 << 32, 509 * G, 1),
                                 (0xFD00000000, 0x300000000, 2)]
    weird = [(0x1000, 0x5000, 1), (0x3000, 0x1000, 4), (0x2800, 0x10, 5), (0, 0, 1),
             (0x10000, 0x1000, 1, 0), (0xFFFFFFFFFFFFF000, 0x2000, 1), (0x123, 0x9999, 3),
             (0x8000, 0x8000, 99), (0x7000, 0x3000, 7), (0x20000, 0x1000, 1)]
    for name, m, cap in [("qemu-512m", qemu_512m, 200), ("qemu-512g", qemu_512g, 200),
                         ("weird", weird, 200), ("weird-small-cap", weird, 3)]:
        write("e820", name, bytes([cap]) + b"".join(e820_entry(*e) for e in m))


def elf_seeds():
    # The host-built sample executables are seeds too, but as build outputs
    # they are made by tests/fuzz/fuzz.mk into build/fuzz/seeds/elf/.
    # a minimal kernel: text r-x, rodata r--, data rw- with bss, entry in text
    base_v, base_p = 0xFFFFFFFF80200000, 0x200000
    phdrs, body = [], b""
    for i, (flags, filesz, memsz) in enumerate([(5, 0x20, 0x20), (4, 0x10, 0x10),
                                                 (6, 0x10, 0x3000)]):
        off = 0x1000 * (i + 1)
        phdrs.append(struct.pack("<IIQQQQQQ", 1, flags, off, base_v + off - 0x1000,
                                 base_p + off - 0x1000, filesz, memsz, 0x1000))
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base_v, 64, 0, 0, 64, 56,
                             len(phdrs), 0, 0, 0)
    image = bytearray(0x3010)
    image[:64] = eh
    image[64:64 + 56 * len(phdrs)] = b"".join(phdrs)
    image[0x1000] = 0xC3
    write("elf", "minimal-kernel", bytes(image))


def sparse(img):
    """The image in fuzz_fat.c's format: (u32 sector, 512 bytes) per non-zero sector."""
    data = open(img, "rb").read()
    out = b""
    for lba in range(len(data) // SECTOR):
        s = data[lba * SECTOR:(lba + 1) * SECTOR]
        if any(s):
            out += struct.pack("<I", lba) + s
    return out


def fat_seeds():
    rnd = random.Random(20261126)
    with tempfile.TemporaryDirectory() as tmp:
        kernel = os.path.join(tmp, "kernel.elf")
        with open(kernel, "wb") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(3000)))
        note = os.path.join(tmp, "note.txt")
        with open(note, "w") as f:
            f.write("a file in a directory with a long name\n")
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        for bits, kib in [(12, 1024), (16, 4096), (32, 34 * 1024)]:
            img = os.path.join(tmp, "fat%d.img" % bits)
            subprocess.run(["mkfs.fat", "-C", "-F", str(bits), "-s", "1", "-f", "1",
                            img, str(kib)], check=True, capture_output=True)
            for cmd in (["mmd", "-i", img, "::/boot"],
                        ["mmd", "-i", img, "::/A Very Long Directory Name"],
                        ["mcopy", "-i", img, kernel, "::/boot/kernel.elf"],
                        ["mcopy", "-i", img, note,
                         "::/A Very Long Directory Name/file with a long name.txt"]):
                subprocess.run(cmd, check=True, capture_output=True, env=env)
            write("fat", "fat%d" % bits, sparse(img))


def pt_seeds():
    rnd = random.Random(7)
    for i in range(6):
        write("pt", "ops-%d" % i, bytes([i & 1]) + bytes(rnd.getrandbits(8)
                                                         for _ in range(400 + 200 * i)))
    # byte 0 bit 1: fork's copy and the swap entries join the operations
    # (fuzz_pt.c); drawn after the six above, which stay as they were
    for i in range(6):
        write("pt", "ops-swap-%d" % i, bytes([2 | (i & 1)]) + bytes(rnd.getrandbits(8)
                                                                    for _ in range(400 + 200 * i)))


if __name__ == "__main__":
    e820_seeds()
    elf_seeds()
    fat_seeds()
    pt_seeds()
