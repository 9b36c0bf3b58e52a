/*
 * zeropage.c - reading memory nobody wrote maps the one shared zero frame,
 * read-only, whatever the mapping allows: N pages read cost no frame
 * (only the page tables of the first mapping in PML4 slot 32,
 * USER_MMAP_BASE: a PDPT, a PD and a PT). The first write to one of them
 * faults again (present, read-only) and the kernel swaps in a fresh zeroed
 * frame of its own, writable: one zero-fill, one INVLPG (a present entry
 * changed, SDM Vol. 3A 4.10.4.1). The other pages stay the zero frame.
 */
#include "vmsuite.h"

#define PAGES 16UL
#define WRITTEN 5UL             /* the page written */
#define OFFSET 100UL            /* where in it */
#define SLOT_TABLES 3UL         /* PDPT + PD + PT under a PML4 slot nothing used yet */

int case_zeropage(void)
{
    struct verdict v = { .name = "zeropage" };
    own_pages();
    struct sys_vmstat s0 = vm_now();
    volatile char *m = mmap(0, PAGES * PAGE, SYS_PROT_WRITE, 0);
    if (!expect(&v, !sys_failed((void *)m), "mmap: %s", sys_strerror((long)m)))
        return verdict(&v, "-");
    unsigned sum = 0;
    for (uint64_t i = 0; i < PAGES; i++)
        sum += (unsigned char)m[i * PAGE] + (unsigned char)m[i * PAGE + PAGE - 1];
    struct sys_vmstat s1 = vm_now();
    expect(&v, sum == 0, "never-written pages read %u", sum);
    expect(&v, s1.faults - s0.faults == PAGES && s1.zero_maps - s0.zero_maps == PAGES &&
               s1.zero_fills == s0.zero_fills, "%lu pages read: %lu faults, %lu zero-maps,"
           " %lu zero-fills", PAGES, s1.faults - s0.faults, s1.zero_maps - s0.zero_maps,
           s1.zero_fills - s0.zero_fills);
    expect(&v, s1.tables - s0.tables == SLOT_TABLES && frames_taken(&s0, &s1, 0),
           "reads took %lu frames, %lu tables (want %lu tables, no frame)",
           s0.free_frames - s1.free_frames, s1.tables - s0.tables, SLOT_TABLES);
    struct sys_translation t, z, own;
    tr((const void *)m, &z);
    for (uint64_t i = 0; i < PAGES; i++)
        expect(&v, tr((const void *)(m + i * PAGE), &t) == 0 && t.frame == z.frame &&
                   (t.flags & SYS_TR_ZERO_FRAME) && !(t.prot & SYS_PROT_WRITE) && t.refs == 0,
               "page %lu: frame 0x%lx (page 0: 0x%lx), flags %u, prot %u, refs %u", i,
               t.frame, z.frame, t.flags, t.prot, t.refs);
    volatile char *w = m + WRITTEN * PAGE;
    w[OFFSET] = 'z';
    struct sys_vmstat s2 = vm_now();
    expect(&v, s2.faults - s1.faults == 1 && s2.zero_fills - s1.zero_fills == 1 &&
               s2.zero_maps == s1.zero_maps && s2.cow_copies == s1.cow_copies,
           "the write: %lu faults, %lu zero-fills, %lu zero-maps, %lu cow-copies",
           s2.faults - s1.faults, s2.zero_fills - s1.zero_fills, s2.zero_maps - s1.zero_maps,
           s2.cow_copies - s1.cow_copies);
    expect(&v, s1.free_frames - s2.free_frames == 1 && s2.tables == s1.tables,
           "the write: %lu frames taken, %lu tables (want 1, 0)",
           s1.free_frames - s2.free_frames, s2.tables - s1.tables);
    expect(&v, tlb_ok(v.name, "the write over the zero frame (zero-fill)", &s1, &s2),
           "the write: %lu invlpgs, %lu flushes (want at least 1, 0)", s2.invlpgs - s1.invlpgs,
           s2.flushes - s1.flushes);
    expect(&v, tr((const void *)w, &own) == 0 && own.frame != z.frame && !own.flags &&
               (own.prot & SYS_PROT_WRITE) && own.refs == 1, "the written page: frame 0x%lx"
           " (zero frame 0x%lx), flags %u, prot %u, refs %u", own.frame, z.frame, own.flags,
           own.prot, own.refs);
    unsigned nonzero = 0;
    for (uint64_t b = 0; b < PAGE; b++)
        nonzero += b != OFFSET && w[b] != 0;
    expect(&v, w[OFFSET] == 'z' && nonzero == 0, "the written page reads '%c' and %u other"
           " non-zero bytes", w[OFFSET], nonzero);
    for (uint64_t i = 0; i < PAGES; i++)
        expect(&v, i == WRITTEN || (tr((const void *)(m + i * PAGE), &t) == 0 &&
                                    t.frame == z.frame && (t.flags & SYS_TR_ZERO_FRAME)),
               "page %lu left the zero frame after page %lu's write", i, WRITTEN);
    munmap((void *)m, PAGES * PAGE);
    struct sys_vmstat s3 = vm_now();
    expect(&v, frames_taken(&s0, &s3, 0) && s3.tables == s0.tables,
           "munmap: %ld frames still missing, %ld tables", (long)(s0.free_frames -
           s3.free_frames), (long)(s3.tables - s0.tables));
    return verdict(&v, "%lu pages read: one zero frame 0x%lx, read-only, %lu zero-maps, no"
                   " frame; a write: 1 zero-fill, its own frame 0x%lx, the rest still zero",
                   PAGES, z.frame, PAGES, own.frame);
}
