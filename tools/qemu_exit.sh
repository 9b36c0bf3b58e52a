#!/bin/sh
# qemu_exit.sh QEMU-COMMAND... - run QEMU with pagelab's isa-debug-exit
# device (`make run EXIT=1`) and turn its exit status into a plain one.
# The loader and kernel write DEBUG_EXIT_HALTED or DEBUG_EXIT_STOPPED
# (include/layout.h) to the device when the boot ends; QEMU then exits with
# 2v+1. Status: 0 after "pagelab: halted", 1 after a named error, QEMU's
# own status for anything else (it could not start, Ctrl-A X).
here=$(cd "$(dirname "$0")/.." && pwd)
halted=$(( 2 * $(python3 "$here/tools/layout.py" DEBUG_EXIT_HALTED) + 1 ))
stopped=$(( 2 * $(python3 "$here/tools/layout.py" DEBUG_EXIT_STOPPED) + 1 ))
"$@"
status=$?
if [ "$status" -eq "$halted" ]; then
    exit 0
elif [ "$status" -eq "$stopped" ]; then
    echo "pagelab: the boot stopped with an error (see above)" >&2
    exit 1
fi
exit "$status"
