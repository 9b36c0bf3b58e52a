#!/bin/sh
# deps.sh - check, and as root install, the Debian packages one make target
# needs. Usage: tools/deps.sh deps-<target>   (BOCHS_DISPLAY=x adds bochs-x)
#
# Each target asks for its own list only: `make run` needs no Bochs, `make
# bochs` no QEMU. As root the missing packages are installed with apt-get,
# its output kept in build/deps-apt.log; with password-less sudo through
# sudo; otherwise the exact command is printed and the target stops.
# `make ... NO_DEPS=1` skips this script altogether.
set -eu
# building any image: assembler, compilers, binutils (objcopy, nm), the FAT
# tools of disk/mkimage.py
build="make nasm gcc binutils python3 dosfstools mtools"
qemu="qemu-system-x86"
# bochsbios and vgabios: the BIOS ROMs bochsrc names; the bochs package has
# the rfb display pagelab runs headless
bochs="bochs bochsbios vgabios"
# clang + libclang-rt-14-dev: the host tests' sanitizers and the libFuzzer
# harnesses (tests/fuzz)
fuzz="clang libclang-rt-14-dev"
case "${1:-deps}" in
    deps-build) want="$build" ;;
    deps-run) want="$build $qemu" ;;
    deps-gdb) want="$build $qemu gdb" ;;
    deps-bochs)
        want="$build $bochs"
        [ "${BOCHS_DISPLAY:-rfb}" = x ] && want="$want bochs-x"   # the x display plugin
        ;;
    # make test: the host tests, QEMU boots, Bochs (headless), gdb
    deps-test) want="$build $qemu $fuzz $bochs gdb" ;;
    deps-fuzz) want="$build $fuzz" ;;
    # gnuplot: the PNG plots of `make bench`
    deps-bench) want="$build $qemu gnuplot-nox" ;;
    deps) want="$build $qemu $fuzz $bochs gdb gnuplot-nox" ;;
    *) echo "deps.sh: unknown target '$1'" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
else
    echo "pagelab: missing Debian packages:$missing"
    echo "pagelab: install them as root:  apt-get install -y$missing"
    echo "pagelab: (or run make with NO_DEPS=1 to skip this check)"
    exit 1
fi
mkdir -p build
log=build/deps-apt.log
echo "pagelab: installing Debian packages:$missing (apt-get; its output: $log)"
if $sudo apt-get update >"$log" 2>&1 &&
   $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >>"$log" 2>&1
then
    echo "pagelab: installed:$missing"
else
    echo "pagelab: apt-get failed; the end of $log:"
    tail -n 15 "$log"
    exit 1
fi
