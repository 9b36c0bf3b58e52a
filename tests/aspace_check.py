#!/usr/bin/env python3
"""aspace_check.py - the address-space blocks at the end of a boot, checked
from outside the guest.

Each block (README, "Address-space blocks") names an address space by its
CR3 and translates a list of its addresses. The space is not the live one,
so QEMU's gva2gpa (which walks the current CR3) cannot check it; this
module walks it itself: with the guest halted and every table in place, it
reads the PML4 at the block's cr3 and each table below from guest physical
memory (the monitor's pmemsave), decodes P, R/W, U/S, PS and XD as the SDM
says (Vol. 3A 4.5, tables 4-14 to 4-19; permissions combined over the four
levels as 4.6.1 says), and compares every line: the physical address, the
page size, the effective permissions (rwx, and u for a user page) and the
reason of an unmapped one. One PASS/FAIL per address space, with counts.

The check is checked too: on the same halted guest, a line with a wrong
frame, one with wrong permissions, one claiming a mapping that is not
there, and a block with another space's cr3 must each be reported as a
mismatch.

run_tests.check_boot calls boot_check(record, name, boot, serial,
test_image) for every boot; the test kernels keep two spaces alive
(tests/guest/spaces.c), so their boots must show at least two blocks. On
normal boots the default run list's cowshare leaves a parent and a child
paused: the walk of both spaces must find one read-only frame behind its
copy-on-write page and one writable frame behind its shared page.
"""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from robustness import constant  # noqa: E402  (tools/layout.py)

PTE_P, PTE_W, PTE_U, PTE_PS, PTE_NX = (constant("PTE_" + n) for n in ("P", "W", "U", "PS", "NX"))
PTE_ADDR = constant("PTE_ADDR_MASK")
EFER_NXE = constant("EFER_NXE")
PAGE_NAMES = {1: "4K", 2: "2M", 3: "1G"}
MIN_TEST_SPACES = 2          # tests/guest/spaces.c keeps "test-a" and "test-b"


def level_shift(level):
    return 12 + 9 * (level - 1)


class PhysTables:
    """512-entry tables read from guest physical memory, one pmemsave each."""

    def __init__(self, boot):
        self.boot, self.cache = boot, {}

    def table(self, pa):
        if pa not in self.cache:
            path = self.boot.dir.file("aspace-table.bin")
            self.boot.hmp('pmemsave 0x%x 4096 "%s"' % (pa, path))
            with open(path, "rb") as f:
                data = f.read()
            self.cache[pa] = struct.unpack("<512Q", data) if len(data) == 4096 else None
        return self.cache[pa]


def walk(tables, cr3, va, nxe):
    """The SDM's 4-level walk of va from cr3: ("map", pa, size name, perms)
    or ("unmapped", reason) with the kernel's reason names (pt_status_name):
    "non-canonical", "unmapped", "PS set in a PML4 entry"."""
    if va >> 47 not in (0, 0x1FFFF):
        return ("unmapped", "non-canonical")        # SDM Vol. 3A 3.3.7.1
    table = cr3 & PTE_ADDR
    w = u = x = True
    for level in (4, 3, 2, 1):
        entries = tables.table(table)
        if entries is None:
            return ("unreadable", "table at 0x%x" % table)
        e = entries[(va >> level_shift(level)) & 0x1FF]
        if not e & PTE_P:                           # 4.5.4: P = 0 ends the walk
            return ("unmapped", "unmapped")
        if level == 4 and e & PTE_PS:               # PS is reserved in a PML4E
            return ("unmapped", "PS set in a PML4 entry")
        w, u = w and bool(e & PTE_W), u and bool(e & PTE_U)     # 4.6.1: every level
        x = x and not (nxe and e & PTE_NX)          # XD at any level (with EFER.NXE)
        if level == 1 or e & PTE_PS:                # PS: a 1 GiB / 2 MiB leaf
            span = 1 << level_shift(level)
            frame = e & PTE_ADDR & ~(span - 1)
            perms = "r" + ("w" if w else "-") + ("x" if x else "-") + ("u" if u else "")
            return ("map", frame | (va & (span - 1)), PAGE_NAMES[level], perms)
        table = e & PTE_ADDR
    return ("unmapped", "unreachable")


