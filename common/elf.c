/*
 * elf.c - ELF64 kernel checks (see elf.h for the contracts).
 *
 * Everything here reads headers that came from the disk, so every sum of
 * two file-controlled numbers is checked for wrap-around before use, and
 * headers are copied out with memcpy because the caller's buffer need not
 * be aligned. References: System V gABI chapters 4 and 5; AMD64 psABI 4.1.
 */
#include <stdbool.h>

#include "addr.h"
#include "elf.h"
#include "layout.h"
#include "mem.h"

/* The highest page-aligned address; a page range cannot end above it. */
#define ELF_LAST_PAGE PAGE_ROUND_DOWN(UINT64_MAX)

/* A page-aligned range [start, end). */
struct elf_pages {
    uint64_t start;
    uint64_t end;
};

/* The pages covering [addr, addr + size); false when the end (rounded up
 * to a page) does not fit in 64 bits. */
static bool elf_page_span(uint64_t addr, uint64_t size, struct elf_pages *p)
{
    if (size > UINT64_MAX - addr || addr + size > ELF_LAST_PAGE)
        return false;
    p->start = PAGE_ROUND_DOWN(addr);
    p->end = PAGE_ROUND_UP(addr + size);
    return true;
}

/* Every byte of a virtual page range (end > start) is canonical: bits
 * 63:47 of the first and the last byte all equal, the same for both
 * (Intel SDM Vol. 1, 3.3.7.1), so the range does not cross the hole. */
static bool elf_pages_canonical(struct elf_pages v)
{
    uint64_t first = v.start >> 47, last = (v.end - 1) >> 47;
    return (first == 0 || first == 0x1FFFF) && first == last;
}

static bool elf_pages_overlap(struct elf_pages a, struct elf_pages b)
{
    return a.start < b.end && b.start < a.end;
}

/* Identification bytes, in the order the gABI defines them. */
static int elf_check_ident(const unsigned char *id)
{
    static const unsigned char magic[ELFMAG_LEN] = {
        ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
    };
    if (memcmp(&id[EI_MAG0], magic, ELFMAG_LEN) != 0)
        return ELF_ERR_MAGIC;
    if (id[EI_CLASS] == ELFCLASS32)
        return ELF_ERR_CLASS32;
    if (id[EI_CLASS] != ELFCLASS64)
        return ELF_ERR_CLASS;
    if (id[EI_DATA] != ELFDATA2LSB)
        return ELF_ERR_ENDIAN;
    if (id[EI_VERSION] != EV_CURRENT)
        return ELF_ERR_VERSION;
    return 0;
}

/* Header fields after e_ident: what kind of file, and its phdr table. */
static int elf_check_fields(const Elf64_Ehdr *eh, uint64_t file_size)
{
    if (eh->e_version != EV_CURRENT)
        return ELF_ERR_VERSION;
    if (eh->e_machine != EM_X86_64)
        return ELF_ERR_MACHINE;
    if (eh->e_type != ET_EXEC)
        return ELF_ERR_NOT_EXEC;
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return ELF_ERR_PHENTSIZE;
    if (eh->e_phnum == PN_XNUM)
        return ELF_ERR_PHNUM_XNUM;
    uint64_t table = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
    if (table > file_size || eh->e_phoff > file_size - table)
        return ELF_ERR_PHDRS_OUTSIDE;
    return 0;
}

int elf_check_header(const void *buf, uint32_t buf_len, uint64_t file_size,
                     uint64_t *phoff, uint32_t *phnum, uint64_t *entry)
{
    Elf64_Ehdr eh;
    if (buf_len < sizeof(eh) || file_size < sizeof(eh))
        return ELF_ERR_TOO_SMALL;
    memcpy(&eh, buf, sizeof(eh));
    int err = elf_check_ident(eh.e_ident);
    if (err == 0)
        err = elf_check_fields(&eh, file_size);
    if (err < 0)
        return err;
    *phoff = eh.e_phoff;
    *phnum = eh.e_phnum;
    *entry = eh.e_entry;
    return 0;
}

