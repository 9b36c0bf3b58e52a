#!/bin/sh
# deps.sh - install the Debian packages a make target needs, if missing.
# Usage: tools/deps.sh deps|deps-build|deps-run|deps-test|deps-bench
# As root it runs apt-get itself; otherwise it prints the exact command.
set -eu
build="nasm gcc binutils make python3 dosfstools mtools"
run="$build qemu-system-x86 bochs bochsbios vgabios bochs-x gdb"
# clang + libclang-rt-14-dev: the libFuzzer harnesses (tests/fuzz)
# bochs, its BIOSes and gdb: tests/bochs_check.py and tests/gdb_check.py
test_pkgs="$build qemu-system-x86 clang libclang-rt-14-dev bochs bochsbios vgabios gdb"
# gnuplot: the PNG plots of `make bench`
bench_pkgs="$build qemu-system-x86 gnuplot-nox"
case "${1:-deps}" in
    deps-build) want=$build ;;
    deps-run) want=$run ;;
    deps-test) want=$test_pkgs ;;
    deps-bench) want=$bench_pkgs ;;
    *) want="$run $test_pkgs gnuplot-nox" ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "pagelab: missing Debian packages:$missing"
if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
    echo "pagelab: run as root:  apt-get install -y$missing"
    exit 1
fi
