/*
 * procs.h - the in-guest process test (tests/guest/procs.c), run by the
 * selftest variant in every strategy's test kernel.
 */
#ifndef GUEST_PROCS_H
#define GUEST_PROCS_H

#include "bootinfo.h"

/* Runs the isolation demos (user/iso_*.c), vmprobe and hello as
 * processes until all have exited or been killed, and checks that the
 * frame allocator then has exactly the free frames it had before; then the
 * kernel-side half of isolation: with a user page live, SMEP refuses ring
 * 0 a fetch from it and SMAP a read without STAC (skipped by name where
 * the CPU lacks them). Prints "PASS:/FAIL:/SKIP: guest/<strategy>: procs:"
 * lines; the demos' own lines are checked by tests/proc_checks.py. */
void procs_run(const struct boot_info *bi);

#endif
