"""pagelab_gdb.py - gdb commands for pagelab under QEMU, sourced by tools/gdbinit.

  pagelab-attach   load the symbols of build/stage2.elf (32-bit: one stage2
                   boots every strategy's kernel) and the kernel (64-bit,
                   build/<strategy>/kernel.elf), connect to QEMU's gdb stub and
                   report the CPU mode at every stop. What to load and where
                   to connect: build/gdb-session, written by `make gdb` for
                   the QEMU it started (strategy, kernel, 127.0.0.1:port);
                   env PAGELAB_STRATEGY, PAGELAB_KERNEL and
                   PAGELAB_GDB_TARGET (host:port, or a Unix socket path)
                   override it, with a warning when the strategy differs
                   from the running image's (its kernel's breakpoints
                   would never hit).
  pagelab-user NAME  the symbols of user program NAME (build/user/debug/
                   NAME.elf, the unstripped twin of the image's /bin/NAME),
                   in place of the last program's: every program is linked
                   at the same fixed addresses (user/user.ld), so gdb 13's
                   `add-symbol-file FILE` needs no address, and two
                   programs' symbols at once would both claim them.
  pagelab-mode [N] the CPU mode (real, 32-bit protected, long) and the next
                   N instructions decoded for that mode.
  pagewalk VA [CR3]  walk the 4-level tables for VA from CR3 (the live one
                   by default; given, any address space's PML4, such as the
                   cr3 of a "pagelab: address space" block), reading
                   physical memory, and print each level's entry decoded,
                   then "VA -> PA size perms" as the kernel's final
                   translations (perms rwx, then u for a user page), or
                   "VA -> unmapped (why)", which for a swapped-out page
                   names its swap slot.

Why the mode report: QEMU's x86-64 stub always describes 64-bit registers,
and gdb refuses to switch such a target to the i8086 or i386 architecture,
so it decodes 16- and 32-bit code as 64-bit. pagelab-mode decodes the bytes
at CS:IP with objdump for the real mode instead. Physical memory: QEMU's
stub reads virtual memory through the current CR3; the packet
Qqemu.PhyMemMode:1 switches it to physical addresses, which is what a page
walk needs (the tables need not be mapped anywhere).
"""
import os
import subprocess
import sys
import tempfile

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layout import constant  # noqa: E402  (tools/layout.py: include/*.h, their one home)

CR0_PE, CR0_PG, EFER_LMA, EFER_NXE = (constant(n) for n in ("CR0_PE", "CR0_PG", "EFER_LMA",
                                                              "EFER_NXE"))
PTE_P, PTE_W, PTE_U, PTE_PWT, PTE_PCD, PTE_A, PTE_D, PTE_PS, PTE_G, PTE_NX = (
    constant("PTE_" + n) for n in ("P", "W", "U", "PWT", "PCD", "A", "D", "PS", "G", "NX"))
PTE_ADDR = constant("PTE_ADDR_MASK")
# pagelab keeps its used-entry counts in bits the CPU ignores (include/pte.h)
PTE_IGNORED = constant("PT_COUNT_MASK")
COUNT_LO_SHIFT, COUNT_LO_WIDTH, COUNT_LO_ONES, COUNT_HI_SHIFT, COUNT_HI_ONES = (
    constant("PT_COUNT_" + n) for n in ("LO_SHIFT", "LO_WIDTH", "LO_ONES", "HI_SHIFT", "HI_ONES"))
# a swapped-out page: a not-present level-1 entry naming its swap slot (include/pte.h)
PTE_SWAP, SWAP_SLOT_MASK, SWAP_SLOT_SHIFT = (
    constant("PTE_SWAP" + n) for n in ("", "_SLOT_MASK", "_SLOT_SHIFT"))
LEVELS = [(4, "PML4", "PDPT"), (3, "PDPT", "PD"), (2, "PD", "PT"), (1, "PT", None)]
PAGE_NAMES = {3: "1G", 2: "2M", 1: "4K"}


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFFFFFFFFFF


def cpu_mode():
    """'real', 'protected' (32-bit, paging on or off) or 'long'."""
    if not reg("cr0") & CR0_PE:
        return "real"
    return "long" if reg("efer") & EFER_LMA else "protected"


def stub_packet(packet):
    out = gdb.execute("maintenance packet " + packet, to_string=True)
    if 'received: "OK"' not in out:
        raise gdb.GdbError("QEMU's gdb stub refused %s: %s" % (packet, out.strip()))


def read_phys(pa, size=8):
    """Bytes at physical address pa (QEMU's physical-memory mode)."""
    stub_packet("Qqemu.PhyMemMode:1")
    try:
        return gdb.selected_inferior().read_memory(pa, size).tobytes()
    finally:
        stub_packet("Qqemu.PhyMemMode:0")


