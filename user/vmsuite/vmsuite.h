/*
 * vmsuite.h - what the cases of the virtual-memory suite share (user/
 * vmsuite/: main.c runs them in turn; each case is one file). Every case
 * prints exactly one result line, "<case>: PASS: <what it showed>" or
 * "<case>: FAIL: <the first thing that differed>", which tests/
 * vm_checks.py asserts by name.
 *
 * The counts are exact because the suite runs alone (tests/guest/vm.cfg):
 * free_frames moves only by what this process and its children do. Two
 * habits keep them exact inside a process too:
 *   - the stack case runs first and leaves the stack SUITE_STACK_PAGES
 *     deep, with a frame under every page, so that no later call grows it;
 *   - after a fork both sides' writable pages are copy-on-write, the
 *     stack's and the data page's too: own_pages() writes each of them
 *     once (a copy or a reuse) before a case measures, so only the pages
 *     it means to touch fault inside a measurement.
 */
#ifndef USER_VMSUITE_H
#define USER_VMSUITE_H

#include "pagelab.h"
#include "layout.h"

#define PAGE 4096UL
#define SUITE_STACK_PAGES 16UL
/* The lowest page the stack may grow to, and its guard just below. */
#define STACK_LOWEST (USER_STACK_TOP - USER_STACK_LIMIT)
#define STACK_GUARD  (STACK_LOWEST - PAGE)
/* wait's status for a process the kernel killed (PROC_KILLED_STATUS,
 * kernel/proc/proc.h) */
#define KILLED_STATUS (-1)

/* One case's verdict: the first thing that differed, if any. */
struct verdict {
    const char *name;
    int failed;
    char why[200];
};

/* Records a failure (the first one's text is kept) unless ok; returns ok. */
int expect(struct verdict *v, int ok, const char *fmt, ...) __attribute__((format(__printf__, 3, 4)));
/* Prints the case's one result line: PASS with the summary, or FAIL with
 * the first difference; returns 1 when it passed. */
int verdict(struct verdict *v, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

/* Whether free_frames fell by exactly `frames` from a to b, plus the page
 * tables the space gained meanwhile when those come from the general zone
 * (identity and table-offset take theirs from the loader's table pool:
 * then they do not count). Which of the two it was is added up for the
 * line tables_report prints, checked per strategy by tests/vm_checks.py. */
int frames_taken(const struct sys_vmstat *a, const struct sys_vmstat *b, uint64_t frames);
void tables_report(void);
/* The TLB work of one resolved fault, a to b: a line "<case>: tlb: <what>:
 * N invlpg, M flushes" (the exact N is the strategy's, tests/vm_checks.py);
 * here: at least the one INVLPG of the entry changed, no full flush. */
int tlb_ok(const char *cas, const char *what, const struct sys_vmstat *a,
           const struct sys_vmstat *b);

/* vmstat, or a zeroed record (and a line) if it failed; its free_frames
 * counts the frame records' frames as free (vmstat's record_frames). */
struct sys_vmstat vm_now(void);
/* translate: 0 and *t, or the negative error with *t zeroed. */
long tr(const void *va, struct sys_translation *t);
/* Writes every stack page [USER_STACK_TOP - SUITE_STACK_PAGES pages,
 * USER_STACK_TOP) and the page of frames_taken's totals (the only globals
 * the suite writes) back with their own bytes: the pages are this
 * process's own afterwards (after a fork: copied, or reused by the last
 * sharer), so no later write to them faults inside a measurement. */
void own_pages(void);
/* Writes a zero to the first byte of every page from `from` down to `to`
 * (both page addresses, from >= to): pages the caller does not use. */
void touch_down(uint64_t from, uint64_t to);
/* The stack pointer's page. */
uint64_t rsp_page(void);

int case_stack(void);
int case_lazyheap(void);
int case_zeropage(void);
int case_cow(void);
int case_shm_fork(void);
int case_shm_named(void);
int case_shm_pages(void);
int case_shm_name(void);
int case_shm_count(void);
int case_regions(void);

#endif