/* Checks of one PT_LOAD on its own; fills its physical and virtual pages. */
static int elf_check_load(const Elf64_Phdr *ph, uint64_t file_size,
                          struct elf_pages *phys, struct elf_pages *virt)
{
    if (ph->p_filesz > ph->p_memsz)
        return ELF_ERR_FILESZ;
    if (ph->p_filesz > file_size || ph->p_offset > file_size - ph->p_filesz)
        return ELF_ERR_SEG_OUTSIDE;
    if (!elf_page_span(ph->p_paddr, ph->p_memsz, phys) ||
        !elf_page_span(ph->p_vaddr, ph->p_memsz, virt))
        return ELF_ERR_ADDR_OVERFLOW;
    /* Page tables map whole pages: vaddr's page offset must equal paddr's. */
    if (PAGE_OFFSET(ph->p_vaddr ^ ph->p_paddr) != 0)
        return ELF_ERR_CONGRUENCE;
    if (!elf_pages_canonical(*virt))
        return ELF_ERR_NONCANONICAL;
    return 0;
}

/* Checks a new segment's pages against the segments already accepted.
 * Their spans were checked on acceptance, so elf_page_span cannot fail. */
static int elf_check_against(const struct elf_segment *done, uint32_t n,
                             struct elf_pages phys, struct elf_pages virt)
{
    for (uint32_t i = 0; i < n; i++) {
        struct elf_pages p = { 0, 0 }, v = { 0, 0 };   /* set by elf_page_span before any use */
        elf_page_span(done[i].paddr, done[i].memsz, &p);
        elf_page_span(done[i].vaddr, done[i].memsz, &v);
        if (elf_pages_overlap(p, phys) || elf_pages_overlap(v, virt))
            return ELF_ERR_OVERLAP;
    }
    return 0;
}

/* Checks a segment's physical pages against the loader's own memory. */
static int elf_check_forbidden(const struct elf_range *forbidden, uint32_t n,
                               struct elf_pages phys)
{
    for (uint32_t i = 0; i < n; i++) {
        if (forbidden[i].start >= forbidden[i].end)
            continue;
        struct elf_pages f = { PAGE_ROUND_DOWN(forbidden[i].start), ELF_LAST_PAGE };
        if (forbidden[i].end <= ELF_LAST_PAGE)
            f.end = PAGE_ROUND_UP(forbidden[i].end);
        if (elf_pages_overlap(f, phys))
            return ELF_ERR_FORBIDDEN;
    }
    return 0;
}

/* All checks of one PT_LOAD; appends it to out[] on success. */
static int elf_add_load(const Elf64_Phdr *ph, uint64_t file_size,
                        const struct elf_range *forbidden, uint32_t nforbidden,
                        struct elf_segment *out, uint32_t cap, uint32_t *count)
{
    struct elf_pages phys, virt;
    if (*count == cap)
        return ELF_ERR_TOO_MANY_LOADS;
    int err = elf_check_load(ph, file_size, &phys, &virt);
    if (err == 0)
        err = elf_check_against(out, *count, phys, virt);
    if (err == 0)
        err = elf_check_forbidden(forbidden, nforbidden, phys);
    if (err < 0)
        return err;
    struct elf_segment *s = &out[(*count)++];
    s->offset = ph->p_offset;
    s->paddr = ph->p_paddr;
    s->vaddr = ph->p_vaddr;
    s->filesz = ph->p_filesz;
    s->memsz = ph->p_memsz;
    s->flags = ph->p_flags;
    return 0;
}

