/*
 * image.c - building user address spaces (contract in image.h). Every
 * frame is written through kmap (kernel/mm/kmap.h) and mapped through the
 * paging core into a space that is not the active one: the edits need no
 * invalidation (the TLB rule, rule 6), and the strategy decides how that
 * space's tables are reached.
 */
#include "image.h"
#include "console.h"
#include "elf.h"
#include "kmap.h"
#include "layout.h"
#include "mem.h"
#include "frame_meta.h"
#include "vm.h"

_Static_assert(IMAGE_MAX_SEGMENTS >= 3, "text, rodata and data at least");

/* Where the image must end: the stack's guard page, below the lowest the
 * stack may grow to (include/layout.h). */
#define IMAGE_LIMIT (USER_STACK_TOP - USER_STACK_LIMIT - (uint64_t)PAGE_SIZE)

static uint32_t segment_prot(uint32_t flags)
{
    uint32_t prot = PT_PROT_USER;
    if (flags & PF_W)
        prot |= PT_PROT_WRITE;
    if (flags & PF_X)
        prot |= PT_PROT_EXEC;
    return prot;
}

/* One page of the image at va: a fresh frame holding the file bytes
 * [from, from + n) at offset `at` inside the page, zeros elsewhere. */
static enum image_status map_page(uint64_t va, const uint8_t *from, uint64_t at, uint64_t n,
                                  uint32_t prot)
{
    paddr_t f;
    if (!frame_new(&f))
        return IMAGE_ERR_NO_MEMORY;
    uint8_t *p = kmap(f, KMAP_DST);
    memset(p, 0, PAGE_SIZE);
    if (n)
        memcpy(p + at, from, n);
    kunmap(KMAP_DST);
    if (pt_map(vaddr(va), f, PAGE_SIZE, prot, NULL) != PT_OK) {
        frame_unref(f);
        return IMAGE_ERR_NO_MEMORY;   /* the place was checked: only tables can lack */
    }
    return IMAGE_OK;
}

static enum image_status load_segment(const uint8_t *file, const struct elf_segment *s,
                                      uint32_t *pages)
{
    uint64_t first = PAGE_ROUND_DOWN(s->vaddr), end = PAGE_ROUND_UP(s->vaddr + s->memsz);
    uint64_t file_end = s->vaddr + s->filesz;   /* file bytes cover [vaddr, file_end) */
    for (uint64_t va = first; va < end; va += PAGE_SIZE) {
        uint64_t lo = va > s->vaddr ? va : s->vaddr;
        uint64_t hi = va + PAGE_SIZE < file_end ? va + PAGE_SIZE : file_end;
        uint64_t n = hi > lo ? hi - lo : 0;
        enum image_status st = map_page(va, file + s->offset + (lo - s->vaddr), lo - va, n,
                                        segment_prot(s->flags));
        if (st != IMAGE_OK)
            return st;
        (*pages)++;
    }
    return IMAGE_OK;
}

static enum image_status check_segments(const struct elf_segment *segs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct elf_segment *s = &segs[i];
        if (s->vaddr < USER_BASE || s->memsz > IMAGE_LIMIT - s->vaddr ||
            s->vaddr + s->memsz > IMAGE_LIMIT)
            return IMAGE_ERR_PLACE;
        if ((s->flags & PF_W) && (s->flags & PF_X))
            return IMAGE_ERR_WX;
    }
    return IMAGE_OK;
}

enum image_status image_load(struct pt_space *as, const void *elf, uint64_t size,
                             struct image *out, int *elf_err)
{
    uint64_t phoff, entry;
    uint32_t phnum, nseg;
    struct elf_segment segs[IMAGE_MAX_SEGMENTS];
    *elf_err = 0;
    int err = elf_check_header(elf, size > UINT32_MAX ? UINT32_MAX : (uint32_t)size, size, &phoff,
                               &phnum, &entry);
    if (!err)
        err = elf_collect_segments((const uint8_t *)elf + phoff, phnum, size, 0, 0, segs,
                                   IMAGE_MAX_SEGMENTS, &nseg);
    if (err == ELF_ERR_TOO_MANY_LOADS)
        return IMAGE_ERR_TOO_MANY;
    if (!err)
        err = elf_check_entry(segs, nseg, entry);
    if (err) {
        *elf_err = err;
        return IMAGE_ERR_ELF;
    }
    enum image_status st = check_segments(segs, nseg);
    if (st != IMAGE_OK)
        return st;
    const struct pt_space *prev = pt_space_selected();
    pt_space_select(as);
    out->pages = 0;
    out->end = USER_BASE;
    out->nseg = 0;
    for (uint32_t i = 0; i < nseg && st == IMAGE_OK; i++) {
        st = load_segment(elf, &segs[i], &out->pages);
        uint64_t end = PAGE_ROUND_UP(segs[i].vaddr + segs[i].memsz);
        if (end > out->end)
            out->end = end;
        if (segs[i].memsz)
            out->seg[out->nseg++] = (struct image_segment){
                PAGE_ROUND_DOWN(segs[i].vaddr), end, segment_prot(segs[i].flags) & ~PT_PROT_USER };
    }
    pt_space_select(prev);
    out->entry = entry;
    out->stack_top = USER_STACK_TOP;
    out->stack_guard = IMAGE_LIMIT;
    return st;
}

const char *image_status_name(enum image_status st)
{
    static const char *const names[IMAGE_STATUS_COUNT] = {
        [IMAGE_OK] = "ok",
        [IMAGE_ERR_ELF] = "not a usable ELF64 executable",
        [IMAGE_ERR_PLACE] = "a segment outside the user image's range",
        [IMAGE_ERR_WX] = "a segment both writable and executable",
        [IMAGE_ERR_TOO_MANY] = "too many PT_LOAD segments",
        [IMAGE_ERR_NO_MEMORY] = "out of frames",
    };
    return (unsigned)st < IMAGE_STATUS_COUNT ? names[st] : "unknown";
}
