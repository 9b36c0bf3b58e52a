"""proc_checks.py - what the processes of a boot must print, for
tests/run_tests.py.

Test images (tests/guest/procs.c runs the isolation demos of user/iso_*.c,
vmprobe and hello): each demo's outcome is the one the SDM's rules give,
as the kernel's named line states it; the guest's PASS lines are checked
with the rest of the suite. Normal images (the default run list, hello
spin spin cowshare): the spins ran interleaved, and four processes are left
alive for the address-space blocks (tests/aspace_check.py checks what
cowshare and its child share).

The patterns are written from the SDM and the programs' sources, not from
the kernel's output: an address is the program's (the kernel's code at
KERNEL_VIRT_OFFSET + KERNEL_PHYS_BASE, user code at USER_BASE), the error
code's words are those of Vol. 3A 4.7.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import layout  # noqa: E402

KERNEL_TEXT = layout.constant("KERNEL_VIRT_OFFSET") + layout.constant("KERNEL_PHYS_BASE")
USER_BASE = layout.constant("USER_BASE")
USER_STACK_TOP = layout.constant("USER_STACK_TOP")
HEX = r"0x[0-9a-f]{16}"


# user/vmtest.c's checks, as the program names them
VMTEST_CHECKS = [
    "sbrk(2 pages) returns the old break",
    "the break moved by exactly 2 pages",
    "sbrk(-1 page) gives the frame back",
    "sbrk below the image is refused",
    "sbrk past the heap's room is refused",
    "mmap 3 pages",
    "vmstat counts 2 more frames: the untouched middle page has none",
    "translate: an mmap page is user, writable, not executable, 4 KiB at level 1",
    "mprotect to read-only: translate agrees",
    "the read-only page still reads its byte",
    "munmap: translate says unmapped",
    "vmstat: the 2 frames are back",
    "mmap writable and executable is refused (W^X)",
    "mmap of 0 bytes is refused",
    "mmap at a misaligned address is refused",
    "mmap in the kernel's half is refused",
    "munmap of kernel code is refused",
    "translate of a kernel address: EFAULT",
    "translate into a kernel buffer: EFAULT",
    "write of kernel bytes: EFAULT",
    "vmstat into page 0: EFAULT",
    "spawn with a kernel pointer: EFAULT",
    "spawn hello, wait: its pid, status 0",
    "spawn of a missing module: ENOENT",
    "exec of a missing module: ENOENT, still here",
    "fork, exec hello in the child, wait: status 0",
    "wait without children: ECHILD",
    "sleep(0) is refused: EINVAL",
    "sleep(1) returns after at least 1 tick",
    "sleep(2) returns after at least 2 ticks",
    "sleep(SYS_SLEEP_MAX - 1) returns after as many ticks",
    "sleep(SYS_SLEEP_MAX) returns after as many ticks",
    "sleep(SYS_SLEEP_MAX + 1) is refused: EINVAL",
    "sleep(2^64 - 1) is refused: EINVAL",
]


def killed(prog, addr, why, there, reason):
    """The kernel's kill line; reason: why no region resolves the fault
    (kernel/proc/vm.h, vm_outcome_name)."""
    return (r"pagelab: killed pid \d+ \(%s\): page fault at %s, %s, user mode; there: %s;"
            r" %s; RIP %s\n" % (prog, addr, why, there, reason, HEX))


NO_REGION = "no region holds the address"
NO_WRITE = "a write to a region without write permission"
NO_EXEC = "an instruction fetch from a region without execute permission"


def in_range(lo, hi):
    """A 16-digit address pattern; the range is checked separately."""
    return "(0x[0-9a-f]{16})", lo, hi


def check_test_image(record, name, out, nx):
    # the user reads the kernel: U/S = 0 in the kernel's leaf
    record(re.search(killed("iso_kread", "0x%016x" % KERNEL_TEXT,
                            "protection violation, read", r"a page r-x- \(the kernel's\)",
                            NO_REGION),
                     out) is not None,
           name + ": procs: a user read of kernel code kills the process (U/S, protection, read)",
           "no such line")
    # the user writes its own code: R/W = 0 (W^X)
    m = re.search(killed("iso_wcode", "(%s)" % HEX, "protection violation, write", "a page r-xu",
                         NO_WRITE), out)
    record(m is not None and USER_BASE <= int(m.group(1), 16) < USER_BASE + (1 << 20),
           name + ": procs: a user write to its own code kills it (R/W, protection, write)",
           m.group(0) if m else "no such line")
    for prog, what, lo, hi in (("iso_xstack", "stack", USER_STACK_TOP - (1 << 20), USER_STACK_TOP),
                               ("iso_xheap", "heap", USER_BASE, USER_BASE + (1 << 30))):
        m = re.search(killed(prog, "(%s)" % HEX, "protection violation, instruction fetch",
                             "a page rw-u", NO_EXEC), out)
        if nx:
            record(m is not None and lo <= int(m.group(1), 16) < hi,
                   name + ": procs: executing its %s kills it (NX, protection, fetch)" % what,
                   m.group(0) if m else "no such line")
    # two processes, one virtual address, two frames, each its own value
    twins = re.findall(r"iso_twins: (parent|child) pid (\d+): (0x[0-9a-f]+) -> frame (0x[0-9a-f]+),"
                       r" holds (\d+) \(wrote (\d+)\)", out)
    ok = (len(twins) == 2 and twins[0][2] == twins[1][2] and twins[0][3] != twins[1][3] and
          all(t[4] == t[5] for t in twins) and twins[0][4] != twins[1][4] and
          int(twins[0][3], 16) != 0)
    record(ok, name + ": procs: after fork, one address reaches two frames holding each one's value",
           str(twins))
    m = re.search(r"iso_twins: parent: child (\d+) exited with 7 \(wait returned (\d+)\)", out)
    record(m is not None and m.group(1) == m.group(2),
           name + ": procs: wait returns the child and its exit status 7", "no such line")
    # vmprobe's view of its own pages
    for what, perms in (("code", "read-only exec user"), ("rodata", "read-only no-exec user"),
                        ("data", "write no-exec user"), ("stack", "write no-exec user")):
        if not nx:
            perms = perms.replace("no-exec", "exec")
        record(re.search(r"vmprobe: %s 0x[0-9a-f]+ -> frame 0x[0-9a-f]+, 4096 bytes, level 1, %s"
                         % (what, perms), out) is not None,
               name + ": procs: translate from user space: %s is %s" % (what, perms), "missing")
    record("BROKEN" not in out, name + ": procs: no demo got past its fault", "a demo says BROKEN")
    # vmtest: every check of user/vmtest.c, by name, and nothing failed
    for what in VMTEST_CHECKS:
        record("vmtest: %s: ok\n" % what in out, name + ": procs: vmtest: " + what,
               "not ok" if "vmtest: %s: FAIL" % what in out else "missing")
    record("vmtest: 0 failed\n" in out, name + ": procs: vmtest ran to its end, nothing failed",
           "missing")


def check_normal_image(record, name, out):
    # hello spin spin cowshare; cowshare forks: both spins and both cowshares stay paused
    record("pagelab: processes: 4 started, 4 still alive (paused or waiting)" in out,
           name + ": processes: the run list's four started, the two spins and cowshare with"
           " its child are left alive", "missing")
    spins = re.findall(r"spin (\d+): line (\d) of 5", out)
    pids = sorted({p for p, _ in spins})
    lines = {p: [int(n) for q, n in spins if q == p] for p in pids}
    interleaved = (len(pids) == 2 and all(lines[p] == [1, 2, 3, 4, 5] for p in pids) and
                   spins.index((pids[1], "1")) < spins.index((pids[0], "5")))
    record(interleaved, name + ": processes: two spins, five lines each, interleaved",
           str(spins))
    blocks = re.findall(r"pagelab: address space pid(\d+)-spin cr3 (0x[0-9a-f]{16})", out)
    record(len(blocks) == 2 and blocks[0][1] != blocks[1][1],
           name + ": processes: both spins' address spaces listed, each its own PML4", str(blocks))
    cows = re.findall(r"pagelab: address space pid(\d+)-cowshare cr3 (0x[0-9a-f]{16})", out)
    record(len(cows) == 2 and cows[0][1] != cows[1][1],
           name + ": processes: cowshare's and its child's address spaces listed, each its own"
           " PML4", str(cows))