def line_claim(pa, rest):
    """What a translation line says: ("map", pa, size, perms) or
    ("unmapped", reason)."""
    if pa is None:
        m = re.match(r"\((.*?)\)", rest)
        return ("unmapped", m.group(1) if m else rest)
    parts = rest.split()
    return ("map", pa, parts[0] if parts else "?", parts[1] if len(parts) > 1 else "?")


def mismatches(tables, cr3, lines, nxe):
    """["0x<va>: line says ..., walk finds ..."] for every line that
    disagrees with the walk from cr3."""
    wrong = []
    for va, pa, rest in lines:
        said, found = line_claim(pa, rest), walk(tables, cr3, va, nxe)
        if said != found:
            wrong.append("0x%x: line %s, walk %s" % (va, fmt(said), fmt(found)))
    return wrong


def fmt(claim):
    if claim[0] == "map":
        return "0x%x %s %s" % claim[1:]
    return "%s (%s)" % claim


def check_spaces(record, name, boot, blocks, nxe, live_cr3):
    tables = PhysTables(boot)
    for space, cr3, lines in blocks:
        wrong = mismatches(tables, cr3, lines, nxe)
        mapped = sum(1 for _, pa, _ in lines if pa is not None)
        record(not wrong and cr3 & PTE_ADDR != live_cr3,
               name + ": address space %s (cr3 0x%x, inactive): %d lines agree with the outside"
               " walk (%d mapped, %d unmapped)" % (space, cr3, len(lines), mapped,
                                                   len(lines) - mapped),
               "; ".join(wrong[:5]) or "it is the live CR3")
    return tables


def isolation(record, name, blocks):
    """The two test spaces: the same user address reaches different frames,
    the shared page one frame, the shared upper half the same frames."""
    by = {space: {va: (pa, rest) for va, pa, rest in lines} for space, _, lines in blocks}
    a, b = by.get("test-a"), by.get("test-b")
    if a is None or b is None:
        return
    private = [va for va, (pa, rest) in a.items() if rest.endswith(("user code", "user data",
                                                                    "page shared with nothing"))]
    same = [va for va in private if b.get(va, (None,))[0] == a[va][0]]
    shared = [va for va, (pa, rest) in a.items()
              if rest.endswith(("page shared by both spaces", "(shared upper half)"))]
    differ = [va for va in shared if b.get(va, (None,))[0] != a[va][0]]
    record(private and shared and not same and not differ,
           name + ": test-a and test-b: same user addresses, own frames; the shared page and"
           " the upper half, the same frames", "same frame: %s; differ: %s" % (
               [hex(v) for v in same], [hex(v) for v in differ]))


COWSHARE = re.compile(r"^cowshare: pid (\d+) (parent|child): cow page (0x[0-9a-f]+), shared page"
                      r" (0x[0-9a-f]+)$", re.M)


def cowshare(record, name, tables, blocks, nxe, serial):
    """user/cowshare.c and its child, paused: each names its copy-on-write
    data page and its MAP_SHARED page. Both addresses must be lines of
    both blocks, and the outside walk of the two spaces must find one
    frame for each page: the copy-on-write one read-only in both (no W:
    the next write faults and copies), the shared one writable in both."""
    said = COWSHARE.findall(serial)
    spaces = {space: (cr3, {va for va, _, _ in lines}) for space, cr3, lines in blocks}
    mine = [(spaces.get("pid%s-cowshare" % pid), int(cow, 16), int(sh, 16))
            for pid, _, cow, sh in said]
    if not record(len(said) == 2 and {w for _, w, _, _ in said} == {"parent", "child"} and
                  all(s is not None and cow in s[1] and sh in s[1] for s, cow, sh in mine)
                  and mine[0][1:] == mine[1][1:],
                  name + ": cowshare: parent and child name their pages at the same addresses,"
                  " both blocks list them", str(said)):
        return
    cow_va, sh_va = mine[0][1], mine[0][2]
    cow = [walk(tables, s[0], cow_va, nxe) for s, _, _ in mine]
    sh = [walk(tables, s[0], sh_va, nxe) for s, _, _ in mine]
    record(all(w[0] == "map" and w[3] in ("r--u", "r-xu") for w in cow) and
           cow[0][1] == cow[1][1],
           name + ": cowshare: the copy-on-write page 0x%x is one frame, read-only in both"
           " spaces (outside walk)" % cow_va, str(cow))
    record(all(w[0] == "map" and w[3].startswith("rw") and w[3].endswith("u") for w in sh) and
           sh[0][1] == sh[1][1] and sh[0][1] != cow[0][1],
           name + ": cowshare: the shared page 0x%x is one frame, writable in both spaces"
           " (outside walk)" % sh_va, str(sh))


