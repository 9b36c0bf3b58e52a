/*
 * stack.c - the stack grows on page faults, down to USER_STACK_LIMIT below
 * USER_STACK_TOP (include/layout.h); the page below that limit is a guard
 * and touching it kills the process.
 *
 * A program starts with one stack page (the kernel's contract, vm.h). This
 * process walks its stack down to SUITE_STACK_PAGES pages: stack_pages
 * must then say it grew by SUITE_STACK_PAGES - 1. Three children (fork:
 * each inherits that 16-page region) walk on, one page at a time, with
 * plain writes far below their RSP (the kernel does not compare a fault's
 * address with RSP, so no deep recursion is needed):
 *   - to the lowest page of the limit: it grew by exactly the pages
 *     between the region's bottom and there, and lives;
 *   - to one page above that: one page fewer, and lives;
 *   - to the lowest page and then the guard: killed, wait says -1, and the
 *     kernel prints its line naming the guard's address.
 */
#include "vmsuite.h"

/* Pages from the inherited region's bottom (exclusive) down to `lowest`. */
static uint64_t pages_below_region(uint64_t lowest)
{
    return (USER_STACK_TOP - SUITE_STACK_PAGES * PAGE - lowest) / PAGE;
}

/* A child's walk down to `lowest`: exit 0 if the counters and the
 * translations agree, otherwise the number of the first check that did
 * not (and a line saying what). */
static int walk_child(uint64_t lowest, int then_guard)
{
    yield();            /* the parent reaches wait first: it allocates nothing meanwhile */
    own_pages();
    uint64_t want = pages_below_region(lowest);
    struct sys_vmstat a = vm_now();
    touch_down(USER_STACK_TOP - (SUITE_STACK_PAGES + 1) * PAGE, lowest);
    struct sys_vmstat b = vm_now();
    struct sys_translation t;
    int bad = b.stack_pages - a.stack_pages != want ? 1
            : b.faults - a.faults != want ? 2
            : b.zero_fills - a.zero_fills != want ? 3
            : !frames_taken(&a, &b, want) ? 4
            : tr((void *)lowest, &t) < 0 || !(t.prot & SYS_PROT_WRITE) ? 5
            : tr((void *)(lowest - PAGE), &t) != -SYS_EFAULT ? 6 : 0;
    if (bad)
        printf("stack: child: check %d: grew %lu pages (want %lu), %lu faults, %lu zero-fills,"
               " %lu frames taken, %lu tables\n", bad, b.stack_pages - a.stack_pages, want,
               b.faults - a.faults, b.zero_fills - a.zero_fills, a.free_frames - b.free_frames,
               b.tables - a.tables);
    if (then_guard) {
        printf("stack: child pid %ld writes the guard page 0x%lx next\n", getpid(),
               (unsigned long)STACK_GUARD);
        *(volatile char *)STACK_GUARD = 0;
        printf("stack: child: BROKEN: the guard page took the write\n");
        return 100;
    }
    return bad;
}

/* Forks a walker and waits for it: its exit status. */
static int run_walker(uint64_t lowest, int then_guard)
{
    long pid = fork();
    if (pid == 0)
        exit(walk_child(lowest, then_guard));
    own_pages();
    int status = 99;
    if (pid < 0 || wait(pid, &status) != pid)
        return 98;
    return status;
}

int case_stack(void)
{
    struct verdict v = { .name = "stack" };
    uint64_t bottom = USER_STACK_TOP - SUITE_STACK_PAGES * PAGE;
    touch_down(rsp_page() - PAGE, bottom);
    struct sys_vmstat s = vm_now();
    expect(&v, s.stack_pages == SUITE_STACK_PAGES - 1,
           "walked to %lu pages, but stack_pages says it grew by %lu (want %lu)",
           SUITE_STACK_PAGES, s.stack_pages, SUITE_STACK_PAGES - 1);
    int st = run_walker(STACK_LOWEST, 0);
    expect(&v, st == 0, "the child reaching the lowest page 0x%lx: status %d (want 0)",
           (unsigned long)STACK_LOWEST, st);
    st = run_walker(STACK_LOWEST + PAGE, 0);
    expect(&v, st == 0, "the child stopping one page above it: status %d (want 0)", st);
    st = run_walker(STACK_LOWEST, 1);
    expect(&v, st == KILLED_STATUS, "the child touching the guard 0x%lx: status %d (want %d)",
           (unsigned long)STACK_GUARD, st, KILLED_STATUS);
    struct sys_translation t;
    expect(&v, tr((void *)(bottom - PAGE), &t) == -SYS_EFAULT,
           "the children's pages show up in the parent at 0x%lx", bottom - PAGE);
    return verdict(&v, "grew to %lu pages; a child grew it %lu pages more to the limit's"
                   " lowest page 0x%lx, one %lu pages, one touching the guard 0x%lx was killed"
                   " (status %d)", SUITE_STACK_PAGES, pages_below_region(STACK_LOWEST),
                   (unsigned long)STACK_LOWEST, pages_below_region(STACK_LOWEST + PAGE),
                   (unsigned long)STACK_GUARD, KILLED_STATUS);
}
