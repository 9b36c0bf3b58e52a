"""ring3_checks.py - what the ring-3 part of the in-guest suite
(tests/guest/ring3.c) must print, for tests/run_tests.py (every QEMU boot of
a test image) and tests/bochs_check.py (the test image in Bochs): each named
check must be there and pass, the user's own output and the named line of
each user fault must be on serial.
"""
import re

# The ring-3 checks of tests/guest/ring3.c: each must be there (and pass),
# with the user's own output and the named line of each user fault.
RING3_CHECKS = [
    "lower half: emptied but the user's slots; the kernel reads BootInfo and prints",
    "ring3: SYS_GETPID round trip returns the pid",
    "ring3: SYS_WRITE prints a user string and returns its length",
    "ring3: SYS_WRITE of a buffer ending exactly at its page's end works",
    "ring3: SYS_WRITE one byte past the mapped page gives -SYS_EFAULT",
    "ring3: SYS_WRITE of a kernel address gives -SYS_EFAULT",
    "ring3: SYS_WRITE of a non-canonical address gives -SYS_EFAULT",
    "ring3: SYS_WRITE of an unmapped user address gives -SYS_EFAULT",
    "ring3: SYS_WRITE of a kernel-only lower-half page gives -SYS_EFAULT",
    "ring3: SYS_WRITE running from the last user page past USER_END gives -SYS_EFAULT",
    "ring3: an unknown system call gives -SYS_ENOSYS",
    "ring3: a user read of kernel code faults: protection, read, user (U/S)",
    "ring3: a user write to its read-only code faults: protection, write, user (R/W)",
    "ring3: a user read of an unmapped page faults: not present, read, user",
    "ring3: executing the user stack faults",   # "(NX)" or, without NX, skipped
    "ring3: the timer preempts a user for (;;); loop after its tick budget",
    "ring3: SYSRET to the non-canonical RIP after the last user page is refused",
    "ring3: every register but RAX, RCX, R11 (and RSP) is preserved across a system call",
]
RING3_TEXT = [
    "ring3: hello from ring 3 through SYS_WRITE\n",
    "ring3: the last bytes of the code page\n",
    r"user: page fault at 0xffffffff8[0-9a-f]{7}: protection violation, read, user mode \(error code 0x5\)",
    r"user: page fault at 0x0000480000000000: protection violation, write, user mode \(error code 0x7\)",
    r"user: page fault at 0x0000480000001000: page not present, read, user mode \(error code 0x4\)",
    r"user: system call returning to non-canonical or kernel RIP 0x0000800000000000 refused",
]


def check(record, name, out):
    """Records one check per RING3_CHECKS line (present, and PASS) and per
    RING3_TEXT pattern (on serial)."""
    guest = [l for l in out.splitlines() if l.startswith(("PASS: guest/", "FAIL: guest/"))]
    names = [l.split(": ", 2)[2] for l in guest if l.startswith("PASS") and l.count(": ") >= 2]
    for want in RING3_CHECKS:
        record(any(n.startswith(want) for n in names), name + ": passed '%s'" % want,
               "no such PASS line")
    for text in RING3_TEXT:
        record(re.search(text, out) is not None, name + ": shows /%s/" % text.strip(), "missing")
