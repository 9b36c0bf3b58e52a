#!/usr/bin/env python3
"""robustness.py - bad disks, odd machines: a named error, never a reset.

Part of `make test`: tests/run_tests.py calls run(record), so every check
here counts in the same "N passed, N failed" line (run alone:
`python3 tests/robustness.py` after `make images test-images`).

Each bad-media case makes a damaged copy of a good image in build/test/robust/
(build/<strategy>/disk.img is never touched): the kernel file missing or not
a usable ELF, a damaged FAT, a wrong stage2 signature, a truncated disk. Each
odd-machine case boots a good image on an unusual QEMU machine: no long mode,
no NX, with and without 1 GiB pages, RAM from 32 MiB to 33 TiB, q35. Every
boot runs under QEMU/TCG with -no-reboot (qemu.py adds -no-shutdown, so a
triple fault leaves QEMU stopped in "shutdown" state instead of exiting),
and the case passes only if:
  - its own message appears on serial within TIMEOUT seconds;
  - QEMU still runs the guest afterwards and the CPU is halted (HLT=1):
    no triple fault, no reboot, no hang without a message;
  - for the cases marked vga, the message is on the VGA text screen too, and
    for those marked vga_wrap (a line wider than the screen) it wraps at a
    word boundary.
Cases that must boot also have their page tables walked through the monitor
(pmemsave of every table from CR3 down, permissions combined over the
levels as the CPU does): no page is writable and executable, and on a CPU
without NX no present entry has bit 63 set.
"""
import functools
import os
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import qemu  # noqa: E402
import layout  # noqa: E402

OUT = "build/test/robust"
GOOD = "build/offset/disk.img"
TEST_IMG = "build/%s/test.img"
STRATEGIES = ["identity", "table-offset", "offset", "temporary", "recursive"]
KERNEL_PATH = "::/boot/kernel.elf"
PART_OFFSET = 1024 * 1024          # the FAT partition starts at LBA 2048 (disk/mkimage.py)
SECTOR = 512
TIMEOUT = 30
STAGE2_STOP = "pagelab stage2: boot stopped"
KERNEL_HALT = qemu.HALTED
EM_AARCH64 = 183
PT_LOAD, PT_NOTE, PT_NULL = 1, 4, 0
PF_X = 1

constant = layout.constant      # tools/layout.py: the headers' one parser
PTE_P, PTE_W, PTE_U, PTE_PS, PTE_NX, PTE_ADDR = (
    constant(n) for n in ("PTE_P", "PTE_W", "PTE_U", "PTE_PS", "PTE_NX", "PTE_ADDR_MASK"))
VGA_TEXT, VGA_COLS, VGA_ROWS = (constant(n) for n in ("VGA_TEXT_ADDR", "VGA_COLS", "VGA_ROWS"))


