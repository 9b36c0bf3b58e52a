#!/bin/sh
# run_fuzz.sh SECONDS FUZZER... - run libFuzzer harnesses (tests/fuzz/fuzz.mk).
#
# For each build/fuzz/fuzz_<name>: replay every input in
# tests/fuzz/regress/<name>/ (crashes found before, fixed since), then
# fuzz for SECONDS from the seeds in tests/fuzz/corpus/<name>/ (plus the
# compiled ones fuzz.mk puts in build/fuzz/seeds/<name>/), writing new
# inputs to build/fuzz/corpus/<name>/ (tests/ is never modified) and a
# crashing input to build/fuzz/crashes/<name>/. One line per step,
# "PASS: fuzz/<name>: ..." or "FAIL: fuzz/<name>: ...", as
# tests/run_tests.py counts them. Exit status 1 if any step failed.
set -u
seconds=$1
shift
status=0
for bin in "$@"; do
    name=${bin##*/fuzz_}
    regress=tests/fuzz/regress/$name
    seeds=tests/fuzz/corpus/$name
    built=build/fuzz/seeds/$name
    work=build/fuzz/corpus/$name
    crashes=build/fuzz/crashes/$name
    log=build/fuzz/$name.log
    mkdir -p "$work" "$crashes"
    if [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
        n=$(ls "$regress" | wc -l)
        if "$bin" "$regress"/* > "$log" 2>&1; then
            echo "PASS: fuzz/$name: $n regression inputs replay cleanly"
        else
            echo "FAIL: fuzz/$name: a regression input fails again: see $log"
            status=1
        fi
    fi
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" "$seeds" $( [ -d "$built" ] && echo "$built" ) \
        > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "PASS: fuzz/$name: ${execs:-?} inputs in ${seconds} s, no crash, no hang"
    else
        crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
        echo "FAIL: fuzz/$name: crash after ${execs:-?} inputs: ${crash:-see $log}"
        status=1
    fi
done
exit $status
