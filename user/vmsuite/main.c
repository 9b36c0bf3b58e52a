/*
 * main.c - vmsuite: each page fault the kernel resolves (kernel/proc/vm.h),
 * shown from user space with the counters vmstat keeps and the frames
 * translate reports, one case after the other in this one process (the
 * boot runs nothing else: tests/guest/vm.cfg). The cases:
 *   stack      the stack grows on faults down to its limit; the guard kills
 *   lazyheap   sbrk reserves, the first write of each page takes a frame
 *   zeropage   reads map the one zero frame; a write there takes a frame
 *   cow        fork shares frames read-only; a write copies or reuses
 *   shm-fork   a MAP_SHARED mapping is the same frames in parent and child
 *   shm-named  a named segment is the same frames in two processes
 *   shm-pages, shm-name, shm-count, regions: the limits, at, below, above
 * Also the helpers the cases share (vmsuite.h).
 */
#include "vmsuite.h"

int expect(struct verdict *v, int ok, const char *fmt, ...)
{
    if (!ok && !v->failed++) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->why, sizeof(v->why), fmt, ap);
        va_end(ap);
    }
    return ok;
}

int verdict(struct verdict *v, const char *fmt, ...)
{
    char summary[240];    /* with the case's name, within printf's 256 */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(summary, sizeof(summary), fmt, ap);
    va_end(ap);
    if (v->failed)
        printf("%s: FAIL: %s\n", v->name, v->why);
    else
        printf("%s: PASS: %s\n", v->name, summary);
    return !v->failed;
}

static uint64_t tables_general, tables_pool;

int frames_taken(const struct sys_vmstat *a, const struct sys_vmstat *b, uint64_t frames)
{
    uint64_t taken = a->free_frames - b->free_frames, tables = b->tables - a->tables;
    if (tables == 0)
        return taken == frames;
    if (taken == frames + tables) {
        tables_general += tables;       /* (mod 2^64: tables freed count negative) */
        return 1;
    }
    if (taken == frames) {
        tables_pool += tables;
        return 1;
    }
    return 0;
}

void tables_report(void)
{
    printf("vmsuite: page tables: %ld counted in free_frames, %ld not (the loader's pool)\n",
           (long)tables_general, (long)tables_pool);
}

int tlb_ok(const char *cas, const char *what, const struct sys_vmstat *a,
           const struct sys_vmstat *b)
{
    uint64_t inv = b->invlpgs - a->invlpgs, fl = b->flushes - a->flushes;
    printf("%s: tlb: %s: %lu invlpg, %lu flushes\n", cas, what, inv, fl);
    return inv >= 1 && fl == 0;
}

struct sys_vmstat vm_now(void)
{
    struct sys_vmstat s;
    long r = vmstat(&s);
    if (r < 0) {
        printf("vmsuite: vmstat: %s\n", sys_strerror(r));
        s = (struct sys_vmstat){ 0 };
    }
    /* The frame records' frames as free: the kernel maps a page of them
     * whenever a frame beyond the mapped ones is first handed out and
     * keeps it for good (kernel/mm/frame_meta.h), so the sum moves only
     * by what processes take, which is what the cases count. */
    s.free_frames += s.record_frames;
    return s;
}

long tr(const void *va, struct sys_translation *t)
{
    long r = translate(va, t);
    if (r < 0)
        *t = (struct sys_translation){ 0 };
    return r;
}

static void own(volatile char *c)
{
    *c = *c;
}

void own_pages(void)
{
    for (uint64_t p = USER_STACK_TOP - SUITE_STACK_PAGES * PAGE; p < USER_STACK_TOP; p += PAGE)
        own((volatile char *)p);
    own((volatile char *)&tables_general);     /* the one page of globals the suite writes */
    own((volatile char *)&tables_pool);
}

void touch_down(uint64_t from, uint64_t to)
{
    for (uint64_t p = from; p >= to; p -= PAGE)
        *(volatile char *)p = 0;
}

uint64_t rsp_page(void)
{
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp & ~(PAGE - 1);
}

int main(void)
{
    static int (*const cases[])(void) = {
        case_stack,     /* first: it leaves the stack deep enough for the rest */
        case_lazyheap, case_zeropage, case_cow, case_shm_fork, case_shm_named,
        case_shm_pages, case_shm_name, case_shm_count, case_regions,
    };
    unsigned n = sizeof(cases) / sizeof(cases[0]), failed = 0;
    printf("vmsuite: %u cases, each alone in this boot\n", n);
    for (unsigned i = 0; i < n; i++)
        failed += !cases[i]();
    tables_report();
    printf("vmsuite: %u cases, %u failed\n", n, failed);
    return (int)failed;
}
