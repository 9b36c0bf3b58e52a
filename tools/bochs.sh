#!/bin/bash
# bochs.sh - start Bochs the one way pagelab does (`make bochs`, the tests).
# Usage: tools/bochs.sh BOCHS-ARGUMENTS...   (e.g. -q -f bochsrc 'ata0-master: ...')
#
#   - The display: BOCHS_DISPLAY=rfb (default: headless, the VGA screen on a
#     VNC port of 127.0.0.1, no client awaited) or x (a window; Debian's
#     bochs-x, an X display). rfb's `timeout=0` option would carry over to a
#     later display_library line (Bochs keeps options it is not given again),
#     so the x line clears them.
#   - VNC bound to 127.0.0.1: Bochs's rfb display binds every interface and
#     has no option for that; build/tools/bind_local.so (tools/bind_local.c,
#     built by the Makefile) is preloaded to bind the loopback address only.
#   - Start-up noise: before Bochs reads bochsrc (where `info: action=ignore`
#     takes effect) it prints every plugin it loads, in its log format, on
#     stderr; those lines, and the notice that a disk given on the command
#     line has its geometry detected, are dropped. Everything else on stderr
#     (the guest's port 0xE9 output, errors) passes through, line by line.
# Exit status: Bochs's.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
shim=$here/build/tools/bind_local.so
if [ ! -f "$shim" ]; then
    echo "pagelab: $shim is missing: run 'make build/tools/bind_local.so'" >&2
    exit 2
fi
case "${BOCHS_DISPLAY:-rfb}" in
    rfb) display=() ;;   # bochsrc's own display line
    x)
        if [ -z "${DISPLAY:-}" ]; then
            echo "pagelab: BOCHS_DISPLAY=x needs an X display (\$DISPLAY is not set)" >&2
            exit 2
        fi
        display=('display_library: x, options=""') ;;
    *)
        echo "pagelab: unknown BOCHS_DISPLAY '${BOCHS_DISPLAY}': choose rfb (headless) or x" >&2
        exit 2 ;;
esac
# Only stderr goes through the filter: stdin and stdout stay the terminal,
# so the debugger's prompt and line editing work as without it. Ctrl-C
# reaches every process of the terminal's group: Bochs takes it as "stop
# and enter the debugger", so the filter must ignore it (an ignored signal
# stays ignored across exec), or Bochs would lose its stderr.
{ LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}" bochs "$@" ${display[@]+"${display[@]}"} 2>&1 1>&3 3>&- |
      (trap '' INT; exec sed -u -E -e '/^[0-9]{11}i\[/d' \
                              -e '/ataX-master\/slave CHS set to 0\/0\/0/d') 1>&2 3>&-
  exit "${PIPESTATUS[0]}"; } 3>&1
