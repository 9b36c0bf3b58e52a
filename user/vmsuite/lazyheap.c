/*
 * lazyheap.c - sbrk only reserves: 1 GiB of heap costs no frame. The first
 * write to each page is one page fault that the kernel resolves with a
 * fresh zeroed frame ("zero-fill"); a page never touched has no
 * translation at all; sbrk back gives every frame (and any page table the
 * pages needed) back.
 *
 * Every other page of the first 2 * TOUCHED is written, so that untouched
 * pages lie between touched ones.
 */
#include "vmsuite.h"

#define HEAP_BYTES (1UL << 30)
#define TOUCHED 64UL

int case_lazyheap(void)
{
    struct verdict v = { .name = "lazyheap" };
    own_pages();
    struct sys_vmstat s0 = vm_now();
    char *heap = sbrk((long)HEAP_BYTES);
    if (!expect(&v, !sys_failed(heap), "sbrk(1 GiB): %s", sys_strerror((long)heap)))
        return verdict(&v, "-");
    struct sys_vmstat s1 = vm_now();
    expect(&v, s1.frames == s0.frames && frames_taken(&s0, &s1, 0) && s1.tables == s0.tables,
           "sbrk(1 GiB) took frames: %lu mapped more, %lu free fewer", s1.frames - s0.frames,
           s0.free_frames - s1.free_frames);
    for (uint64_t i = 0; i < TOUCHED; i++)
        heap[2 * i * PAGE + i] = (char)(i + 1);
    struct sys_vmstat s2 = vm_now();
    uint64_t tables = s2.tables - s1.tables;
    expect(&v, s2.faults - s1.faults == TOUCHED && s2.zero_fills - s1.zero_fills == TOUCHED,
           "%lu pages written: %lu faults, %lu zero-fills", TOUCHED, s2.faults - s1.faults,
           s2.zero_fills - s1.zero_fills);
    expect(&v, s2.frames - s1.frames == TOUCHED && frames_taken(&s1, &s2, TOUCHED),
           "%lu pages written: %lu frames mapped, %lu free fewer"
           " (%lu of them tables)", TOUCHED, s2.frames - s1.frames,
           s1.free_frames - s2.free_frames, tables);
    expect(&v, s2.zero_maps == s1.zero_maps, "writes mapped the zero frame %lu times",
           s2.zero_maps - s1.zero_maps);
    struct sys_translation t;
    for (uint64_t i = 0; i < TOUCHED; i++) {
        char *p = heap + 2 * i * PAGE;
        expect(&v, tr(p, &t) == 0 && (t.prot & SYS_PROT_WRITE) && t.refs == 1 && !t.flags,
               "touched page %p: translate %s, prot %u, refs %u", p, t.size ? "ok" : "fails",
               t.prot, t.refs);
        expect(&v, p[i] == (char)(i + 1) && p[i + 1] == 0 && p[PAGE - 1] == 0,
               "touched page %p does not read back its byte and zeros", p);
        expect(&v, tr(p + PAGE, &t) == -SYS_EFAULT, "untouched page %p has a translation",
               p + PAGE);
    }
    expect(&v, tr(heap + HEAP_BYTES - PAGE, &t) == -SYS_EFAULT,
           "the heap's last page has a translation");
    struct sys_vmstat s3 = vm_now();
    expect(&v, s3.faults == s2.faults, "reading touched pages back faulted %lu times",
           s3.faults - s2.faults);
    sbrk(-(long)HEAP_BYTES);
    struct sys_vmstat s4 = vm_now();
    expect(&v, frames_taken(&s0, &s4, 0) && s4.frames == s0.frames &&
               s4.tables == s0.tables, "sbrk back: %ld frames still missing, %ld tables",
           (long)(s0.free_frames - s4.free_frames), (long)(s4.tables - s0.tables));
    return verdict(&v, "sbrk(1 GiB) took no frame; %lu pages touched, %lu faults, %lu"
                   " zero-fills, untouched pages have no frame; sbrk back freed %lu frames"
                   " and %lu tables", TOUCHED, TOUCHED, TOUCHED, TOUCHED, tables);
}
