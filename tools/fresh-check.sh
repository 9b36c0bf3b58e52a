#!/bin/bash
# fresh-check.sh - prove the README's two commands on a Debian 12 that never
# had pagelab's packages. Run by hand (as root), not in every CI run: before
# saying an issue is resolved, and whenever a dependency, bochsrc, the
# Makefile or .ci/run changes.
#
#   tools/fresh-check.sh [--window] [--keep] [--rebuild-base]
#
# 1. debootstrap a minimal Debian 12 (bookworm, variant minbase) into
#    build/fresh/root, from the Debian mirror this machine's own apt sources
#    name (no archive host is written here), with those sources copied in.
#    The bare root is cached as build/fresh/base.tar (--rebuild-base: anew);
#    every run unpacks it into a new root, so no package from an earlier run
#    is there.
# 2. `git clone` this repository's committed HEAD (not the work tree) into
#    the root, and install `make`, the one thing the README asks for first.
# 3. In the root, as a user would, from the clone: `make run` (its output
#    watched until "pagelab: halted", then QEMU is stopped, as a user would
#    with Ctrl-A X) and `make test` (to its "N passed, N failed" line).
# 4. --window: also `make bochs BOCHS_DISPLAY=x` under Xvfb (the Bochs
#    window: bochs-x from make's own package check), continued through every
#    milestone to "pagelab: halted", with a screenshot of the X screen.
#
# Output: each step's log in build/fresh/logs/, and a summary ending in
# "fresh-check: make run booted: yes|no" and make test's closing line. The
# root is removed at the end (--keep: left in build/fresh/root). Exit 0 only
# if every step passed.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/build/fresh
root=$out/root
logs=$out/logs
window=0 keep=0 rebuild=0
for a in "$@"; do
    case "$a" in
        --window) window=1 ;;
        --keep) keep=1 ;;
        --rebuild-base) rebuild=1 ;;
        *) echo "usage: $0 [--window] [--keep] [--rebuild-base]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "fresh-check: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null ||
    { echo "fresh-check: installing debootstrap"; apt-get install -y -qq debootstrap >/dev/null; } ||
    { echo "fresh-check: cannot install debootstrap" >&2; exit 2; }

# the first bookworm "deb" URI of this machine's apt sources (deb822 or
# one-line format)
mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ && u {print u; exit}' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' "$f"
    done
}
url=$(mirror | head -n 1)
[ -n "$url" ] || { echo "fresh-check: no bookworm mirror in /etc/apt sources" >&2; exit 2; }

# every process whose root is the fresh root (make, QEMU, Bochs): only
# those, never this machine's own
kill_in_root() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -TERM "${p#/proc/}" 2>/dev/null
    done
    sleep 1
}
mounted=()
cleanup() {
    kill_in_root
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null; done
    mounted=()
    [ "$keep" = 1 ] || rm -rf "$root"
}
trap cleanup EXIT
mkdir -p "$out" "$logs"
rm -rf "$root" "$logs"/*

if [ "$rebuild" = 1 ] || [ ! -f "$out/base.tar" ]; then
    echo "fresh-check: debootstrap bookworm (minbase) into $root"
    debootstrap --variant=minbase bookworm "$root" "$url" >"$logs/debootstrap.log" 2>&1 ||
        { echo "fresh-check: debootstrap failed:"; tail -n 20 "$logs/debootstrap.log"; exit 1; }
    tar -C "$root" -cf "$out/base.tar" .
else
    echo "fresh-check: a new root from the cached bare debootstrap ($out/base.tar)"
    mkdir -p "$root" && tar -C "$root" -xf "$out/base.tar"
fi

# this machine's apt sources and name resolution, so that apt in the root
# reaches the same archive
rm -f "$root"/etc/apt/sources.list
mkdir -p "$root"/etc/apt/sources.list.d
cp /etc/apt/sources.list.d/*.sources "$root"/etc/apt/sources.list.d/ 2>/dev/null
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root"/etc/apt/
cp /etc/resolv.conf "$root"/etc/resolv.conf
for m in proc sys dev dev/pts; do
    mkdir -p "$root/$m"
    mount --bind "/$m" "$root/$m" && mounted+=("$root/$m")
done
mount -t tmpfs tmpfs "$root/tmp" && mounted+=("$root/tmp")

echo "fresh-check: a clean clone of $(git -C "$here" rev-parse --short HEAD) into /pagelab"
git clone -q --no-local "$here" "$root/pagelab" || exit 1
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                LANG=C.UTF-8 TERM=dumb bash -c "cd /pagelab && $1"; }
echo "fresh-check: apt-get install make (the README's one prerequisite)"
in_root "apt-get update -qq && apt-get install -y -qq make" >"$logs/make-install.log" 2>&1 ||
    { echo "fresh-check: installing make failed:"; tail "$logs/make-install.log"; exit 1; }

# make run: the boot never ends by itself (the CPU halts with its tables
# live), so the output is watched for the halt, then make and QEMU stopped.
echo "fresh-check: make run"
in_root "exec setsid make run </dev/null" >"$logs/make-run.log" 2>&1 &
run_pid=$!
booted=no
for _ in $(seq 1 1800); do        # 30 minutes: make run also installs its packages
    if grep -q "^pagelab: halted" "$logs/make-run.log"; then booted=yes; break; fi
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 1
done
kill_in_root
wait "$run_pid" 2>/dev/null

echo "fresh-check: make test"
in_root "make test </dev/null" >"$logs/make-test.log" 2>&1
test_status=$?
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/make-test.log" | tail -n 1)

window_ok=skipped
if [ "$window" = 1 ]; then
    echo "fresh-check: make bochs BOCHS_DISPLAY=x under Xvfb"
    # the debugger reads its commands from make's stdin: one `c` per
    # milestone, queued at once; once serial shows the halt, a screenshot
    # of the X screen (the Bochs window), then `quit`
    in_root "apt-get install -y -qq xvfb xauth x11-apps >/dev/null 2>&1 &&
             timeout 600 xvfb-run -a -s '-screen 0 1024x768x24' bash -c '
                 { for i in \$(seq 10); do echo c; done
                   for i in \$(seq 300); do
                       grep -q \"^pagelab: halted\" build/bochs-serial.log 2>/dev/null && break
                       sleep 1
                   done
                   sleep 2; xwd -root -silent > build/bochs-window.xwd; echo quit; } |
                 make bochs BOCHS_DISPLAY=x'" >"$logs/make-bochs-x.log" 2>&1
    if grep -q "^pagelab: halted" "$root/pagelab/build/bochs-serial.log" 2>/dev/null &&
       ! grep -qiE "panic|unknown x11 option" "$logs/make-bochs-x.log"; then
        window_ok=yes
    else
        window_ok=no
    fi
    cp "$root/pagelab/build/bochs-window.xwd" "$logs/" 2>/dev/null
fi

echo "fresh-check: logs in $logs"
echo "fresh-check: make run booted: $booted"
[ "$window" = 1 ] && echo "fresh-check: make bochs BOCHS_DISPLAY=x reached halted: $window_ok"
echo "fresh-check: make test (exit status $test_status): ${counts:-no closing line}"
[ "$booted" = yes ] && [ "$test_status" = 0 ] && [ "$window_ok" != no ]
