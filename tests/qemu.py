"""qemu.py - boot a pagelab image under QEMU and talk to its monitor.

Used by tests/run_tests.py, the other check modules and the benchmark. The
guest's serial port goes to a file; the HMP monitor listens on an abstract
Unix socket (nothing on the file system, no path-length limit) so that the
test can ask QEMU's own page walker (`gva2gpa`) about addresses while the
guest sits halted with its page tables live.

Every run gets a directory of its own under build/test/runs/ (run_dir):
removed when the run is closed, unless a check failed while it was open
(record_failure, called by every "FAIL:" recorder); then it stays, and its
path is printed right after the failure. Nothing is written outside build/.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HALTED = "pagelab: halted"
RUNS = "build/test/runs"
failures = 0    # checks failed so far in this process (record_failure)


def record_failure():
    """Count a failed check: the runs open now keep their logs."""
    global failures
    failures += 1


class RunDir:
    """A directory under RUNS for one emulator run's files, and the rule for
    keeping it: close() removes it unless a check failed since it was made."""

    def __init__(self, prefix):
        os.makedirs(RUNS, exist_ok=True)
        self.path = tempfile.mkdtemp(prefix=prefix, dir=RUNS)
        self.failures_at_start = failures

    def file(self, name):
        return os.path.join(self.path, name)

    def close(self):
        if failures > self.failures_at_start:
            print("    (the files of this run are kept in %s)" % self.path, flush=True)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


class Boot:
    """One QEMU run: start(), wait_for(text), gva2gpa(va), close(). drive:
    a whole -drive specification in place of the image's own (raw, IDE,
    snapshot=on), e.g. a blkdebug node (tests/diskerr_checks.py)."""

    def __init__(self, image, mem="512M", cpu="max", extra=(), accel="tcg", timeout=60,
                 cache=None, drive=None):
        extra = list(extra)
        if "-accel" in extra:           # the caller picks the accelerator
            i = extra.index("-accel")
            accel = extra[i + 1]
            del extra[i:i + 2]
        self.dir = RunDir("qemu-")
        self.serial_path = self.dir.file("serial.log")
        # abstract socket: a name in the kernel's socket namespace, unique by
        # the run directory's random suffix, gone when QEMU exits
        self.mon_name = "pagelab-monitor-" + os.path.basename(self.dir.path)
        self.timeout = timeout
        cmd = ["qemu-system-x86_64", "-accel", accel, "-m", mem, "-cpu", cpu,
               "-drive", drive or "file=%s,format=raw,if=ide,snapshot=on%s"
               % (image, ",cache=" + cache if cache else ""),
               "-display", "none", "-no-reboot", "-no-shutdown",
               "-serial", "file:" + self.serial_path,
               "-chardev", "socket,id=mon,path=%s,server=on,wait=off,abstract=on" % self.mon_name,
               "-mon", "chardev=mon,mode=readline"] + list(extra)
        # QEMU's own messages go to a file of the run: a pipe nobody reads
        # would block QEMU once it filled
        self.qemu_out = open(self.dir.file("qemu.out"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.qemu_out, stderr=subprocess.STDOUT)
        self.mon = None

    def serial(self):
        return read_log(self.serial_path)

    def wait_for(self, text, timeout=None, poll=0.05):
        """Wait until `text` appears on serial; False on timeout or exit."""
        end = time.time() + (timeout or self.timeout)
        while time.time() < end:
            if text in self.serial():
                return True
            if self.proc.poll() is not None:
                return text in self.serial()
            time.sleep(poll)
        return False

    def _monitor(self):
        if self.mon is None:
            for _ in range(100):
                try:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect("\0" + self.mon_name)
                    self.mon = s
                    break
                except OSError:
                    time.sleep(0.05)
            self._read_prompt()
        return self.mon

    def _read_prompt(self):
        buf = b""
        self.mon.settimeout(10)
        while not buf.endswith(b"(qemu) "):
            chunk = self.mon.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.decode("latin-1")

    def hmp(self, command):
        mon = self._monitor()
        mon.sendall(command.encode() + b"\n")
        out = self._read_prompt()
        # the monitor echoes the command line; keep what follows it
        lines = [l for l in re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out).split("\r\n")]
        return "\n".join(l for l in lines if l and not l.startswith("(qemu)")
                         and command not in l).strip()

    def gva2gpa(self, va):
        """QEMU's walk of the current CR3: physical address, or None if unmapped."""
        out = self.hmp("gva2gpa 0x%x" % va)
        m = re.search(r"gpa:\s*(0x[0-9a-fA-F]+|0)\b", out)   # printf %#x prints 0 as "0"
        return int(m.group(1), 0) if m else None

    def qemu_output(self):
        """What QEMU itself printed (errors, warnings)."""
        return read_log(self.dir.file("qemu.out"))

    def close(self):
        if self.mon:
            self.mon.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.qemu_out.close()
        self.dir.close()


