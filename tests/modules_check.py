#!/usr/bin/env python3
"""modules_check.py - user programs and boot modules, from the ELF files
built in build/user/ to the bytes the kernel reads at MODULES_BASE.

Part of `make test` (tests/run_tests.py): every check counts in the same
"N passed, N failed" line. Run alone, after `make images test-images`:
`python3 tests/modules_check.py [case-name-or-regex ...]`.

- user ELFs (no boot): each build/user/<name>.elf is a static ELF64
  x86-64 executable whose lowest PT_LOAD is at or above USER_BASE, with no
  segment both writable and executable, its segments on pages of their
  own, and its entry inside an executable segment.
- every normal and test boot (boot_lines, called by run_tests.check_boot):
  the kernel's report lists each user program as a module, in the order
  mkimage.py copied them, with its size; MODULES_BASE translates to the
  first module's frame; on test images each module's FNV-1a, read by the
  guest through MODULES_BASE, is the built file's.
- stage2's limits (QEMU boots of images with their own /bin and
  /boot/pagelab.cfg, made with mtools from a copy of build/offset/disk.img):
  BOOT_INFO_MAX_MODULES (32) modules with a 31-character name, a 1 MiB and a 1 MiB - 1 file and a
  4096-byte config all load; one module more, a 32-character name, a file
  of 1 MiB + 1, a non-ELF file, an empty file and a 4097-byte config are
  each named on an error line and the boot goes on; no /bin at all is zero
  modules; a stage2 that writes BootInfo version 1 is named by the kernel.
- the kernel's configuration parser (kernel/config.c): a file with a line
  without '=', an unknown key, a run= of no module and one run= line more
  than CONFIG_RUN_MAX names each with its line number (serial and VGA), the
  boot goes on with the rest in order; without a file, the default set.
"""
import glob
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
import robustness  # noqa: E402
from robustness import Case, constant, copy_good, mtools, OUT, KERNEL_HALT  # noqa: E402

USER_DIR = "build/user"
PT_LOAD, PF_X, PF_W = 1, 1, 2
ET_EXEC, EM_X86_64 = 2, 62
PART = "@@1M"                      # the FAT partition's offset (disk/mkimage.py)
BIN = constant("BOOT_MODULE_DIR")
CONFIG = constant("BOOT_CONFIG_PATH")
MAX_MODULES = constant("BOOT_INFO_MAX_MODULES")     # include/bootinfo.h
NAME_MAX = constant("BOOT_MODULE_NAME_MAX")
MAX_SIZE = constant("BOOT_MODULE_MAX_SIZE")
CONFIG_MAX = constant("BOOT_CONFIG_MAX_SIZE")
COLUMNS = constant("VGA_COLS")


def user_elfs():
    """The built user programs, in the order the Makefile passes them to
    mkimage.py (make's $(wildcard) sorts: so does this)."""
    return sorted(glob.glob(os.path.join(USER_DIR, "*.elf")))


def module_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def fnv1a(data):
    """FNV-1a, 32 bits: what tests/guest/variant_selftest.c prints."""
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


# ---------------------------------------------------------------- user ELFs