def pmm_meta_bytes(frames):
    """include/pmm_meta.h's pmm_meta_bytes: the loader's bitmap size."""
    words = sum(-(-frames // (1 << (6 * (l + 1)))) for l in range(constant("PMM_LEVELS")))
    return (words * 8 + 0xFFF) & ~0xFFF


# ---------------------------------------------------------------- images

def mtools(*args):
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    subprocess.run(args, check=True, capture_output=True, env=env)


def copy_good(name, src=GOOD):
    os.makedirs(OUT, exist_ok=True)
    dst = os.path.join(OUT, name + ".img")
    shutil.copyfile(src, dst)
    return dst


def patch(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def read_at(path, offset, n):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(n)


def replace_kernel(name, kernel_bytes):
    img = copy_good(name)
    k = os.path.join(OUT, name + ".kernel")
    with open(k, "wb") as f:
        f.write(kernel_bytes)
    mtools("mcopy", "-o", "-i", img + "@@1M", k, KERNEL_PATH)
    return img


def good_kernel(strategy="offset"):
    with open("build/%s/kernel.elf" % strategy, "rb") as f:
        return bytearray(f.read())


def phdrs(elf):
    """[(file offset of the header, p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz)]"""
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, p_flags, p_off, p_vaddr, p_paddr, p_filesz = struct.unpack_from("<IIQQQQ", elf, at)
        out.append((at, p_type, p_flags, p_off, p_vaddr, p_paddr, p_filesz))
    return out


def kernel_missing():
    img = copy_good("kernel-missing")
    mtools("mdel", "-i", img + "@@1M", KERNEL_PATH)
    return img


def kernel_not_elf():
    return replace_kernel("kernel-not-elf", b"#!/bin/sh\necho this is a shell script\n" * 8)


def kernel_elf32():
    """A real 32-bit ELF, built here by the host toolchain."""
    os.makedirs(OUT, exist_ok=True)
    src, out = os.path.join(OUT, "k32.c"), os.path.join(OUT, "k32.elf")
    with open(src, "w") as f:
        f.write("void _start(void) { for (;;) __asm__ volatile(\"hlt\"); }\n")
    subprocess.run(["gcc", "-m32", "-ffreestanding", "-fno-pie", "-no-pie", "-nostdlib",
                    "-static", "-Wl,-e,_start", "-o", out, src], check=True, capture_output=True)
    return replace_kernel("kernel-elf32", open(out, "rb").read())


def kernel_aarch64():
    elf = good_kernel()
    struct.pack_into("<H", elf, 18, EM_AARCH64)          # e_machine
    return replace_kernel("kernel-aarch64", bytes(elf))


def kernel_truncated():
    """Cut inside the last PT_LOAD's file bytes: a segment runs past the end."""
    elf = good_kernel()
    end = max(off + fsz for _, t, _, off, _, _, fsz in phdrs(elf) if t == PT_LOAD and fsz)
    return replace_kernel("kernel-truncated", bytes(elf[:end - 16]))


def kernel_segment_moved(name, paddr):
    """The first PT_LOAD's physical address changed (vaddr stays congruent)."""
    elf = good_kernel()
    at = next(h[0] for h in phdrs(elf) if h[1] == PT_LOAD)
    struct.pack_into("<Q", elf, at + 24, paddr)          # p_paddr
    return replace_kernel(name, bytes(elf))


def kernel_loaded_at(name, paddr):
    """Every PT_LOAD moved in physical memory by the same amount, so that
    the kernel starts at paddr (virtual addresses unchanged)."""
    elf = good_kernel()
    loads = [h for h in phdrs(elf) if h[1] == PT_LOAD]
    delta = paddr - min(h[5] for h in loads)
    for h in loads:
        struct.pack_into("<Q", elf, h[0] + 24, h[5] + delta)
    return replace_kernel(name, bytes(elf))


def kernel_flags(name, flags):
    """The first (text) PT_LOAD's p_flags replaced."""
    elf = good_kernel()
    at = next(h[0] for h in phdrs(elf) if h[1] == PT_LOAD)
    struct.pack_into("<I", elf, at + 4, flags)
    return replace_kernel(name, bytes(elf))


def page_span(addr, size):
    return ((addr + size + 0xFFF) & ~0xFFF) - (addr & ~0xFFF)


def kernel_spans():
    """(bytes of pages of the good kernel's first PT_LOAD, of all of them
    from the lowest page to the end of the highest): what the messages
    about a moved kernel print."""
    elf = good_kernel()
    loads = [(h[5], struct.unpack_from("<Q", elf, h[0] + 40)[0])
             for h in phdrs(elf) if h[1] == PT_LOAD]
    end = max((a + m + 0xFFF) & ~0xFFF for a, m in loads)
    return page_span(*loads[0]), end - (min(a for a, _ in loads) & ~0xFFF)


def kernel_total_size(name, total):
    """The last PT_LOAD's bss grown so that all segments together take
    `total` bytes of pages; no single segment reaches KERNEL_MAX_SIZE."""
    elf = good_kernel()
    loads = [h for h in phdrs(elf) if h[1] == PT_LOAD]
    last = max(loads, key=lambda h: h[5])
    others = sum(page_span(h[5], struct.unpack_from("<Q", elf, h[0] + 40)[0])
                 for h in loads if h is not last)
    memsz = total - others - (last[5] & 0xFFF)
    assert page_span(last[5], memsz) == total - others < constant("KERNEL_MAX_SIZE")
    struct.pack_into("<Q", elf, last[0] + 40, memsz)     # p_memsz
    return replace_kernel(name, bytes(elf))


# A C kernel built as README.md's "Replace the kernel" says: gcc -O2 (SSE
# allowed), identity-linked at 2 MiB, a write to .bss, a write to COM1, and
# README's line that adds the pagelab note (include/kernel_note.h).
SAMPLE_KERNEL_NOTE = "PAGELAB_KERNEL_NOTE(STRATEGY_OFFSET);"
SAMPLE_KERNEL_C = r"""
#include "kernel_note.h"
""" + SAMPLE_KERNEL_NOTE + r"""
static volatile int counter;                      /* .bss: must be writable */
static void out(unsigned short port, unsigned char v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static unsigned char in(unsigned short port)
{
    unsigned char v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static void puts_com1(const char *s)
{
    for (; *s; s++) {
        while (!(in(0x3FD) & 0x20))                  /* LSR: transmitter empty */
            ;
        out(0x3F8, *s);
    }
}
__attribute__((force_align_arg_pointer, noreturn)) void kmain(void *boot_info)
{
    volatile double half = 0.5;                   /* SSE: mulsd, cvttsd2si */
    int tenths = (int)(half * 9.0 * 10.0);
    char msg[] = "my kernel: 9 * 0.5 = 4.X, counter X, boot_info set\n";
    counter++;
    msg[23] = (char)('0' + tenths % 10);
    msg[34] = (char)('0' + counter);
    if (!boot_info)
        msg[36] = '?';
    puts_com1(msg);
    for (;;)
        __asm__ volatile("cli; hlt");
}
"""
SAMPLE_KERNEL_SAYS = "my kernel: 9 * 0.5 = 4.5, counter 1, boot_info set"
# README.md's line, verbatim (sample_kernel checks the README still has it).
SAMPLE_KERNEL_CC = ("gcc -O2 -ffreestanding -fno-pie -mno-red-zone -nostdlib -static -no-pie "
                    "-Ipagelab/include -Wl,-Ttext-segment=0x200000 -Wl,-z,separate-code -Wl,-z,max-page-size=0x1000 "
                    "-Wl,-e,kmain -o my-kernel.elf my-kernel.c")


def sample_kernel(name, extra=()):
    """README.md's sample command line, run on SAMPLE_KERNEL_C in OUT, with
    pagelab/ there a link to this repository (README says so)."""
    with open("README.md") as f:
        readme = f.read()
    for line in (SAMPLE_KERNEL_CC, SAMPLE_KERNEL_NOTE):
        if line not in readme:
            raise OSError("README.md no longer has the sample line: " + line)
    work = os.path.join(OUT, name)
    os.makedirs(work, exist_ok=True)
    link = os.path.join(work, "pagelab")
    if not os.path.islink(link):
        os.symlink(os.getcwd(), link)
    with open(os.path.join(work, "my-kernel.c"), "w") as f:
        f.write(SAMPLE_KERNEL_C)
    subprocess.run(SAMPLE_KERNEL_CC.split() + list(extra), cwd=work, check=True,
                   capture_output=True)
    with open(os.path.join(work, "my-kernel.elf"), "rb") as f:
        return replace_kernel(name, f.read())


def kernel_relinked(name, new_base):
    """Every PT_LOAD and the entry moved in virtual memory so that the kernel
    starts at new_base (physical addresses unchanged)."""
    elf = good_kernel()
    loads = [h for h in phdrs(elf) if h[1] == PT_LOAD]
    delta = new_base - min(h[4] for h in loads)
    for h in loads:
        struct.pack_into("<Q", elf, h[0] + 16, (h[4] + delta) % (1 << 64))
    entry, = struct.unpack_from("<Q", elf, 24)
    struct.pack_into("<Q", elf, 24, (entry + delta) % (1 << 64))
    return replace_kernel(name, bytes(elf))


def kernel_entry_code(name, code):
    """The first bytes at the kernel's entry replaced by `code`."""
    elf = good_kernel()
    entry, = struct.unpack_from("<Q", elf, 24)
    text = next(h for h in phdrs(elf) if h[1] == PT_LOAD and h[4] <= entry < h[4] + h[6])
    at = text[3] + entry - text[4]
    elf[at:at + len(code)] = code
    return replace_kernel(name, bytes(elf))


def kernel_empty():
    return replace_kernel("kernel-empty", b"")


def kernel_entry_outside():
    elf = good_kernel()
    data = [h for h in phdrs(elf) if h[1] == PT_LOAD and not h[2] & PF_X][0]
    struct.pack_into("<Q", elf, 24, data[4])             # e_entry into a data segment
    return replace_kernel("kernel-entry-in-data", bytes(elf))


# ---- the kernel's pagelab note (include/kernel_note.h): namesz, descsz,
# type, "pagelab\0", then strategy and paging levels, in a PT_NOTE that
# kernel/kernel.ld puts at the start of the rodata segment
NOTE_DEFINES = layout.defines((os.path.join(layout.INCLUDE, "kernel_note.h"),))
NOTE_READ_MAX = int(NOTE_DEFINES["PAGELAB_NOTE_READ_MAX"])   # outside the PT_LOADs: from the file
NOTE_HEADER = 12


def note_phdr(elf):
    return next(h for h in phdrs(elf) if h[1] == PT_NOTE)


def kernel_note(name, strategy="offset", namesz=None, descsz=None, note_name=None,
                note_strategy=None, levels=None, note_filesz=None, no_note=False):
    """strategy's kernel with its note (or its PT_NOTE header) changed."""
    elf = good_kernel(strategy)
    h = note_phdr(elf)
    at = h[3]                                            # p_offset: the note itself
    if no_note:
        struct.pack_into("<I", elf, h[0], PT_NULL)       # p_type: no PT_NOTE left
    for off, fmt, value in ((0, "<I", namesz), (4, "<I", descsz), (12, "8s", note_name),
                            (20, "<I", note_strategy), (24, "<I", levels)):
        if value is not None:
            struct.pack_into(fmt, elf, at + off, value)
    if note_filesz is not None:
        struct.pack_into("<Q", elf, h[0] + 32, note_filesz)   # p_filesz
    return replace_kernel(name, bytes(elf))


def kernel_note_in_file(name, strategy, filesz, offset=None):
    """strategy's kernel whose PT_NOTE points to a copy of its note appended
    to the file, outside every PT_LOAD (zero-padded to filesz), or to
    `offset` if given: stage2 has to read it from the file."""
    elf = good_kernel(strategy)
    h = note_phdr(elf)
    note = bytes(elf[h[3]:h[3] + h[6]])
    end = len(elf)
    elf += note + bytes(filesz - len(note))
    struct.pack_into("<Q", elf, h[0] + 8, end if offset is None else offset)   # p_offset
    struct.pack_into("<Q", elf, h[0] + 32, filesz)       # p_filesz
    return replace_kernel(name, bytes(elf))


def bpb(img):
    bs = read_at(img, PART_OFFSET, SECTOR)
    reserved, = struct.unpack_from("<H", bs, 14)
    fats = bs[16]
    fat_size, = struct.unpack_from("<H", bs, 22)
    return reserved, fats, fat_size


def fat_damaged(name, offset, data):
    img = copy_good(name)
    patch(img, PART_OFFSET + offset, data)
    return img


def kernel_clusters(img):
    return kernel_clusters_of(img, KERNEL_PATH)


def kernel_clusters_of(img, path):
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    out = subprocess.run(["mshowfat", "-i", img + "@@1M", path], check=True,
                         capture_output=True, text=True, env=env).stdout
    chain = []
    for a, b in re.findall(r"<(\d+)(?:-(\d+))?>", out):
        chain += range(int(a), int(b or a) + 1)
    return chain


def fat16_set(img, cluster, value):
    """Writes one FAT16 entry in every copy of the FAT."""
    reserved, fats, fat_size = bpb(img)
    for i in range(fats):
        patch(img, PART_OFFSET + (reserved + i * fat_size) * SECTOR + 2 * cluster,
              struct.pack("<H", value))


def chain_loop():
    img = copy_good("fat-chain-loop")
    chain = kernel_clusters(img)
    fat16_set(img, chain[len(chain) // 2], chain[1])     # back to the second cluster
    return img


def chain_outside():
    img = copy_good("fat-chain-outside")
    chain = kernel_clusters(img)
    fat16_set(img, chain[2], 0xFFF0)                     # below EOC, past the last cluster
    return img


def boot_dir(img):
    """(offset in the image, bytes) of the /boot directory's first cluster."""
    reserved, fats, fat_size = bpb(img)
    bs = read_at(img, PART_OFFSET, SECTOR)
    spc, root_entries = bs[13], struct.unpack_from("<H", bs, 17)[0]
    data = reserved + fats * fat_size + root_entries * 32 // SECTOR
    first = kernel_clusters_of(img, "::/boot")[0]
    at = PART_OFFSET + (data + (first - 2) * spc) * SECTOR
    return first, at, read_at(img, at, spc * SECTOR)


def dir_loop():
    """/boot's cluster is full of deleted entries and links to itself: the
    search for the kernel has to follow the chain, and goes round."""
    img = copy_good("fat-dir-loop")
    first, at, d = boot_dir(img)
    patch(img, at + 64, (b"\xe5" + bytes(31)) * (len(d) // 32 - 2))   # keep "." and ".."
    fat16_set(img, first, first)
    return img


def size_lies():
    """The directory entry claims a file twice as big as its chain."""
    img = copy_good("fat-size-lies")
    _, at, d = boot_dir(img)
    i = next(i for i in range(0, len(d), 32) if d[i:i + 11] == b"KERNEL  ELF")
    size, = struct.unpack_from("<I", d, i + 28)
    patch(img, at + i + 28, struct.pack("<I", size * 2))
    return img


def no_fat_partition():
    img = copy_good("no-fat-partition")
    patch(img, 0x1BE + 4, b"\x83")                       # the entry says "Linux"
    return img


def partition_past_end():
    img = copy_good("partition-past-end")
    patch(img, 0x1BE + 8, struct.pack("<I", 0x7FFFFF00))    # the entry's first LBA
    return img


def no_locator():
    img = copy_good("no-locator")
    patch(img, 0x1B0, bytes(6))                          # MBR_LOCATOR_OFFSET: LBA, count
    return img


def stage2_signature():
    img = copy_good("stage2-signature")
    patch(img, SECTOR, b"XXXX")                          # stage2 starts at LBA 1
    return img


STAGE2_ELF = "build/stage2.elf"


@functools.lru_cache(maxsize=None)
def stage2_symbols():
    out = subprocess.run(["nm", STAGE2_ELF], check=True, capture_output=True, text=True).stdout
    return {p[2]: int(p[0], 16) for p in (line.split() for line in out.splitlines())
            if len(p) == 3}


def stage2_symbol(name):
    if name not in stage2_symbols():
        raise OSError("%s: no symbol %s" % (STAGE2_ELF, name))
    return stage2_symbols()[name]


def stage2_code(name, function, code):
    """stage2's `function` starting with `code`: a fault in stage2's own
    32-bit code, which only its protected-mode IDT can report."""
    img = copy_good(name)
    patch(img, SECTOR + stage2_symbol(function) - constant("STAGE2_ADDR"), code)
    return img


def truncated(name, sectors):
    img = copy_good(name)
    with open(img, "r+b") as f:
        f.truncate(sectors * SECTOR)
    return img


# ---------------------------------------------------------------- one boot

def guest_halted(b):
    """(ok, why): QEMU still runs the guest and the CPU sits in HLT."""
    status = b.hmp("info status")
    if "running" not in status:
        return False, "QEMU says '%s' (a triple fault or reset)" % status
    regs = b.hmp("info registers")
    if "HLT=1" not in regs:
        time.sleep(0.5)                                   # between two hlt of the loop
        regs = b.hmp("info registers")
    return "HLT=1" in regs, "CPU not halted: " + " ".join(
        l.strip() for l in regs.splitlines() if "RIP" in l or "EIP" in l)


def vga_text(b):
    path = b.dir.file("vga.bin")
    b.hmp("pmemsave 0x%x %d \"%s\"" % (VGA_TEXT, VGA_COLS * VGA_ROWS * 2, path))
    with open(path, "rb") as f:
        cells = f.read()
    return "".join(chr(c) if 32 <= c < 127 else " " for c in cells[::2])


def on_screen(screen, text):
    squeeze = lambda s: re.sub(r"\s+", "", s)          # lines wrap at 80 columns
    return squeeze(text) in squeeze(screen)


def wrapped_at_words(screen, line):
    """(ok, why): the serial line `line`, wider than the screen, is on it as
    consecutive rows that break only where the line has a space: the first
    row starts with the line, each later row is indented and goes on with
    the next word (common/vga.c)."""
    rows = [screen[i:i + VGA_COLS].rstrip() for i in range(0, len(screen), VGA_COLS)]
    starts = [r for r, text in enumerate(rows) if text and line.startswith(text)]
    if not starts:
        return False, "no row starts the line"
    r, pos = starts[-1], len(rows[starts[-1]])
    while pos < len(line):
        if line[pos] != " ":
            return False, "row %d breaks inside a word: '%s|%s'" % (r, line[:pos][-20:],
                                                                    line[pos:][:20])
        pos += len(line[pos:]) - len(line[pos:].lstrip(" "))
        r += 1
        text = rows[r].lstrip(" ") if r < len(rows) else ""
        if not (r < len(rows) and rows[r].startswith(" ") and text
                and line.startswith(text, pos)):
            return False, "row %d does not continue the line: '%s'" % (
                r, rows[r] if r < len(rows) else "")
        pos += len(text)
    return True, ""


class Case:
    def __init__(self, name, image, expect, cpu="max", mem="512M", extra=(), vga=False,
                 vga_wrap=False, walk=None, checks=None, timeout=TIMEOUT):
        self.name, self.image, self.expect = name, image, expect
        self.cpu, self.mem, self.extra, self.vga = cpu, mem, list(extra), vga or vga_wrap
        self.vga_wrap = vga_wrap    # the message's line is wider than the screen
        self.walk, self.checks, self.timeout = walk, checks, timeout


def run_case(record, c):
    name = "robust/" + c.name
    try:
        image = c.image() if callable(c.image) else c.image
    except (subprocess.CalledProcessError, OSError) as e:
        record(False, name + ": image built", str(e))
        return
    if not os.path.exists(image):
        record(False, name + ": image exists", image + " is missing (make test-images)")
        return
    b = qemu.Boot(image, mem=c.mem, cpu=c.cpu, extra=c.extra, timeout=c.timeout)
    try:
        check_boot(record, name, c, b)
    except (OSError, AttributeError, ValueError) as e:   # QEMU gone: no monitor
        record(False, name + ": QEMU answers its monitor", repr(e))
    finally:
        b.close()


def check_boot(record, name, c, b):
    seen = b.wait_for(c.expect[-1])
    out = b.serial()
    tail = out[-500:].replace("\n", " | ")
    missing = [t for t in c.expect if t not in out]
    record(seen and not missing, name + ": says '%s'" % c.expect[0],
           "missing %s; serial ends with: %s" % (missing, tail))
    ok, why = guest_halted(b)
    record(ok, name + ": then halts, no reset", why)
    if c.vga:
        screen = vga_text(b)
        record(on_screen(screen, c.expect[0]), name + ": the message is on VGA too",
               "screen: " + screen.strip()[-300:])
    if c.vga_wrap:
        line = next((l for l in out.splitlines() if c.expect[0] in l), "")
        ok, why = wrapped_at_words(screen, line)
        record(len(line) > VGA_COLS and ok, name + ": its %d-column line wraps on VGA at "
               "word boundaries" % len(line), why or "the line fits one row")
    if c.walk and seen:
        c.walk(record, name, b)
    if c.checks and seen:
        c.checks(record, name, out)
    if seen and (c.walk or c.checks) and c.expect[-1] == KERNEL_HALT:
        control_registers(record, name, b, c.cpu, out)


CR0_WP, CR4_SMEP, CR4_SMAP, EFER_NXE, CR4_OSFXSR, MXCSR_DEFAULT = (
    constant(n) for n in ("CR0_WP", "CR4_SMEP", "CR4_SMAP", "EFER_NXE", "CR4_OSFXSR",
                          "MXCSR_DEFAULT"))


def control_registers(record, name, b, cpu, out):
    """What the kernel turned on, seen in QEMU's registers and in its own
    'protections:' line: WP always, NXE with NX, SMEP and SMAP on -cpu max
    (QEMU's TCG has both) and absent on qemu64."""
    regs = b.hmp("info registers")
    val = lambda reg: int(re.search(reg + r"=([0-9a-fA-F]+)", regs).group(1), 16)
    cr0, cr4, efer = val("CR0"), val("CR4"), val("EFER")
    nx, smx = "-nx" not in cpu, cpu.split(",")[0] == "max"
    want = {"CR0.WP": (cr0 & CR0_WP, True), "EFER.NXE": (efer & EFER_NXE, nx),
            "CR4.SMEP": (cr4 & CR4_SMEP, smx), "CR4.SMAP": (cr4 & CR4_SMAP, smx)}
    wrong = ["%s %s" % (k, "on" if v else "off") for k, (v, w) in want.items() if bool(v) != w]
    record(not wrong, name + ": QEMU sees CR0.WP on, EFER.NXE %s, SMEP/SMAP %s" %
           ("on" if nx else "off", "on" if smx else "off"), ", ".join(wrong))
    # SSE as the kernel got it (README, "Kernel entry state"): OSFXSR on and
    # MXCSR at its reset value, which stage2 leaves (pagelab's kernel uses
    # no SSE, so the halt shows what the entry had)
    record(cr4 & CR4_OSFXSR and val("MXCSR") == MXCSR_DEFAULT,
           name + ": CR4.OSFXSR on, MXCSR 0x%x" % MXCSR_DEFAULT,
           "CR4 0x%x, MXCSR 0x%x" % (cr4, val("MXCSR")))
    line = "protections: CR0.WP on, EFER.NXE %s, SMEP %s, SMAP %s; page 0 unmapped" % (
        "on" if nx else "absent", "on" if smx else "absent", "on" if smx else "absent")
    record(line in out, name + ": the kernel reports '%s'" % line, "not on serial")


# ---------------------------------------------------------------- page walk

class Tables:
    """Page-table frames read through the monitor, cached per frame."""

    def __init__(self, b):
        self.b, self.cache = b, {}
        regs = b.hmp("info registers")
        self.cr3 = int(re.search(r"CR3=([0-9a-fA-F]+)", regs).group(1), 16) & PTE_ADDR

    def table(self, pa):
        if pa not in self.cache:
            path = self.b.dir.file("table.bin")
            self.b.hmp("pmemsave 0x%x 4096 \"%s\"" % (pa, path))
            with open(path, "rb") as f:
                self.cache[pa] = struct.unpack("<512Q", f.read())
        return self.cache[pa]

    def leaves(self):
        """Yield (va, size, writable, executable, nx_bits_on_path) for every
        present leaf; permissions combined over the levels (SDM 4.6)."""
        todo = [(4, self.cr3, 0, True, True, 0)]
        while todo:
            level, pa, base, w, x, nx = todo.pop()
            for i, e in enumerate(self.table(pa)):
                if not e & PTE_P:
                    continue
                va = base | (i << (12 + 9 * (level - 1)))
                if va & (1 << 47):
                    va |= 0xFFFF000000000000
                ew, ex = w and bool(e & PTE_W), x and not e & PTE_NX
                enx = nx + bool(e & PTE_NX)
                if level == 1 or (level in (2, 3) and e & PTE_PS):
                    yield va, 1 << (12 + 9 * (level - 1)), ew, ex, enx
                elif level > 1:
                    todo.append((level - 1, e & PTE_ADDR, va, ew, ex, enx))


def walk_wx(record, name, b, nx=True):
    t = Tables(b)
    leaves = list(t.leaves())
    wx = [l for l in leaves if l[2] and l[3]]
    if nx:
        record(leaves and not wx, name + ": QEMU's view: no page writable and executable "
               "(%d leaves)" % len(leaves),
               "; ".join("0x%x (%#x)" % (l[0], l[1]) for l in wx[:5]))
    else:
        with_nx = [l for l in leaves if l[4]]
        record(leaves and not with_nx, name + ": QEMU's view: no NX bit in any entry "
               "(%d leaves)" % len(leaves),
               "; ".join("0x%x" % l[0] for l in with_nx[:5]))
    return leaves


def walk_no_nx(record, name, b):
    walk_wx(record, name, b, nx=False)


def window_leaf_size(size):
    def walk(record, name, b):
        leaves = walk_wx(record, name, b)
        base = constant("PHYS_WINDOW_BASE")
        end = base + constant("PHYS_WINDOW_PML4_SLOTS") * (1 << 39)   # 512 GiB a PML4 slot
        window = {l[1] for l in leaves if base <= l[0] < end}
        record(window == {size}, name + ": the window is made of %s pages" %
               ("1 GiB" if size == 1 << 30 else "2 MiB"), "sizes %s" % sorted(window))
    return walk


# ---------------------------------------------------------------- boot checks

def booted_well(record, name, out):
    bad = [w for w in ["PANIC", "exception", "error:", "FAIL: "] if w in out]
    record(not bad, name + ": no error, panic, exception or failed in-guest test", ", ".join(bad))
    wx = re.findall(r"^W\^X: (\d+) leaves checked, (\d+) writable\+executable", out, re.M)
    record(wx and int(wx[-1][0]) > 0 and int(wx[-1][1]) == 0,   # the last: at the end of boot
           name + ": the kernel's own walk finds no W+X page", wx and str(wx[-1]))


def covers_ram(record, name, out):
    booted_well(record, name, out)
    ends = [int(e, 16) for e, kind in
            re.findall(r"^  0x[0-9a-f]{16} 0x([0-9a-f]{16}) +\d+  (\w+)", out, re.M)
            if kind == "usable"]
    m = re.search(r"window (\d+) GiB", out)
    record(ends and m and int(m.group(1)) << 30 >= max(ends),
           name + ": the window covers all RAM", "window %s, RAM ends 0x%x" %
           (m and m.group(1), max(ends or [0])))
    record("selftest: done" in out and "PASS: guest/offset: pmm:" in out,
           name + ": the in-guest suite ran, the allocator hands out only usable frames",
           "suite incomplete")


def usable_ends(out):
    """(start, end) of every usable region in the kernel's map report."""
    return [(int(a, 16), int(e, 16)) for a, e, kind in
            re.findall(r"^  0x([0-9a-f]{16}) 0x([0-9a-f]{16}) +\d+  (\w+)", out, re.M)
            if kind == "usable"]


def ram_limited(ram_end):
    """RAM pagelab uses stops at PMM_MAX_PHYS: the machine's RAM ends at
    ram_end (checked: the case is the one meant), stage2 names what it
    ignores (nothing at or below the limit), the window covers RAM up to the
    limit, the bitmap is sized to it, and the in-guest suite passes."""
    def check(record, name, out):
        limit = constant("PMM_MAX_PHYS")
        regions = usable_ends(out)
        end = max(e for _, e in regions) if regions else 0
        record(end == ram_end, name + ": the machine's RAM ends at 0x%x" % ram_end,
               "it ends at 0x%x" % end)
        ignored = sum(e - max(a, limit) for a, e in regions if e > limit)
        line = "pagelab stage2: RAM above %d TiB ignored: %d MiB" % (limit >> 40, ignored >> 20)
        said = re.findall(r"^pagelab stage2: RAM above .*$", out, re.M)
        record(said == ([line + " (PMM_MAX_FRAMES)"] if ignored else []),
               name + ": stage2 says " + ("'%s'" % line if ignored else "nothing is ignored"),
               "it says %s" % said)
        m = re.search(r"window (\d+) GiB", out)
        want = max(min(end, limit), constant("PHYS_WINDOW_MIN_SIZE"))
        want = (want + (1 << 30) - 1) >> 30
        record(m and int(m.group(1)) == want, name + ": the window covers %d GiB" % want,
               "window %s GiB" % (m and m.group(1)))
        bitmap = re.search(r"frame bitmap (\d+) KiB", out)
        kib = pmm_meta_bytes(min(end, limit) >> 12) >> 10
        record(bitmap and int(bitmap.group(1)) == kib,
               name + ": the frame bitmap is sized to %d KiB" % kib,
               "bitmap %s KiB" % (bitmap and bitmap.group(1)))
        booted_well(record, name, out)
        if "selftest: done" in out or "PASS: guest" in out:
            record("selftest: done" in out and "PASS: guest/offset: pmm:" in out,
                   name + ": the in-guest suite ran, the allocator hands out only usable "
                   "frames", "suite incomplete")
    return check


HIGH_RAM_END = 0x7FFE0000   # QEMU -m 2G: the end of its usable RAM (E820)


def loaded_below(paddr):
    """A boot whose loader allocations (the PML4 first) lie below paddr."""
    def check(record, name, out):
        booted_well(record, name, out)
        m = re.search(r"paging: PML4 (0x[0-9a-f]+)", out)
        record(m and int(m.group(1), 16) < paddr,
               name + ": the loader allocates below the kernel at 0x%x" % paddr,
               "PML4 at %s" % (m and m.group(1)))
    return check


def no_nx_boot(record, name, out):
    booted_well_nx = [w for w in ["PANIC", "exception", "error:", "FAIL: "] if w in out]
    record(not booted_well_nx, name + ": no error, panic or exception",
           ", ".join(booted_well_nx))
    record(re.search(r"W\^X: \d+ leaves checked, .*no NX.*; 0 present entries with bit 63 "
                     r"set", out) is not None,
           name + ": the kernel says W^X cannot be enforced and finds no NX bit", "no W^X line")


def guard_page_hit(record, name, out):
    guard = re.search(r"runs into its guard page (0x[0-9a-f]+)", out)
    cr2 = re.search(r"CR2 (0x[0-9a-f]+)", out)
    record(guard and cr2 and int(cr2.group(1), 16) >> 12 == int(guard.group(1), 16) >> 12,
           name + ": the faulting address (CR2) is in the stack's guard page",
           "guard %s, CR2 %s" % (guard and guard.group(1), cr2 and cr2.group(1)))


NO_NOTE = "pagelab stage2: no pagelab note in the kernel: strategy offset (the default)"
OTHER_STRATEGY = ("pagelab kernel: error: the loader built page tables for another strategy "
                  "than this kernel's: its pagelab note is missing or names another")


def kernel_line(strategy):
    """stage2's kernel line for strategy's kernel, with the strategy its
    note named: segments, physical pages from the lowest to the end of the
    highest."""
    elf = good_kernel(strategy)
    loads = [(h[5], struct.unpack_from("<Q", elf, h[0] + 40)[0])
             for h in phdrs(elf) if h[1] == PT_LOAD]
    return "pagelab stage2: kernel: %d segments at physical 0x%x-0x%x (%s)" % (
        len(loads), min(a for a, _ in loads) & ~0xFFF,
        max((a + m + 0xFFF) & ~0xFFF for a, m in loads), strategy)


def said(pattern):
    """A check: a serial line matches pattern (a regex)."""
    def check(record, name, out):
        record(re.search(pattern, out, re.M) is not None, name + ": says /%s/" % pattern,
               "no such line")
    return check


def note_offset(strategy="offset"):
    return note_phdr(good_kernel(strategy))[3]


def stage2_error(msg):
    return ["pagelab stage2: error: " + msg, STAGE2_STOP]


def huge_ram(mib):
    """-m and a RAM backend of `mib` MiB that takes host memory only where
    the guest writes (MAP_NORESERVE: no sparse file, which ext4 caps at
    16 TiB), and a CPU with 46 physical address bits (TCG's default 40
    cannot address more than 1 TiB); SMBIOS 3.0's 64-bit entry point, since
    the 2.1 table outgrows its 64 KiB past about 30 TiB."""
    return dict(mem="%dM" % mib, cpu="max,phys-bits=46", timeout=120, extra=[
        "-object", "memory-backend-ram,id=ram,size=%dM,reserve=off" % mib,
        "-machine", "memory-backend=ram,smbios-entry-point-type=64"])


# QEMU (pc, AMD vendor as -cpu max is under TCG) puts 3 GiB below 4 GiB and,
# past 1 TiB of RAM, the rest from 1 TiB up (above its HyperTransport hole):
# RAM ends at 1 TiB + size - 3 GiB. ram_limited checks the end on serial.
def ram_ending_at(end):
    return (end - (1 << 40) + (3 << 30)) >> 20


def cases(sparse, strategies):
    big = ["-object", "memory-backend-file,id=ram512,size=512G,mem-path=%s,share=on,"
           "prealloc=off" % sparse, "-machine", "memory-backend=ram512"]
    limit, mib = constant("PMM_MAX_PHYS"), 1 << 20
    reach, page = constant("STAGE2_REACH"), constant("PAGE_SIZE")
    max_size = constant("KERNEL_MAX_SIZE")
    text, image = kernel_spans()
    high_base = (HIGH_RAM_END - image) & ~0xFFFF
    kva = constant("KERNEL_VIRT_OFFSET") + constant("KERNEL_PHYS_BASE")
    s2, s2_end = constant("STAGE2_ADDR"), constant("BOUNCE_ADDR") + constant("BOUNCE_SIZE")
    low_end = constant("LOW_MEMORY_END")
    return [
        # ---- bad media: the kernel file
        Case("kernel-missing", kernel_missing,
             stage2_error("kernel file /boot/kernel.elf: file not found"), vga=True),
        Case("kernel-not-elf", kernel_not_elf,
             stage2_error("/boot/kernel.elf: kernel is not an ELF file (bad magic)")),
        Case("kernel-elf32", kernel_elf32,
             stage2_error("/boot/kernel.elf: kernel is a 32-bit ELF, need ELF64")),
        Case("kernel-aarch64", kernel_aarch64,
             stage2_error("/boot/kernel.elf: kernel ELF is for another machine, need x86-64")),
        Case("kernel-segment-past-eof", kernel_truncated,
             stage2_error("/boot/kernel.elf: kernel segment's file bytes lie beyond the end "
                          "of the file")),
        Case("kernel-overlaps-loader", lambda: kernel_segment_moved("kernel-on-stage2", s2),
             ["pagelab stage2: error: kernel segment at physical 0x%x-0x%x overlaps "
              "0x%x-0x%x (stage2's image, stack and disk buffer): load it at or above "
              "1 MiB" % (s2, s2 + text, s2, s2_end), STAGE2_STOP], vga=True),
        Case("kernel-overlaps-bios-area", lambda: kernel_segment_moved("kernel-on-bda", page),
             stage2_error("kernel segment at physical 0x%x-0x%x overlaps 0x0-0x%x (the "
                          "IVT, the BIOS data area and stage1): load it at or above 1 MiB" %
                          (page, page + text, s2))),
        # LOW_MEMORY_END: a page below it is refused, at it the kernel boots
        Case("kernel-phys-below-1M", lambda: kernel_segment_moved(
                 "kernel-phys-below-1M", low_end - page),
             stage2_error("kernel segment at physical 0x%x-0x%x overlaps 0x%x-0x%x (the EBDA, "
                          "VGA memory and the BIOS ROMs): load it at or above 1 MiB" %
                          (low_end - page, low_end - page + text, s2_end, low_end))),
        Case("kernel-phys-at-1M", lambda: kernel_segment_moved("kernel-phys-at-1M", low_end),
             ["pagelab stage2: kernel: 3 segments at physical 0x%x-" % low_end, KERNEL_HALT],
             checks=booted_well),
        Case("kernel-not-in-ram", lambda: kernel_segment_moved("kernel-in-pci-hole", 0xE0000000),
             stage2_error("kernel segment at physical 0xe0000000-0x%x is not in usable "
                          "RAM" % (0xe0000000 + text))),
        # STAGE2_REACH (4 GiB): a segment across it, at it, above it, all in
        # usable RAM on 6 GiB: refused by name before stage2 writes a byte
        Case("kernel-phys-across-4G", lambda: kernel_segment_moved(
                 "kernel-phys-across-4G", reach - page),
             stage2_error("kernel segment at physical 0x%x-0x%x ends above 4 GiB, where "
                          "stage2 cannot write (32-bit pointers, paging off): load it below "
                          "4 GiB" % (reach - page, reach - page + text)), mem="6G", vga=True),
        Case("kernel-phys-at-4G", lambda: kernel_segment_moved("kernel-phys-at-4G", reach),
             stage2_error("kernel segment at physical 0x%x-0x%x ends above 4 GiB" %
                          (reach, reach + text)), mem="6G"),
        Case("kernel-phys-above-4G", lambda: kernel_segment_moved(
                 "kernel-phys-above-4G", reach + 0x8000),
             stage2_error("kernel segment at physical 0x%x-0x%x ends above 4 GiB" %
                          (reach + 0x8000, reach + 0x8000 + text)), mem="6G"),
        # the whole kernel at the top of a 2 GiB machine (QEMU's -m 2G has
        # usable RAM up to HIGH_RAM_END; its E820 reserves the 128 KiB above
        # for the BIOS's tables), on a 64 KiB boundary: the loader's
        # allocations go below it
        Case("kernel-in-high-ram", lambda: kernel_loaded_at("kernel-in-high-ram", high_base),
             ["pagelab stage2: kernel: 3 segments at physical 0x%x-0x%x" %
              (high_base, high_base + image), KERNEL_HALT], mem="2G",
             checks=loaded_below(high_base)),
        # W^X: one RWX segment (as ld -N writes) is refused before entry
        Case("kernel-rwx-segment", lambda: kernel_flags("kernel-rwx-segment", 7),
             stage2_error("kernel segment at virtual 0x%x-0x%x is writable and executable "
                          "(W^X): link with separate text and data segments, not ld -N" %
                          (kva, kva + text)), vga=True),
        Case("kernel-ld-N", lambda: sample_kernel("kernel-ld-N", ["-Wl,-N"]),
             ["pagelab stage2: error: kernel segment at virtual 0x200000-",
              "is writable and executable (W^X): link with separate text and data segments, "
              "not ld -N", STAGE2_STOP]),
        # KERNEL_MAX_SIZE bounds all segments together
        Case("kernel-size-at-limit", lambda: kernel_total_size("kernel-size-at-limit", max_size),
             ["pagelab stage2: kernel: 3 segments at physical 0x%x-0x%x" %
              (constant("KERNEL_PHYS_BASE"), constant("KERNEL_PHYS_BASE") + max_size),
              KERNEL_HALT], checks=booted_well),
        Case("kernel-size-above-limit", lambda: kernel_total_size("kernel-size-above-limit",
                                                                  max_size + page),
             stage2_error("kernel segments take %d KiB (file bytes + bss, in whole pages), more "
                          "than KERNEL_MAX_SIZE (%d KiB)" % ((max_size + page) >> 10,
                                                            max_size >> 10))),
        # README.md's sample C kernel, built with its command line, boots
        Case("kernel-sample-c", lambda: sample_kernel("kernel-sample-c"),
             [SAMPLE_KERNEL_SAYS], checks=said(r"^pagelab stage2: kernel: \d+ segments at "
                                               r"physical 0x200000-0x[0-9a-f]+ \(offset\)$")),
        # SSE is on at entry (a plain gcc -O2 kernel uses it at once)
        Case("kernel-sse-at-entry", lambda: kernel_entry_code(
                 "kernel-sse", b"\x66\x0f\xef\xc0"),   # pxor xmm0, xmm0 over cli; cld; xor ebp, ebp
             [KERNEL_HALT], checks=booted_well),
        Case("kernel-empty", kernel_empty,
             stage2_error("/boot/kernel.elf: kernel file is too small for an ELF header")),
        Case("kernel-non-canonical", lambda: kernel_relinked("kernel-non-canonical",
                                                             0x7FFFFFFF80200000),
             stage2_error("/boot/kernel.elf: kernel segment's virtual address is not "
                          "canonical")),
        Case("kernel-at-page-0", lambda: kernel_relinked("kernel-at-page-0", 0),
             stage2_error("kernel segment at virtual 0x0-0x")),
        Case("kernel-in-recursive-slot", lambda: kernel_relinked("kernel-in-recursive-slot",
                                                                 0xFFFFFF0000200000),
             stage2_error("kernel segment at virtual 0xffffff0000200000-")),
        # ---- one stage2 for every kernel: the kernel's note names its strategy
        Case("kernel-other-strategy", lambda: replace_kernel(
                 "kernel-other-strategy", bytes(good_kernel("recursive"))),
             [kernel_line("recursive"), KERNEL_HALT], checks=booted_well),
        Case("kernel-other-strategy-identity", lambda: replace_kernel(
                 "kernel-other-strategy-identity", bytes(good_kernel("identity"))),
             [kernel_line("identity"), KERNEL_HALT], checks=booted_well),
        # no note: offset's layout; offset's kernel boots, recursive's refuses it by name
        Case("kernel-no-note", lambda: kernel_note("kernel-no-note", no_note=True),
             [NO_NOTE, kernel_line("offset"), KERNEL_HALT], checks=booted_well),
        Case("kernel-no-note-other-strategy", lambda: kernel_note(
                 "kernel-no-note-other-strategy", "recursive", no_note=True),
             [OTHER_STRATEGY, NO_NOTE, KERNEL_HALT], vga_wrap=True),
        # another owner's note is not pagelab's: skipped (gABI: each owner its types)
        Case("kernel-note-wrong-name", lambda: kernel_note(
                 "kernel-note-wrong-name", "recursive", note_name=b"pagelax\0"),
             [OTHER_STRATEGY, NO_NOTE, KERNEL_HALT]),
        Case("kernel-note-namesz-7", lambda: kernel_note(
                 "kernel-note-namesz-7", "recursive", namesz=7),
             [OTHER_STRATEGY, NO_NOTE, KERNEL_HALT]),
        # malformed: the PT_NOTE one byte too short for the note (28 bytes boot)
        Case("kernel-note-truncated", lambda: kernel_note(
                 "kernel-note-truncated", note_filesz=27),
             stage2_error("/boot/kernel.elf: PT_NOTE at file offset 0x%x (27 bytes): a note "
                          "runs past the end of its PT_NOTE segment" % note_offset())),
        Case("kernel-note-header-truncated", lambda: kernel_note(
                 "kernel-note-header-truncated", note_filesz=NOTE_HEADER - 1),
             stage2_error("/boot/kernel.elf: PT_NOTE at file offset 0x%x (11 bytes): a note "
                          "runs past the end of its PT_NOTE segment" % note_offset())),
        Case("kernel-note-desc-short", lambda: kernel_note(
                 "kernel-note-desc-short", descsz=7),
             stage2_error("/boot/kernel.elf: the pagelab note has 7 bytes of description, "
                          "fewer than the 8 of struct pagelab_boot_note "
                          "(include/kernel_note.h)"), vga=True),
        # strategy ids 1-5 exist (identity and recursive boot above): 0 and 6 do not
        Case("kernel-note-strategy-0", lambda: kernel_note(
                 "kernel-note-strategy-0", note_strategy=0), stage2_error(
                 "/boot/kernel.elf: the pagelab note names strategy 0, which does not exist "
                 "(1-5: identity, table-offset, offset, temporary, recursive)")),
        Case("kernel-note-strategy-6", lambda: kernel_note(
                 "kernel-note-strategy-6", note_strategy=6), stage2_error(
                 "/boot/kernel.elf: the pagelab note names strategy 6, which does not exist")),
        # paging depth: 4 boots (every case above), 5 is not built yet, 3 and 6 do not exist
        Case("kernel-note-levels-5", lambda: kernel_note("kernel-note-levels-5", levels=5),
             stage2_error("/boot/kernel.elf: the pagelab note asks for 5-level paging "
                          "(CR4.LA57), which this stage2 does not build yet: build the kernel "
                          "for 4 levels"), vga=True),
        Case("kernel-note-levels-3", lambda: kernel_note("kernel-note-levels-3", levels=3),
             stage2_error("/boot/kernel.elf: the pagelab note asks for 3-level paging: x86-64 "
                          "pages with 4 or 5 levels")),
        Case("kernel-note-levels-6", lambda: kernel_note("kernel-note-levels-6", levels=6),
             stage2_error("/boot/kernel.elf: the pagelab note asks for 6-level paging")),
        # a PT_NOTE outside every PT_LOAD is read from the file, up to 512 bytes
        Case("kernel-note-in-file", lambda: kernel_note_in_file(
                 "kernel-note-in-file", "recursive", NOTE_READ_MAX),
             [kernel_line("recursive"), KERNEL_HALT], checks=booted_well),
        Case("kernel-note-in-file-too-long", lambda: kernel_note_in_file(
                 "kernel-note-in-file-too-long", "recursive", NOTE_READ_MAX + 1),
             stage2_error("/boot/kernel.elf: PT_NOTE at file offset 0x%x (513 bytes) lies "
                          "outside the PT_LOAD segments and is longer than the 512 bytes "
                          "stage2 reads from there" % len(good_kernel("recursive")))),
        Case("kernel-note-beyond-file", lambda: kernel_note_in_file(
                 "kernel-note-beyond-file", "offset", 28, offset=len(good_kernel()) + 1),
             stage2_error("/boot/kernel.elf: PT_NOTE at file offset 0x%x (28 bytes) lies "
                          "beyond the end of the file" % (len(good_kernel()) + 1))),
        # ---- a kernel that faults before it has an IDT: stage2's last-resort IDT
        Case("kernel-ud2-at-entry", lambda: kernel_entry_code("kernel-ud2", b"\x0f\x0b"),
             ["pagelab stage2: error: CPU exception 0x06 (error code 0x00000000) at RIP "
              "0xffffffff80200000", "before the kernel installed its IDT", STAGE2_STOP],
             vga=True),
        Case("kernel-null-read-at-entry", lambda: kernel_entry_code(
                 "kernel-null-read", b"\x48\x8b\x04\x25\x08\x00\x00\x00"),   # mov rax, [8]
             ["pagelab stage2: error: CPU exception 0x0e (error code 0x00000000) at RIP "
              "0xffffffff80200000, CR2 0x0000000000000008", STAGE2_STOP]),
        # ---- a fault in stage2's own code: its protected-mode IDT
        Case("stage2-ud2", lambda: stage2_code("stage2-ud2", "cpu_detect", b"\x0f\x0b"),
             ["pagelab stage2: error: CPU exception 0x06 (invalid opcode, error code "
              "0x00000000) at EIP 0x%08x in stage2" % stage2_symbol("cpu_detect"),
              STAGE2_STOP], vga_wrap=True),
        Case("stage2-divide-by-zero", lambda: stage2_code(
                 "stage2-div0", "disk_init", b"\x31\xc9\xf7\xf1"),   # xor ecx, ecx; div ecx
             ["pagelab stage2: error: CPU exception 0x00 (divide error, error code 0x00000000) "
              "at EIP 0x%08x in stage2" % (stage2_symbol("disk_init") + 2), STAGE2_STOP]),
        Case("stage2-general-protection-after-bios-call", lambda: stage2_code(
                 "stage2-gp", "kernel_load", b"\x66\xb8\x78\x56\x8e\xd8"),  # mov ax, 0x5678; mov ds, ax
             ["pagelab stage2: error: CPU exception 0x0d (general protection, error code "
              "0x00005678) at EIP 0x%08x in stage2" % (stage2_symbol("kernel_load") + 4),
              STAGE2_STOP]),
        Case("kernel-entry-in-data", kernel_entry_outside,
             stage2_error("/boot/kernel.elf: kernel entry point is not inside an executable "
                          "segment")),
        # ---- bad media: the FAT
        Case("fat-bad-sector-size", lambda: fat_damaged("fat-bps", 11, struct.pack("<H", 1024)),
             stage2_error("FAT partition at LBA 2048: only 512-byte sectors supported")),
        Case("fat-bad-cluster-size", lambda: fat_damaged("fat-spc", 13, b"\x03"),
             stage2_error("FAT partition at LBA 2048: sectors per cluster is not a power "
                          "of two")),
        Case("fat-no-signature", lambda: fat_damaged("fat-sig", 510, b"\0\0"),
             stage2_error("FAT partition at LBA 2048: no boot sector signature 0x55AA")),
        Case("fat-too-big", lambda: fat_damaged("fat-total", 32, struct.pack("<I", 1 << 24)),
             stage2_error("FAT partition at LBA 2048: total sectors is 0 or exceeds the "
                          "partition")),
        Case("fat-chain-loop", chain_loop,
             stage2_error("kernel file /boot/kernel.elf: cluster chain loops")),
        Case("fat-chain-outside", chain_outside,
             stage2_error("kernel file /boot/kernel.elf: cluster chain points outside the "
                          "partition")),
        Case("fat-dir-loop", dir_loop,
             stage2_error("kernel file /boot/kernel.elf: cluster chain loops")),
        Case("fat-size-lies", size_lies,
             stage2_error("kernel file /boot/kernel.elf: cluster chain ends before the file "
                          "size")),
        # ---- bad media: the loader and the disk
        Case("no-fat-partition", no_fat_partition, stage2_error(
            "no FAT partition in the MBR partition table (types 01/04/06/0B/0C/0E)")),
        Case("partition-past-end", partition_past_end,
             ["pagelab stage2: disk read error at LBA 2147483392",
              "pagelab stage2: error: FAT partition at LBA 2147483392: disk read error",
              STAGE2_STOP]),
        Case("no-locator", no_locator, ["stage1: no locator"]),
        Case("stage2-signature", stage2_signature, ["stage1: bad stage2"], vga=True),
        Case("truncated-in-stage2", lambda: truncated("truncated-8-sectors", 8),
             ["stage1: read error"]),
        Case("truncated-in-kernel", lambda: truncated("truncated-in-kernel", 2048 + 100),
             ["pagelab stage2: disk read error at LBA",
              "pagelab stage2: error: kernel file /boot/kernel.elf: disk read error",
              STAGE2_STOP]),
        # ---- unsuitable or unusual CPUs
        Case("cpu-no-long-mode", GOOD, stage2_error(
            "this CPU cannot run 64-bit code (CPUID 80000001h: no long mode)"), cpu="qemu32"),
        Case("cpu-pentium", GOOD, stage2_error(            # no CMOV: stage2 is i386 code
            "this CPU cannot run 64-bit code (CPUID 80000001h: no long mode)"), cpu="pentium"),
        Case("cpu-486", GOOD, stage2_error(
            "this CPU cannot run 64-bit code (CPUID 80000001h: no long mode)"), cpu="486"),
        Case("cpu-no-nx", TEST_IMG % "offset", [KERNEL_HALT], cpu="qemu64,-nx",
             walk=walk_no_nx, checks=no_nx_boot),
        Case("cpu-no-1g-pages", TEST_IMG % "offset",
             ["window 4 GiB in 2 MiB pages", KERNEL_HALT], cpu="qemu64,-pdpe1gb",
             walk=window_leaf_size(1 << 21), checks=booted_well),
        Case("cpu-1g-pages", TEST_IMG % "offset",
             ["window 4 GiB in 1 GiB pages", KERNEL_HALT], cpu="qemu64,+pdpe1gb",
             walk=window_leaf_size(1 << 30), checks=booted_well),
        # ---- memory maps
        Case("mem-32M", TEST_IMG % "offset", [KERNEL_HALT], mem="32M", checks=covers_ram),
        Case("mem-3.5G", TEST_IMG % "offset", [KERNEL_HALT], mem="3584M", checks=covers_ram),
        Case("mem-6G", TEST_IMG % "offset", [KERNEL_HALT], mem="6G", checks=covers_ram),
        Case("mem-q35-4G", TEST_IMG % "offset", [KERNEL_HALT], mem="4G",
             extra=["-machine", "q35"], checks=covers_ram),
        Case("mem-512G-sparse", TEST_IMG % "offset", [KERNEL_HALT], mem="512G", extra=big,
             checks=covers_ram, timeout=120),
        # PMM_MAX_PHYS (4 TiB): RAM ending 2 MiB below it, at it, 2 MiB above
        # it, at 8 TiB (the bitmap once ran into the stack) and above the
        # window's 32 TiB of slots: RAM beyond the limit is ignored, by name
        Case("mem-4T-minus-2M", TEST_IMG % "offset", [KERNEL_HALT],
             checks=ram_limited(limit - 2 * mib), **huge_ram(ram_ending_at(limit - 2 * mib))),
        Case("mem-4T", TEST_IMG % "offset", [KERNEL_HALT], checks=ram_limited(limit),
             **huge_ram(ram_ending_at(limit))),
        Case("mem-4T-plus-2M", TEST_IMG % "offset", [KERNEL_HALT],
             checks=ram_limited(limit + 2 * mib), **huge_ram(ram_ending_at(limit + 2 * mib))),
        Case("mem-8T", GOOD, [KERNEL_HALT], checks=ram_limited((9 << 40) - (3 << 30)),
             **huge_ram(8 << 20)),
        Case("mem-33T", GOOD, [KERNEL_HALT], checks=ram_limited((34 << 40) - (3 << 30)),
             **huge_ram(33 << 20)),
        # ---- a kernel stack overflow (test kernel tests/guest/variant_overflow.c)
        Case("stack-overflow", "build/offset/overflow.img",
             ["pagelab: exception 8 (double fault)",
              "(on the IST stack: a kernel stack overflow into its guard page ends here",
              "pagelab: halted after an unexpected exception"], vga=True, checks=guard_page_hit),
    ] + [
        # ---- W^X through QEMU's eyes, every strategy (test kernels: the
        # suite's mappings are in place, SMEP and SMAP on with -cpu max)
        Case("wx-%s" % s, TEST_IMG % s, [KERNEL_HALT], walk=walk_wx, checks=booted_well)
        for s in strategies
    ]


# ---------------------------------------------------------------- checks without a boot

def one_stage2(record, strategies):
    """Every image carries the same stage2 bytes (cmp at LBA 1): the one
    build/stage2.bin, or build/dbg/stage2.bin in the debug images."""
    images = [("build/%s/%s.img" % (s, image), "build/%sstage2.bin" % ("dbg/" if debug else ""))
              for s in strategies for image, debug in [
                  ("disk", False), ("test", False), ("bench", False), ("debug", True),
                  ("debug-stale-tlb", True)]]
    if "offset" in strategies:
        images.append(("build/offset/overflow.img", "build/stage2.bin"))
    for img, stage2 in images:
        p = subprocess.run(["cmp", "-n", str(os.path.getsize(stage2)), stage2, img,
                            "0", str(SECTOR)], capture_output=True, text=True)
        record(p.returncode == 0, "robust/stage2-one-binary: %s holds %s's bytes" %
               (img, stage2), (p.stdout + p.stderr).strip())


def stage2_includes_acyclic(record, strategies):
    """stage2's files include one another without a cycle: a .c file
    depends on X.c when it includes X.h (directly or through a header)."""
    inc = {}
    for f in os.listdir("stage2"):
        if f.endswith((".c", ".h")):
            with open(os.path.join("stage2", f)) as src:
                inc[f] = [h for h in re.findall(r'#include "([a-z0-9_]+\.h)"', src.read())
                          if os.path.exists(os.path.join("stage2", h))]

    def headers(f, seen):
        for h in inc.get(f, []):
            if h not in seen:
                seen.add(h)
                headers(h, seen)
        return seen
    deps = {c: {h[:-2] + ".c" for h in headers(c, set())} - {c} & set(inc)
            for c in inc if c.endswith(".c")}
    cycle, state = [], {}

    def visit(n, path):
        if state.get(n) == 1:
            cycle.extend(path[path.index(n):] + [n])
        if state.get(n):
            return
        state[n] = 1
        for m in sorted(deps[n]):
            visit(m, path + [n])
        state[n] = 2
    for c in sorted(deps):
        visit(c, [])
    record(len(deps) > 10 and not cycle and "main.c" not in set().union(*deps.values()),
           "robust/stage2-includes-acyclic: %d stage2 files, no include cycle, no step "
           "needs main.c" % len(deps), " -> ".join(cycle))


CHECKS = {"stage2-one-binary": one_stage2, "stage2-includes-acyclic": stage2_includes_acyclic}


def selected(name, only, names):
    """Whether case `name` is chosen by `only`: None (every case), a regex,
    or a list of exact case names and regexes (see main)."""
    if only is None:
        return True
    if isinstance(only, str):
        return re.search(only, name) is not None
    return any(o == name if o in names else re.search(o, name) for o in only)


def run(record, only=None, strategies=STRATEGIES):
    """Every case (or those `only` selects: see selected), each result
    through record(ok, name, why); wx-<strategy> for `strategies`."""
    os.makedirs(OUT, exist_ok=True)
    sparse = os.path.join(OUT, "ram-512g.sparse")
    with open(sparse, "wb") as f:
        f.truncate(512 << 30)                           # a hole: no disk space used
    try:
        all_cases = cases(sparse, strategies)
        names = {c.name for c in all_cases} | set(CHECKS)
        for name, check in CHECKS.items():
            if selected(name, only, names):
                check(record, strategies)
        for c in all_cases:
            if selected(c.name, only, names):
                run_case(record, c)
    finally:
        os.remove(sparse)


def main():
    """`robustness.py [name-or-regex ...]`: a case's exact name selects that
    case alone (`mem-4T`, not `mem-4T-plus-2M`); anything else is a regex
    searched in every name (`kernel-phys` runs all of those)."""
    qemu.run_alone(run, sys.argv[1:] or None)


if __name__ == "__main__":
    main()