def self_test(record, name, tables, blocks, nxe, live_cr3):
    """The walk must see each kind of wrong line, and a wrong cr3."""
    space, cr3, lines = blocks[0]
    mapped = [l for l in lines if l[1] is not None]
    unmapped = [l for l in lines if l[1] is None and "non-canonical" not in l[2]]
    if not mapped or not unmapped:
        record(False, name + ": outside-walk self-test", "block %s has no mapped and unmapped"
               " line to corrupt" % space)
        return
    va, pa, rest = mapped[0]
    size, perms = rest.split()[:2]
    flipped = ("r" + ("-" if perms[1] == "w" else "w") + perms[2:])
    uva, _, urest = unmapped[0]
    corrupted = [
        ("a frame off by a page", [(va, pa ^ 0x1000, rest)]),
        ("write permission flipped", [(va, pa, rest.replace(perms, flipped, 1))]),
        ("the user bit dropped" if perms.endswith("u") else "a user bit added",
         [(va, pa, rest.replace(perms, perms[:3] if perms.endswith("u") else perms + "u", 1))]),
        ("an unmapped address claimed mapped", [(uva, 0x1000, "4K rw-u " + urest)]),
        ("a mapped address claimed unmapped", [(va, None, "(unmapped) " + rest)]),
    ]
    others = [c for s, c, _ in blocks if c != cr3] + [live_cr3]
    missed = [what for what, bad in corrupted if not mismatches(tables, cr3, bad, nxe)]
    wrong_cr3 = mismatches(tables, others[0], lines, nxe)
    record(not missed and wrong_cr3,
           name + ": outside-walk self-test: %d corrupted lines and another cr3 (0x%x: %d of"
           " %d lines differ) are each reported" % (len(corrupted), others[0], len(wrong_cr3),
                                                     len(lines)),
           "not reported: %s%s" % (", ".join(missed), "" if wrong_cr3 else "; the wrong cr3"))


def boot_check(record, name, boot, serial, test_image):
    """Every address-space block of a halted boot against the outside walk;
    on test images at least MIN_TEST_SPACES blocks, the isolation facts and
    the self-test."""
    blocks = qemu.address_spaces(serial)
    if blocks is None or (test_image and len(blocks) < MIN_TEST_SPACES):
        record(False, name + ": address-space blocks well formed (%s)"
               % ("at least %d" % MIN_TEST_SPACES if test_image else "any"),
               "unparsable" if blocks is None else "%d blocks" % len(blocks))
        return
    if not blocks:
        return
    regs = boot.hmp("info registers")
    efer = re.search(r"EFER=([0-9a-fA-F]+)", regs)
    cr3 = re.search(r"CR3=([0-9a-fA-F]+)", regs)
    if not record(efer is not None and cr3 is not None, name + ": the monitor shows EFER and"
                  " CR3 for the outside walk", regs[-300:]):
        return
    nxe, live_cr3 = bool(int(efer.group(1), 16) & EFER_NXE), int(cr3.group(1), 16) & PTE_ADDR
    tables = check_spaces(record, name, boot, blocks, nxe, live_cr3)
    if not test_image:
        cowshare(record, name, tables, blocks, nxe, serial)
    if test_image:
        isolation(record, name, blocks)
        self_test(record, name, tables, blocks, nxe, live_cr3)


def run(record, strategies=("offset",)):
    """Alone: boot each strategy's test image once and check its blocks."""
    for s in strategies:
        b = qemu.Boot("build/%s/test.img" % s, mem="512M")
        try:
            name = "aspace/%s" % s
            if record(b.wait_for(qemu.HALTED), name + ": boots to 'pagelab: halted'",
                      b.serial()[-300:]):
                boot_check(record, name, b, b.serial(), True)
        finally:
            b.close()


def main():
    qemu.run_alone(run, sys.argv[1:] or ["identity", "table-offset", "offset", "temporary",
                                         "recursive"])


if __name__ == "__main__":
    main()