def elf_problems(path):
    """What is wrong with a user program's ELF file ([] when nothing)."""
    elf = open(path, "rb").read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        return ["not a little-endian ELF64 file"]
    e_type, e_machine, _, entry, phoff = struct.unpack_from("<HHIQQ", elf, 16)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    bad = []
    if e_type != ET_EXEC or e_machine != EM_X86_64:
        bad.append("type %d machine %d, want ET_EXEC x86-64 (static, no PIE)" %
                   (e_type, e_machine))
    loads = []
    for i in range(phnum):
        p_type, p_flags, _, vaddr, _, _, memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == PT_LOAD:
            loads.append((vaddr, memsz, p_flags))
    if not loads:
        return bad + ["no PT_LOAD segment"]
    lowest = min(v for v, _, _ in loads)
    if lowest < constant("USER_BASE"):
        bad.append("lowest PT_LOAD at 0x%x, below USER_BASE" % lowest)
    if max(v + m for v, m, _ in loads) > constant("USER_END"):
        bad.append("a segment ends above USER_END")
    bad += ["segment at 0x%x is writable and executable" % v
            for v, _, f in loads if f & PF_W and f & PF_X]
    pages = sorted(((v // 4096, (v + m + 4095) // 4096), v) for v, m, _ in loads)
    bad += ["segments at 0x%x and 0x%x share a page" % (a[1], b[1])
            for a, b in zip(pages, pages[1:]) if b[0][0] < a[0][1]]
    if not any(f & PF_X and v <= entry < v + m for v, m, f in loads):
        bad.append("entry 0x%x is not in an executable segment" % entry)
    return bad


def check_user_elfs(record):
    elfs = user_elfs()
    record(len(elfs) >= 2 and os.path.join(USER_DIR, "hello.elf") in elfs,
           "user: build/user holds hello.elf and more", ", ".join(elfs))
    for path in elfs:
        bad = elf_problems(path)
        record(not bad, "user: %s: static ELF64 at or above USER_BASE, W^X, entry in code" %
               module_name(path), "; ".join(bad))


# ---------------------------------------------------------------- every boot

REPORT_LINE = re.compile(r"^  module (\S+): 0x([0-9a-f]+)-0x([0-9a-f]+), (\d+) bytes$", re.M)
GUEST_LINE = re.compile(r"^MODULE: (\S+) (\d+) bytes fnv1a 0x([0-9a-f]{8})$", re.M)


def boot_lines(record, name, out, finals, test_image):
    """The modules of a normal or test image: build/user's programs."""
    want = [(module_name(p), os.path.getsize(p)) for p in user_elfs()]
    listed = [(m.group(1), int(m.group(4)), int(m.group(2), 16))
              for m in REPORT_LINE.finditer(out)]
    record([(n, s) for n, s, _ in listed] == want,
           name + ": the report lists build/user's programs as modules, in order",
           "listed %s, want %s" % ([(n, s) for n, s, _ in listed], want))
    if listed:
        line = [l for l in finals if l[2].endswith("boot modules (read-only)")]
        record(bool(line) and line[0][1] == listed[0][2] and
               re.match(r"\s*4K r-- ", line[0][2]) is not None,
               name + ": MODULES_BASE is the first module's frame, read-only",
               "line %s, module at 0x%x" % (line and line[0], listed[0][2]))
    if test_image:
        got = {m.group(1): (int(m.group(2)), int(m.group(3), 16))
               for m in GUEST_LINE.finditer(out)}
        wrong = [n for n, _ in want if got.get(n) != (
            os.path.getsize(os.path.join(USER_DIR, n + ".elf")),
            fnv1a(open(os.path.join(USER_DIR, n + ".elf"), "rb").read()))]
        record(len(got) == len(want) and not wrong,
               name + ": each module read through MODULES_BASE has its file's bytes (FNV-1a)",
               "differ: %s; guest said %s" % (wrong, got))


# ---------------------------------------------------------------- stage2's limits

def elf_blob(size):
    """size bytes that start with the ELF magic (all stage2 looks at)."""
    return (b"\x7fELF" + bytes(max(0, size - 4)))[:size]


def image_with(name, files, config=None, keep_bin=True):
    """A copy of the offset image whose /bin holds files ([(name, bytes)],
    in this order, after build/user's unless keep_bin is False) and whose
    /boot/pagelab.cfg is config (bytes; None: none)."""
    img = copy_good(name)
    work = os.path.join(OUT, name + ".files")
    os.makedirs(work, exist_ok=True)
    if not keep_bin:
        mtools("mdeltree", "-i", img + PART, "::" + BIN)
    for fname, data in files:
        host = os.path.join(work, fname)
        with open(host, "wb") as f:
            f.write(data)
        mtools("mcopy", "-o", "-i", img + PART, host, "::%s/%s" % (BIN, fname))
    if config is not None:
        host = os.path.join(work, "pagelab.cfg")
        with open(host, "wb") as f:
            f.write(config)
        mtools("mcopy", "-o", "-i", img + PART, host, "::" + CONFIG)
    return img


def fillers(count):
    """count real programs (copies of hello.elf) named m01, m02, ..."""
    hello = open(os.path.join(USER_DIR, "hello.elf"), "rb").read()
    return [("m%02d" % i, hello) for i in range(1, count + 1)]


NAME31 = "a-name-of-exactly-31-characters"
NAME30 = "a-name-of-exactly-30-character"
NAME32 = "a-name-of-exactly-32-characters!"
SCRIPT = b"#!/bin/sh\necho not a program\n"


def at_limits():
    """BOOT_INFO_MAX_MODULES modules in all, one with a 31-character and one with a 30-character
    name, files of exactly 1 MiB and 1 MiB - 1, a 4096-byte config."""
    own = [(NAME31, elf_blob(100)), (NAME30, elf_blob(101)), ("mib", elf_blob(MAX_SIZE)),
           ("mib-minus-1", elf_blob(MAX_SIZE - 1))]
    n = MAX_MODULES - len(user_elfs()) - len(own)
    return image_with("modules-at-limits", own + fillers(n),
                      config=b"# a comment line\n".ljust(CONFIG_MAX - 1, b"#") + b"\n")


def over_limits():
    """The refused files first (they take no slot), then 16 good ones, then
    a 17th; a 4097-byte config."""
    bad = [(NAME32, elf_blob(100)), ("mib-plus-1", elf_blob(MAX_SIZE + 1)),
           ("script", SCRIPT), ("empty", b""),
           ("three", b"\x7fEL")]
    n = MAX_MODULES - len(user_elfs())
    return image_with("modules-over-limits", bad + fillers(n) + [("extra", elf_blob(200))],
                      config=b"#".ljust(CONFIG_MAX + 1, b"#"))


RUN_MAX = constant("CONFIG_RUN_MAX")
BAD_CONFIG = (b"# pagelab.cfg with a bad line of each kind\n"        # 1
              b"run=hello\n"                                        # 2
              b"just words\n"                                       # 3
              b"\n"                                                 # 4
              b"colour = blue  # a comment\n"                       # 5
              b"run=nosuch\r\n"                                     # 6
              b"  run = spin  \n" +                                 # 7
              b"run=spin\n" * (RUN_MAX - 2) +                       # 8 .. RUN_MAX + 5
              b"run=hello")                                         # RUN_MAX + 6: one too many


def bad_config():
    return image_with("config-bad-lines", [], config=BAD_CONFIG)


def config_error(line, why, text):
    return "pagelab kernel: error: %s line %d: %s: \"%s\"" % (CONFIG, line, why, text)


def run_list(source, names):
    """The report's run list as the kernel prints it (2 columns in, wrapped
    before COLUMNS)."""
    out, line = ["run list (%s: %d of at most %d):%s" % (source, len(names), RUN_MAX,
                                                         "" if names else " none")], ""
    for n in names:
        if line and len(line) + 1 + len(n) > COLUMNS:
            out.append(line)
            line = ""
        line = line + " " + n if line else "  " + n
    return "\n".join(out + ([line] if line else [])) + "\n"


def no_bin():
    return image_with("modules-no-bin", [], keep_bin=False)


def bootinfo_v1():
    """stage2 writing version 1 into BootInfo: the one `movl $BOOT_INFO_VERSION`
    to boot_info.version (found by the symbol's address), made `movl $1`."""
    img = copy_good("bootinfo-v1")
    addr = robustness.stage2_symbol("boot_info") + 8
    old = b"\xc7\x05" + struct.pack("<II", addr, constant("BOOT_INFO_VERSION"))
    stage2 = open("build/stage2.bin", "rb").read()
    hits = [m.start() for m in re.finditer(re.escape(old), stage2)]
    if len(hits) != 1:
        raise OSError("stage2's BootInfo version store found %d times, want 1" % len(hits))
    robustness.patch(img, robustness.SECTOR + hits[0] + 6, struct.pack("<I", 1))
    return img


def skipped(path, size, why):
    return "pagelab stage2: error: %s (%d bytes) skipped: %s" % (path, size, why)


def lines_fit(record, name, out):
    wide = [l for l in out.splitlines() if len(l) > COLUMNS and "error:" not in l]
    record(not wide, name + ": every line but the errors fits %d columns" % COLUMNS,
           "; ".join(wide[:3]))


def listed_modules(count, names=()):
    def check(record, name, out):
        listed = [m.group(1) for m in REPORT_LINE.finditer(out)]
        record(len(listed) == count and all(n in listed for n in names),
               name + ": the report lists %d modules%s" % (
                   count, ", " + ", ".join(names) if names else ""), ", ".join(listed))
        lines_fit(record, name, out)
    return check


def config_lines(record, name, out):
    """Exactly the four refused lines; every other line fits the screen."""
    errors = [l for l in out.splitlines() if "error: " + CONFIG in l]
    record(len(errors) == 4, name + ": four lines refused, no other", "; ".join(errors))
    lines_fit(record, name, out)


def cases():
    user = len(user_elfs())
    return [
        Case("modules-at-limits", at_limits,
             ["pagelab stage2: %d boot modules from %s (" % (MAX_MODULES, BIN),
              "; config: %s" % CONFIG, "  config %s: " % CONFIG,
              ", %d bytes\n" % CONFIG_MAX, KERNEL_HALT],
             checks=listed_modules(MAX_MODULES, (NAME31, NAME30, "mib", "mib-minus-1"))),
        Case("modules-over-limits", over_limits,
             [skipped(BIN + "/" + NAME32, 100, "name longer than BOOT_MODULE_NAME_MAX - 1 "
                      "characters (%d)" % (NAME_MAX - 1)),
              skipped(BIN + "/mib-plus-1", MAX_SIZE + 1, "larger than BOOT_MODULE_MAX_SIZE "
                      "(%d)" % MAX_SIZE),
              skipped(BIN + "/script", len(SCRIPT), "not an ELF file (no 0x7F 'ELF' magic)"),
              skipped(BIN + "/empty", 0, "not an ELF file"),
              skipped(BIN + "/three", 3, "not an ELF file"),
              skipped(BIN + "/extra", 200, "more than BOOT_INFO_MAX_MODULES modules (%d)" %
                      MAX_MODULES),
              skipped(CONFIG, CONFIG_MAX + 1, "larger than BOOT_CONFIG_MAX_SIZE (%d)" %
                      CONFIG_MAX),
              "pagelab stage2: %d boot modules from %s (" % (MAX_MODULES, BIN),
              "  config: none", KERNEL_HALT],
             checks=listed_modules(MAX_MODULES, ("m%02d" % (MAX_MODULES - user),))),
        Case("modules-no-bin", no_bin,
             ["pagelab stage2: 0 boot modules from %s (0 KiB); config: none" % BIN,
              "boot modules (read-only)", KERNEL_HALT], checks=listed_modules(0)),
        Case("config-bad-lines", bad_config,
             [config_error(3, "no '='", "just words"),
              config_error(5, "unknown key", "colour = blue"),
              config_error(6, "no such module", "run=nosuch"),
              config_error(RUN_MAX + 6, "too many run= lines", "run=hello"),
              run_list(CONFIG, ["hello"] + ["spin"] * (RUN_MAX - 1)), KERNEL_HALT],
             checks=config_lines),
        Case("config-none-default-set", "build/offset/disk.img",
             [run_list("default, no run= line", ["hello", "spin", "spin", "cowshare"]), KERNEL_HALT]),
        Case("bootinfo-v1", bootinfo_v1,
             ["pagelab kernel: error: BootInfo version 1: the loader predates boot modules",
              KERNEL_HALT]),
    ]


def run(record, only=None):
    check_user_elfs(record)
    all_cases = cases()
    names = {c.name for c in all_cases}
    for c in all_cases:
        if robustness.selected(c.name, only, names):
            robustness.run_case(record, c)


def main():
    qemu.run_alone(run, sys.argv[1:] or None)


if __name__ == "__main__":
    main()