def listening(port):
    """([loopback addresses], [other addresses]) of the listening TCP sockets
    on `port`, IPv4 and IPv6, from /proc/net/tcp{,6}: a server meant for this
    machine only has the first and not the second."""
    local, other = [], []
    for table, loopback in (("/proc/net/tcp", "0100007F"),
                            ("/proc/net/tcp6", "00000000000000000000000001000000")):
        try:
            with open(table) as f:
                rows = f.readlines()[1:]
        except OSError:
            continue
        for line in rows:
            fields = line.split()
            addr, hexport = fields[1].split(":")
            if int(hexport, 16) != port or fields[3] != "0A":      # 0A: TCP_LISTEN
                continue
            (local if addr == loopback else other).append("%s:%d" % (addr, port))
    return local, other


def free_port():
    """A TCP port nobody on this machine listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_log(path):
    """A serial log as text without carriage returns; "" until it exists."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("latin-1").replace("\r", "")
    except FileNotFoundError:
        return ""


def run_alone(run, *args):
    """For a check module run on its own: run(record, *args) with a record
    that prints PASS/FAIL lines, then "N passed, N failed" and the exit
    status, as make test would count them."""
    counts = {"pass": 0, "fail": 0}

    def record(ok, name, why=""):
        counts["pass" if ok else "fail"] += 1
        if not ok:
            record_failure()
        print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)), flush=True)
        return ok
    run(record, *args)
    print("%d passed, %d failed" % (counts["pass"], counts["fail"]))
    sys.exit(1 if counts["fail"] else 0)


FINAL_LINE = re.compile(r"^0x([0-9a-f]{16}) -> (?:0x([0-9a-f]{16})|unmapped)(.*)$")
# the header of each address-space block after the final translations
# (README, "Address-space blocks")
SPACE_HEADER = "pagelab: address space "
SPACE_LINE = re.compile(r"^pagelab: address space (\S+) cr3 0x([0-9a-f]{16})$")


def parse_lines(section):
    """[(va, pa or None, rest-of-line)] of translation lines; None if one
    is not one."""
    out = []
    for line in section.strip("\n").split("\n"):
        m = FINAL_LINE.match(line)
        if not m:
            return None
        out.append((int(m.group(1), 16), int(m.group(2), 16) if m.group(2) else None,
                    m.group(3).strip()))
    return out


def final_translations(serial):
    """[(va, pa or None, rest-of-line)] from the final-translations section
    (the kernel's own space: up to the first address-space block)."""
    if "pagelab: final translations" not in serial:
        return None
    section = serial.split("pagelab: final translations\n", 1)[1].split(HALTED, 1)[0]
    return parse_lines(section.split(SPACE_HEADER, 1)[0])


def address_spaces(serial):
    """[(name, cr3, [(va, pa or None, rest)])] of the address-space blocks
    between the final translations and "pagelab: halted"; None if a block
    is malformed (a bad header, a bad line, no line)."""
    if "pagelab: final translations" not in serial:
        return None
    section = serial.split("pagelab: final translations\n", 1)[1].split(HALTED, 1)[0]
    blocks = []
    for chunk in section.split("\n" + SPACE_HEADER)[1:]:
        header, _, body = (SPACE_HEADER + chunk).partition("\n")
        m = SPACE_LINE.match(header)
        lines = parse_lines(body) if body.strip() else None
        if not m or not lines:
            return None
        blocks.append((m.group(1), int(m.group(2), 16), lines))
    return blocks
