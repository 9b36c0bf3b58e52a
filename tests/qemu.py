"""qemu.py - boot a pagelab image under QEMU and talk to its monitor.

Used by tests/run_tests.py (and later the benchmark). The guest's serial
port goes to a file; the HMP monitor listens on a Unix socket so that the
test can ask QEMU's own page walker (`gva2gpa`) about addresses while the
guest sits halted with its page tables live.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HALTED = "pagelab: halted"


class Boot:
    """One QEMU run: start(), wait_for(text), gva2gpa(va), close()."""

    def __init__(self, image, mem="512M", cpu="max", extra=(), accel="tcg", timeout=60):
        extra = list(extra)
        if "-accel" in extra:           # the caller picks the accelerator
            i = extra.index("-accel")
            accel = extra[i + 1]
            del extra[i:i + 2]
        self.tmp = tempfile.mkdtemp(prefix="pagelab-")
        self.serial_path = os.path.join(self.tmp, "serial.log")
        self.mon_path = os.path.join(self.tmp, "monitor.sock")
        self.timeout = timeout
        cmd = ["qemu-system-x86_64", "-accel", accel, "-m", mem, "-cpu", cpu,
               "-drive", "file=%s,format=raw,if=ide,snapshot=on" % image,
               "-display", "none", "-no-reboot", "-no-shutdown",
               "-serial", "file:" + self.serial_path,
               "-monitor", "unix:%s,server,nowait" % self.mon_path] + list(extra)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
                    s.connect(self.mon_path)
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

    def close(self):
        if self.mon:
            self.mon.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


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
        print(("PASS: %s" % name) if ok else ("FAIL: %s: %s" % (name, why)), flush=True)
        return ok
    run(record, *args)
    print("%d passed, %d failed" % (counts["pass"], counts["fail"]))
    sys.exit(1 if counts["fail"] else 0)


FINAL_LINE = re.compile(r"^0x([0-9a-f]{16}) -> (?:0x([0-9a-f]{16})|unmapped)(.*)$")


def final_translations(serial):
    """[(va, pa or None, rest-of-line)] from the final-translations section."""
    if "pagelab: final translations" not in serial:
        return None
    section = serial.split("pagelab: final translations\n", 1)[1].split(HALTED, 1)[0]
    out = []
    for line in section.strip("\n").split("\n"):
        m = FINAL_LINE.match(line)
        if not m:
            return None
        out.append((int(m.group(1), 16), int(m.group(2), 16) if m.group(2) else None,
                    m.group(3).strip()))
    return out