def swap_slot(entry, level):
    """The slot a swap entry names, or None: pagelab's meaning for a not-present
    level-1 entry with PTE_SWAP (bit 1, W's place) set, whose other bits the CPU
    ignores (SDM Vol. 3A 4.5.4)."""
    if level == 1 and not entry & PTE_P and entry & PTE_SWAP:
        return (entry & SWAP_SLOT_MASK) >> SWAP_SLOT_SHIFT
    return None


def decode(entry, level):
    bits = [("P", PTE_P), ("W", PTE_W), ("U", PTE_U), ("PWT", PTE_PWT), ("PCD", PTE_PCD),
            ("A", PTE_A), ("D", PTE_D), ("PS" if level in (2, 3) else "PAT", PTE_PS),
            ("G", PTE_G), ("NX", PTE_NX)]
    slot = swap_slot(entry, level)
    if slot is not None:
        flags = "swap entry, slot %d" % slot
    else:
        flags = " ".join(n for n, b in bits if entry & b)
    if entry & PTE_IGNORED:
        count = (((entry >> COUNT_LO_SHIFT) & COUNT_LO_ONES) |
                 (((entry >> COUNT_HI_SHIFT) & COUNT_HI_ONES) << COUNT_LO_WIDTH))
        flags += " (ignored bits: pagelab's used-entry count %d)" % count
    return flags


def walk(va, out, cr3):
    """Print the walk of va from the PML4 at cr3 into out (a list of lines);
    returns (pa, size, perms) or (None, reason). Permissions as SDM Vol. 3A
    4.6.1 combines them: W and U/S only if every level allows, XD at any
    level (with EFER.NXE) forbids fetches."""
    if va >> 47 not in (0, 0x1FFFF):
        return None, "non-canonical"
    if not reg("cr0") & CR0_PG:
        return None, "paging off"
    nxe = bool(reg("efer") & EFER_NXE)
    table, writable, executable, user = cr3 & PTE_ADDR, True, True, True
    for level, name, child in LEVELS:
        index = (va >> (12 + 9 * (level - 1))) & 0x1FF
        slot = table + 8 * index
        entry = int.from_bytes(read_phys(slot), "little")
        label = "%s[%d]" % (name, index)
        line = "  %-10s @ 0x%09x: 0x%016x  %s" % (label, slot, entry, decode(entry, level))
        if not entry & PTE_P:
            out.append(line)
            slot = swap_slot(entry, level)
            if slot is not None:
                return None, "%s not present: swapped out, slot %d" % (label, slot)
            return None, "%s not present" % label
        writable &= bool(entry & PTE_W)
        user &= bool(entry & PTE_U)
        executable &= not (nxe and entry & PTE_NX)
        leaf = level == 1 or (level in (2, 3) and entry & PTE_PS)
        if level == 4 and entry & PTE_PS:
            out.append(line)
            return None, "PS set in %s (reserved)" % label
        if leaf:
            span = 1 << (12 + 9 * (level - 1))
            frame = entry & PTE_ADDR & ~(span - 1)
            out.append("%s  -> %s page 0x%x" % (line, PAGE_NAMES[level], frame))
            perms = ("r" + ("w" if writable else "-") + ("x" if executable else "-") +
                     ("u" if user else ""))
            return frame + (va & (span - 1)), PAGE_NAMES[level], perms
        table = entry & PTE_ADDR
        out.append("%s  -> %s 0x%x" % (line, child, table))
    return None, "unreachable"


