#!/usr/bin/env python3
"""layout.py - the constants of include/layout.h, pmm_meta.h, pte.h and x86.h for
the Python tools, the tests, the shell scripts and the Makefile: one parser,
so no number is typed twice.

  import layout; layout.constant("RAM_MIN")        -> 8388608
  layout.constant("PMM_MAX_PHYS")                  -> an expression, evaluated
  python3 tools/layout.py RAM_MIN DEBUG_EXIT_PORT  -> one decimal per line

A constant is a '#define NAME value' line: a string, or an integer
expression of literals (C suffixes such as ULL dropped) and other constants.
"""
import functools
import os
import re
import sys

INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include")
HEADERS = [os.path.join(INCLUDE, h) for h in ("layout.h", "pmm_meta.h", "pte.h", "x86.h",
                                                        "bootinfo.h")]
DEFINE = re.compile(r"^#define[ \t]+([A-Z0-9_]+)[ \t]+([^\n]*?)[ \t]*(?:/\*.*)?$", re.M)


@functools.lru_cache(maxsize=None)
def defines(paths=tuple(HEADERS)):
    """{name: text} of every object-like #define in the headers."""
    defs = {}
    for path in paths:
        with open(path) as f:
            for name, text in DEFINE.findall(f.read()):
                defs[name] = text
    return defs


@functools.lru_cache(maxsize=None)
def constant(name):
    """A constant's value: a str for a string, else the integer expression
    evaluated, other constants substituted."""
    text = defines().get(name)
    if text is None:
        raise SystemExit("layout.py: no constant %s in %s" % (name, ", ".join(HEADERS)))
    if text.startswith('"'):
        return text.strip('"')
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", text)
    expr = re.sub(r"\b[A-Z_][A-Z0-9_]*\b", lambda m: str(constant(m.group(0))), expr)
    return eval(expr, {"__builtins__": {}})


def constants(path=None):
    """{name: value} of every constant of one header (default: layout.h)
    that is a string or an integer."""
    out = {}
    for name in defines((path,) if path else tuple(HEADERS[:1])):
        try:
            out[name] = constant(name)
        except (SyntaxError, NameError, TypeError, SystemExit):
            pass                 # a macro with arguments or a type: not a constant
    return out


def main():
    for name in sys.argv[1:]:
        print(constant(name))


if __name__ == "__main__":
    main()
