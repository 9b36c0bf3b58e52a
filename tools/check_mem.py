#!/usr/bin/env python3
"""check_mem.py MEM - refuse a `make run`/`make gdb` memory size pagelab
cannot boot with, before QEMU starts.

MEM is QEMU's -m size: a number with an optional K, M, G or T suffix (no
suffix: MiB). The smallest RAM is RAM_MIN in include/layout.h (read from
there, not repeated here). Below it the boot would end in one of the
loader's "out of memory" errors, and below about 1 MiB QEMU's BIOS stops
without printing anything, so it is said here, by name. Exit status 0 if
MEM is usable, 2 if not.
"""
import re
import sys

import layout

UNITS = {"": 1 << 20, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse(mem):
    """Bytes, or None if QEMU's -m would not read it as a size."""
    m = re.fullmatch(r"(\d+)([KMGT]?)", mem.strip(), re.I)
    return int(m.group(1)) * UNITS[m.group(2).upper()] if m else None


def main():
    mem = sys.argv[1] if len(sys.argv) > 1 else ""
    size, least = parse(mem), layout.constant("RAM_MIN")
    if size is None:
        print("pagelab: MEM=%s is not a memory size: write e.g. 512M, 6G or 8192K" % mem)
        sys.exit(2)
    if size < least:
        print("pagelab: MEM=%s is below the smallest RAM pagelab boots with: %d MiB"
              " (RAM_MIN in include/layout.h says why)" % (mem, least >> 20))
        sys.exit(2)


if __name__ == "__main__":
    main()