int elf_collect_segments(const void *phdrs, uint32_t phnum, uint64_t file_size,
                         const struct elf_range *forbidden, uint32_t nforbidden,
                         struct elf_segment *out, uint32_t cap, uint32_t *count)
{
    const unsigned char *table = phdrs;
    *count = 0;
    for (uint32_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, table + (size_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        int err = elf_add_load(&ph, file_size, forbidden, nforbidden, out,
                               cap, count);
        if (err < 0)
            return err;
    }
    return *count == 0 ? ELF_ERR_NO_LOAD : 0;
}

int elf_check_entry(const struct elf_segment *segs, uint32_t count,
                    uint64_t entry)
{
    for (uint32_t i = 0; i < count; i++) {
        /* entry - vaddr < memsz: inside, without computing vaddr + memsz */
        if ((segs[i].flags & PF_X) != 0 && entry >= segs[i].vaddr &&
            entry - segs[i].vaddr < segs[i].memsz)
            return 0;
    }
    return ELF_ERR_ENTRY;
}

int elf_find_note(const void *notes, uint64_t len, uint64_t align, const char *name,
                  uint32_t type, struct elf_note *out)
{
    const uint8_t *p = notes;
    uint64_t pad = align == 8 ? 7 : 3;
    uint32_t namesz = (uint32_t)strlen(name) + 1;
    for (uint64_t at = 0; at < len;) {
        Elf64_Nhdr nh;
        if (len - at < sizeof(nh))
            return ELF_ERR_NOTE_TRUNCATED;
        memcpy(&nh, p + at, sizeof(nh));
        /* the description starts at a multiple of the alignment, counted
         * from the note's start (binutils' ELF_NOTE_DESC_OFFSET: with 8,
         * "GNU\0" after the 12-byte header needs no padding). 32-bit sizes
         * after a 64-bit offset below len: no sum wraps. */
        uint64_t name_at = at + sizeof(nh);
        uint64_t desc_at = (name_at + nh.n_namesz + pad) & ~pad;
        if (desc_at > len || nh.n_descsz > len - desc_at)
            return ELF_ERR_NOTE_TRUNCATED;
        if (nh.n_namesz == namesz && nh.n_type == type &&
            memcmp(p + name_at, name, namesz) == 0) {
            out->desc = p + desc_at;
            out->descsz = nh.n_descsz;
            return 1;
        }
        at = desc_at + ((nh.n_descsz + pad) & ~pad);
    }
    return 0;
}

const char *elf_strerror(int err)
{
    switch (err) {
    case ELF_ERR_TOO_SMALL: return "kernel file is too small for an ELF header";
    case ELF_ERR_MAGIC: return "kernel is not an ELF file (bad magic)";
    case ELF_ERR_CLASS32: return "kernel is a 32-bit ELF, need ELF64";
    case ELF_ERR_CLASS: return "kernel has an unknown ELF class, need ELF64";
    case ELF_ERR_ENDIAN: return "kernel ELF is not little-endian";
    case ELF_ERR_VERSION: return "kernel ELF version is not EV_CURRENT";
    case ELF_ERR_MACHINE: return "kernel ELF is for another machine, need x86-64";
    case ELF_ERR_NOT_EXEC: return "kernel ELF is not an executable (ET_EXEC)";
    case ELF_ERR_PHENTSIZE: return "kernel ELF has a bad program header size";
    case ELF_ERR_PHNUM_XNUM: return "kernel ELF uses extended program header numbering";
    case ELF_ERR_PHDRS_OUTSIDE: return "kernel ELF program headers lie outside the file";
    case ELF_ERR_NO_LOAD: return "kernel ELF has no PT_LOAD segment";
    case ELF_ERR_TOO_MANY_LOADS: return "kernel ELF has too many PT_LOAD segments";
    case ELF_ERR_SEG_OUTSIDE: return "kernel segment's file bytes lie beyond the end of the file";
    case ELF_ERR_FILESZ: return "kernel segment has filesz > memsz";
    case ELF_ERR_CONGRUENCE: return "kernel segment's vaddr and paddr differ modulo 4 KiB";
    case ELF_ERR_OVERLAP: return "kernel segments overlap (share a page)";
    case ELF_ERR_FORBIDDEN: return "kernel segment overlaps loader memory";
    case ELF_ERR_ENTRY: return "kernel entry point is not inside an executable segment";
    case ELF_ERR_ADDR_OVERFLOW: return "kernel segment address + size wraps past 2^64";
    case ELF_ERR_NONCANONICAL: return "kernel segment's virtual address is not canonical";
    case ELF_ERR_NOTE_TRUNCATED: return "a note runs past the end of its PT_NOTE segment";
    default: return "unknown error";
    }
}
