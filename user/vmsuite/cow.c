/*
 * cow.c - fork copies no page: parent and child map the same frames,
 * read-only in both, each frame with two references (one per leaf,
 * kernel/mm/frame_meta.h). The first write to such a page faults; the
 * kernel copies the frame for the writer ("cow-copy": one frame, one
 * INVLPG for the entry it changed, no full flush); the old frame keeps
 * one reference, the other process's, and its old value. When the child has
 * gone, the parent's write finds itself the frame's last user and only
 * makes the page writable again ("cow-reuse": no frame, one INVLPG).
 * A page that was the zero frame before fork stays the zero frame in both;
 * a write there is a zero-fill, not a copy.
 */
#include "vmsuite.h"

#define PAGES 8UL

/* The child's side: 0, or the number of the first check that failed. */
static int child(volatile char *heap, const struct sys_translation *before, volatile char *zp,
                 uint64_t zero_frame)
{
    yield();            /* the parent reaches wait first: it allocates nothing meanwhile */
    own_pages();
    struct sys_translation t;
    for (uint64_t i = 0; i < PAGES; i++)
        if (tr((const void *)(heap + i * PAGE), &t) < 0 || t.frame != before[i].frame ||
            (t.prot & SYS_PROT_WRITE) || t.refs != 2)
            return 1;
    if (tr((const void *)zp, &t) < 0 || t.frame != zero_frame || !(t.flags & SYS_TR_ZERO_FRAME))
        return 2;
    struct sys_vmstat a = vm_now();
    heap[0] = 'c';
    struct sys_vmstat b = vm_now();
    if (!frames_taken(&a, &b, 1))
        return 3;
    if (b.cow_copies - a.cow_copies != 1 || b.faults - a.faults != 1 ||
        b.cow_reuses != a.cow_reuses)
        return 4;
    if (!tlb_ok("cow", "the child's write (cow-copy)", &a, &b))
        return 5;
    if (tr((const void *)heap, &t) < 0 || t.frame == before[0].frame ||
        !(t.prot & SYS_PROT_WRITE) || t.refs != 1)
        return 6;
    if (heap[0] != 'c' || heap[1] != 0 || heap[PAGE] != 'B')
        return 7;                   /* the copy kept the rest of the page */
    if (tr((const void *)(heap + PAGE), &t) < 0 || t.refs != 2)
        return 8;                   /* the pages not written are still shared */
    a = vm_now();
    zp[0] = 1;
    b = vm_now();
    if (b.zero_fills - a.zero_fills != 1 || b.cow_copies != a.cow_copies)
        return 9;
    return 0;
}

int case_cow(void)
{
    struct verdict v = { .name = "cow" };
    own_pages();
    volatile char *heap = sbrk((long)(PAGES * PAGE));
    volatile char *zp = mmap(0, PAGE, SYS_PROT_WRITE, 0);
    if (!expect(&v, !sys_failed((void *)heap) && !sys_failed((void *)zp), "sbrk or mmap failed"))
        return verdict(&v, "-");
    struct sys_translation before[PAGES], t, z;
    for (uint64_t i = 0; i < PAGES; i++) {
        heap[i * PAGE] = (char)('A' + i);
        tr((const void *)(heap + i * PAGE), &before[i]);
    }
    (void)zp[0];                    /* a read: the zero frame */
    tr((const void *)zp, &z);
    expect(&v, (z.flags & SYS_TR_ZERO_FRAME) != 0, "the page read before fork is not the zero"
           " frame");
    long pid = fork();
    if (pid == 0)
        exit(child(heap, before, zp, z.frame));
    if (!expect(&v, pid > 0, "fork: %s", sys_strerror(pid)))
        return verdict(&v, "-");
    own_pages();
    for (uint64_t i = 0; i < PAGES; i++)
        expect(&v, tr((const void *)(heap + i * PAGE), &t) == 0 && t.frame == before[i].frame &&
                   !(t.prot & SYS_PROT_WRITE), "parent after fork: page %lu frame 0x%lx (was"
               " 0x%lx), prot %u", i, t.frame, before[i].frame, t.prot);
    int status = -2;
    long waited = wait(pid, &status);
    expect(&v, waited == pid && status == 0, "wait: %ld (%s), the child's check %d failed (1 same frames, refs 2; 2 zero frame; 3-5 its write:"
           " a frame, a cow-copy, an invlpg; 6-8 its own frame and content; 9 zero-fill)",
           waited, waited < 0 ? sys_strerror(waited) : "its pid", status);
    expect(&v, heap[0] == 'A', "the parent reads '%c' after the child wrote 'c'", heap[0]);
    expect(&v, tr((const void *)heap, &t) == 0 && t.frame == before[0].frame &&
               !(t.prot & SYS_PROT_WRITE) && t.refs == 1, "after the child: frame 0x%lx (was"
           " 0x%lx), prot %u, refs %u (want read-only, 1)", t.frame, before[0].frame, t.prot,
           t.refs);
    expect(&v, tr((const void *)zp, &t) == 0 && t.frame == z.frame, "the zero page moved");
    struct sys_vmstat a = vm_now();
    heap[0] = 'P';
    struct sys_vmstat b = vm_now();
    expect(&v, b.cow_reuses - a.cow_reuses == 1 && b.cow_copies == a.cow_copies &&
               b.faults - a.faults == 1 && b.free_frames == a.free_frames,
           "the parent's write: %lu reuses, %lu copies, %lu faults, %ld frames taken",
           b.cow_reuses - a.cow_reuses, b.cow_copies - a.cow_copies, b.faults - a.faults,
           (long)(a.free_frames - b.free_frames));
    expect(&v, tlb_ok(v.name, "the parent's write (cow-reuse)", &a, &b), "the parent's write:"
           " %lu invlpgs, %lu flushes (want at least 1, 0)", b.invlpgs - a.invlpgs,
           b.flushes - a.flushes);
    expect(&v, tr((const void *)heap, &t) == 0 && t.frame == before[0].frame &&
               (t.prot & SYS_PROT_WRITE) && t.refs == 1, "after the reuse: frame 0x%lx (was"
           " 0x%lx), prot %u, refs %u", t.frame, before[0].frame, t.prot, t.refs);
    munmap((void *)zp, PAGE);
    sbrk(-(long)(PAGES * PAGE));
    return verdict(&v, "%lu pages shared after fork (same frames, read-only, refs 2); child's"
                   " write: 1 cow-copy, 1 frame, 1 invlpg, parent kept 'A'; parent's write"
                   " after: 1 cow-reuse of 0x%lx, no frame; zero frame stayed shared", PAGES,
                   before[0].frame);
}