class PageWalk(gdb.Command):
    """pagewalk VA [CR3]: walk the page tables for VA (physical reads) from
    CR3, the live one unless given (another address space's PML4), one line
    per level, then "VA -> PA size perms" or "VA -> unmapped (why)"."""

    def __init__(self):
        super().__init__("pagewalk", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if len(args) not in (1, 2):
            raise gdb.GdbError("usage: pagewalk VA [CR3]")
        va = int(gdb.parse_and_eval(args[0])) & 0xFFFFFFFFFFFFFFFF
        given = len(args) == 2
        cr3 = int(gdb.parse_and_eval(args[1])) & 0xFFFFFFFFFFFFFFFF if given else reg("cr3")
        lines = []
        result = walk(va, lines, cr3)
        print("pagewalk 0x%016x (%s 0x%x)" % (va, "given CR3" if given else "CR3", cr3))
        for line in lines:
            print(line)
        if result[0] is None:
            print("0x%016x -> unmapped (%s)" % (va, result[1]))
        else:
            print("0x%016x -> 0x%016x %s %s" % ((va,) + result))


def disassemble(linear, bits, count):
    """The next `count` instructions at a linear address, decoded by objdump
    for 16- or 32-bit code."""
    code = gdb.selected_inferior().read_memory(linear, 15 * count).tobytes()
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        p = subprocess.run(["objdump", "-D", "-b", "binary", "-M", "intel",
                            "-m", "i8086" if bits == 16 else "i386",
                            "--adjust-vma=0x%x" % linear, f.name],
                           capture_output=True, text=True)
    lines = [l for l in p.stdout.splitlines() if l[:1] == " " and ":\t" in l]
    return lines[:count]


def report_mode(count=3):
    mode = cpu_mode()
    if mode == "real":
        cs, ip = reg("cs"), reg("rip") & 0xFFFF
        linear = cs * 16 + ip
        print("[pagelab] real mode, CS:IP %04x:%04x = linear 0x%x (decoded as 16-bit code):"
              % (cs, ip, linear))
        bits = 16
    elif mode == "protected":
        linear = reg("rip") & 0xFFFFFFFF
        print("[pagelab] 32-bit protected mode, paging %s, EIP 0x%x (decoded as 32-bit code):"
              % ("on" if reg("cr0") & CR0_PG else "off", linear))
        bits = 32
    else:
        print("[pagelab] long mode, CR3 0x%x: gdb's own decoding applies (x/i $pc)"
              % (reg("cr3") & PTE_ADDR))
        return
    for line in disassemble(linear, bits, count):
        print("   " + line.strip())


class PagelabMode(gdb.Command):
    """pagelab-mode [N]: the CPU mode and the next N (3) instructions decoded
    as the CPU will execute them (16-, 32- or 64-bit)."""

    def __init__(self):
        super().__init__("pagelab-mode", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        report_mode(int(arg) if arg.strip() else 3)


SESSION = "build/gdb-session"


def read_session():
    """build/gdb-session as a dict (empty if `make gdb` never ran here)."""
    try:
        with open(SESSION) as f:
            return dict(l.strip().split("=", 1) for l in f if "=" in l and l[0] != "#")
    except OSError:
        return {}


class PagelabAttach(gdb.Command):
    """pagelab-attach: symbols of stage2 and the kernel, connect to QEMU,
    report the CPU mode at every stop."""

    def __init__(self):
        super().__init__("pagelab-attach", gdb.COMMAND_SUPPORT)

    def invoke(self, arg, from_tty):
        session = read_session()
        strategy = os.environ.get("PAGELAB_STRATEGY") or session.get("strategy")
        target = os.environ.get("PAGELAB_GDB_TARGET") or session.get("target")
        if not strategy or not target:
            raise gdb.GdbError("no %s: start QEMU with `make gdb [STRATEGY=...]` first"
                               " (or set PAGELAB_STRATEGY and PAGELAB_GDB_TARGET)" % SESSION)
        if session.get("strategy") not in (None, strategy):
            print("[pagelab] warning: `make gdb` started the %s image (%s), but these are the"
                  " kernel symbols of %s: its breakpoints will not hit"
                  % (session["strategy"], SESSION, strategy))
        build = os.path.join("build", strategy)
        kernel = os.environ.get("PAGELAB_KERNEL") or (
            session.get("kernel") if session.get("strategy") == strategy
            else os.path.join(build, "kernel.elf"))
        stage2 = os.path.join("build", "stage2.elf")
        for elf in (kernel, stage2):
            if not os.path.exists(elf):
                raise gdb.GdbError("no %s: run `make image STRATEGY=%s` first" % (elf, strategy))
        gdb.execute("symbol-file %s" % kernel)
        # linked at its load address: the ELF's own section addresses apply
        gdb.execute("add-symbol-file %s" % stage2)
        gdb.execute("target remote " + target)
        gdb.events.stop.connect(lambda event: report_mode())
        report_mode()


USER_DEBUG_DIR = os.path.join("build", "user", "debug")


class PagelabUser(gdb.Command):
    """pagelab-user NAME: load the symbols of user program NAME
    (build/user/debug/NAME.elf), dropping those of the program loaded
    before. A breakpoint in it is on a virtual address, which every process
    running that program (or another one with code there) reaches: `break
    main if $cr3 == <its PML4>` stops in one process only."""

    loaded = None

    def __init__(self):
        super().__init__("pagelab-user", gdb.COMMAND_FILES)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if len(args) != 1:
            raise gdb.GdbError("usage: pagelab-user NAME (a program of user/)")
        # absolute: remove-symbol-file finds a file by the name gdb stored
        elf = os.path.abspath(os.path.join(USER_DEBUG_DIR, args[0] + ".elf"))
        if not os.path.exists(elf):
            raise gdb.GdbError("no %s: user/%s.c is built by `make image`" % (elf, args[0]))
        if PagelabUser.loaded:
            gdb.execute("remove-symbol-file " + PagelabUser.loaded)
        # linked at its place (static, no PIE): the ELF's own addresses apply
        gdb.execute("add-symbol-file " + elf)
        PagelabUser.loaded = elf


PageWalk()
PagelabUser()
PagelabMode()
PagelabAttach()
