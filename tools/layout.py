#!/usr/bin/env python3
"""layout.py - the constants of include/layout.h (and its sibling headers)
for the Python tools, the shell scripts and the Makefile: one parser, so no
number is typed twice.

  import layout; layout.constant("RAM_MIN")        -> 8388608
  python3 tools/layout.py RAM_MIN DEBUG_EXIT_PORT  -> one decimal per line

Only what the headers promise (include/layout.h says so) is read: one
#define per line of a decimal or hex integer, or of a string.
"""
import os
import re
import sys

INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include")
DEFINE = re.compile(r'#define\s+([A-Z0-9_]+)\s+("[^"]*"|0x[0-9A-Fa-f]+\b|\d+\b)')


def constants(path=os.path.join(INCLUDE, "layout.h")):
    """{name: int or str} of every plain #define in the header."""
    consts = {}
    with open(path) as f:
        for line in f:
            m = DEFINE.match(line)
            if m:
                v = m.group(2)
                consts[m.group(1)] = v.strip('"') if v.startswith('"') else int(v, 0)
    return consts


def constant(name, path=os.path.join(INCLUDE, "layout.h")):
    c = constants(path)
    if name not in c:
        raise SystemExit("layout.py: no %s in %s" % (name, path))
    return c[name]


def main():
    for name in sys.argv[1:]:
        print(constant(name))


if __name__ == "__main__":
    main()
