/*
 * test_elf.c - host unit tests for common/elf.c (ELF64 kernel checks).
 *
 * Two kinds of input: real files linked from tests/host/elf_sample.c by
 * loader.mk (64-bit, 32-bit, shared object), and a synthetic kernel built
 * in memory with the layout the real kernel has (paddr at KERNEL_PHYS_BASE,
 * vaddr = paddr + KERNEL_VIRT_OFFSET), which each test breaks in exactly
 * one way and expects exactly one error code for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "elf.h"
#include "layout.h"

#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))
#define SEG_CAP 8

/* ---- the synthetic kernel ---- */

enum { SYN_TEXT, SYN_RODATA, SYN_DATA, SYN_STACK_NOTE, SYN_PHNUM };

#define SYN_FILE_SIZE 0x5000
#define SYN_PHYS(off) (KERNEL_PHYS_BASE + (off))
#define SYN_VIRT(off) (KERNEL_VIRT_OFFSET + KERNEL_PHYS_BASE + (off))
#define SYN_ENTRY_OFFSET 0x10

struct synth {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[SYN_PHNUM];
    uint64_t file_size;
    struct elf_range forbidden[2];
    uint32_t nforbidden;
    uint32_t cap;
};

static Elf64_Phdr synth_load(uint32_t flags, uint64_t off, uint64_t filesz,
                             uint64_t memsz)
{
    Elf64_Phdr ph = {
        .p_type = PT_LOAD, .p_flags = flags, .p_offset = off,
        .p_vaddr = SYN_VIRT(off - 0x1000), .p_paddr = SYN_PHYS(off - 0x1000),
        .p_filesz = filesz, .p_memsz = memsz, .p_align = PAGE_SIZE,
    };
    return ph;
}

/* A valid kernel: text, rodata, data+bss and a PT_GNU_STACK to ignore. */
static struct synth synth_good(void)
{
    struct synth s = { .file_size = SYN_FILE_SIZE, .cap = SEG_CAP };
    static const unsigned char ident[] = {
        ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT,
    };
    memcpy(s.eh.e_ident, ident, sizeof(ident));
    s.eh.e_type = ET_EXEC;
    s.eh.e_machine = EM_X86_64;
    s.eh.e_version = EV_CURRENT;
    s.eh.e_entry = SYN_VIRT(SYN_ENTRY_OFFSET);
    s.eh.e_phoff = sizeof(Elf64_Ehdr);
    s.eh.e_ehsize = sizeof(Elf64_Ehdr);
    s.eh.e_phentsize = sizeof(Elf64_Phdr);
    s.eh.e_phnum = SYN_PHNUM;
    s.ph[SYN_TEXT] = synth_load(PF_R | PF_X, 0x1000, 0x1800, 0x1800);
    s.ph[SYN_RODATA] = synth_load(PF_R, 0x3000, 0x800, 0x800);
    s.ph[SYN_DATA] = synth_load(PF_R | PF_W, 0x4000, 0x100, 0x5000);
    s.ph[SYN_STACK_NOTE].p_type = 0x6474E551;   /* PT_GNU_STACK */
    s.ph[SYN_STACK_NOTE].p_flags = PF_R | PF_W;
    /* stage2 itself, far below the kernel */
    s.forbidden[0].start = STAGE2_ADDR;
    s.forbidden[0].end = STAGE2_LIMIT;
    s.nforbidden = 1;
    return s;
}

/* Runs header, segment and entry checks like stage2 does; returns the
 * first error or 0, and the segments in segs[0..*n). */
static int synth_load_all(const struct synth *s, struct elf_segment *segs,
                          uint32_t *n)
{
    unsigned char file[sizeof(s->eh) + sizeof(s->ph)];
    memcpy(file, &s->eh, sizeof(s->eh));
    memcpy(file + sizeof(s->eh), s->ph, sizeof(s->ph));
    uint64_t phoff, entry;
    uint32_t phnum;
    int err = elf_check_header(file, sizeof(file), s->file_size, &phoff,
                               &phnum, &entry);
    if (err < 0)
        return err;
    if (phoff + (uint64_t)phnum * sizeof(Elf64_Phdr) > sizeof(file))
        return 1;   /* the test built a table that is not in `file` */
    err = elf_collect_segments(file + phoff, phnum, s->file_size, s->forbidden,
                               s->nforbidden, segs, s->cap, n);
    return err < 0 ? err : elf_check_entry(segs, *n, entry);
}

/* Expects synth_load_all(s) to fail with exactly want. */
static void expect_error(const struct synth *s, int want)
{
    struct elf_segment segs[SEG_CAP];
    uint32_t n = 0;
    int got = synth_load_all(s, segs, &n);
    CHECK(got == want, "got %d (%s), want %d (%s)", got, elf_strerror(got),
          want, elf_strerror(want));
}

static void test_synthetic_kernel_passes_with_three_segments(void)
{
    struct synth s = synth_good();
    struct elf_segment segs[SEG_CAP];
    uint32_t n = 0;
    if (!CHECK_EQ(synth_load_all(&s, segs, &n), 0) || !CHECK_EQ(n, 3))
        return;
    CHECK_EQ(segs[0].paddr, KERNEL_PHYS_BASE);
    CHECK_EQ(segs[0].vaddr, KERNEL_VIRT_OFFSET + KERNEL_PHYS_BASE);
    CHECK_EQ(segs[0].flags, PF_R | PF_X);
    CHECK_EQ(segs[1].offset, 0x3000);
    CHECK_EQ(segs[2].filesz, 0x100);
    CHECK_EQ(segs[2].memsz, 0x5000);
}

static void test_file_shorter_than_a_header_is_too_small(void)
{
    struct synth s = synth_good();
    s.file_size = sizeof(Elf64_Ehdr) - 1;
    expect_error(&s, ELF_ERR_TOO_SMALL);
    uint64_t phoff, entry;
    uint32_t phnum;
    CHECK_EQ(elf_check_header(&s.eh, 10, SYN_FILE_SIZE, &phoff, &phnum, &entry),
             ELF_ERR_TOO_SMALL);
}

static void test_bad_magic_is_not_an_elf_file(void)
{
    struct synth s = synth_good();
    s.eh.e_ident[1] = 'X';
    expect_error(&s, ELF_ERR_MAGIC);
}

static void test_elfclass32_is_reported_as_32_bit(void)
{
    struct synth s = synth_good();
    s.eh.e_ident[EI_CLASS] = ELFCLASS32;
    expect_error(&s, ELF_ERR_CLASS32);
    CHECK(strcmp(elf_strerror(ELF_ERR_CLASS32),
                 "kernel is a 32-bit ELF, need ELF64") == 0, "message");
}

static void test_unknown_class_is_its_own_error(void)
{
    struct synth s = synth_good();
    s.eh.e_ident[EI_CLASS] = 3;
    expect_error(&s, ELF_ERR_CLASS);
}

static void test_big_endian_is_refused(void)
{
    struct synth s = synth_good();
    s.eh.e_ident[EI_DATA] = 2;   /* ELFDATA2MSB */
    expect_error(&s, ELF_ERR_ENDIAN);
}

static void test_wrong_version_is_refused(void)
{
    struct synth s = synth_good();
    s.eh.e_version = 0;
    expect_error(&s, ELF_ERR_VERSION);
    s = synth_good();
    s.eh.e_ident[EI_VERSION] = 2;
    expect_error(&s, ELF_ERR_VERSION);
}

static void test_other_machine_is_refused(void)
{
    struct synth s = synth_good();
    s.eh.e_machine = 3;   /* EM_386 */
    expect_error(&s, ELF_ERR_MACHINE);
}

static void test_shared_object_type_is_not_an_executable(void)
{
    struct synth s = synth_good();
    s.eh.e_type = 3;   /* ET_DYN */
    expect_error(&s, ELF_ERR_NOT_EXEC);
}

static void test_wrong_phentsize_is_refused(void)
{
    struct synth s = synth_good();
    s.eh.e_phentsize = 32;
    expect_error(&s, ELF_ERR_PHENTSIZE);
}

static void test_extended_phnum_is_refused(void)
{
    struct synth s = synth_good();
    s.eh.e_phnum = PN_XNUM;
    expect_error(&s, ELF_ERR_PHNUM_XNUM);
}

static void test_program_headers_past_end_of_file_are_outside(void)
{
    struct synth s = synth_good();
    s.eh.e_phoff = SYN_FILE_SIZE - sizeof(Elf64_Phdr);   /* one fits, 4 don't */
    expect_error(&s, ELF_ERR_PHDRS_OUTSIDE);
    s.eh.e_phoff = UINT64_MAX - 8;   /* phoff + size wraps */
    expect_error(&s, ELF_ERR_PHDRS_OUTSIDE);
}

static void test_file_without_pt_load_is_refused(void)
{
    struct synth s = synth_good();
    s.ph[SYN_TEXT].p_type = s.ph[SYN_RODATA].p_type = s.ph[SYN_DATA].p_type = 4;
    expect_error(&s, ELF_ERR_NO_LOAD);
    s = synth_good();
    s.eh.e_phnum = 0;
    expect_error(&s, ELF_ERR_NO_LOAD);
}

static void test_empty_pt_loads_are_skipped(void)
{
    struct synth s = synth_good();
    s.ph[SYN_STACK_NOTE] = synth_load(PF_R, 0x1000, 0, 0);   /* overlaps text, but empty */
    struct elf_segment segs[SEG_CAP];
    uint32_t n = 0;
    CHECK_EQ(synth_load_all(&s, segs, &n), 0);
    CHECK_EQ(n, 3);
}

static void test_more_pt_loads_than_cap_is_too_many(void)
{
    struct synth s = synth_good();
    s.cap = 2;
    expect_error(&s, ELF_ERR_TOO_MANY_LOADS);
}

static void test_segment_bytes_past_end_of_file_are_outside(void)
{
    struct synth s = synth_good();
    s.ph[SYN_RODATA].p_offset = SYN_FILE_SIZE - 0x7FF;
    expect_error(&s, ELF_ERR_SEG_OUTSIDE);
    s.ph[SYN_RODATA].p_offset = UINT64_MAX - 0x100;   /* offset + filesz wraps */
    expect_error(&s, ELF_ERR_SEG_OUTSIDE);
}

static void test_filesz_above_memsz_is_refused(void)
{
    struct synth s = synth_good();
    s.ph[SYN_RODATA].p_filesz = 0x801;
    expect_error(&s, ELF_ERR_FILESZ);
}

static void test_vaddr_paddr_not_congruent_is_refused(void)
{
    struct synth s = synth_good();
    s.ph[SYN_DATA].p_paddr += 0x10;
    expect_error(&s, ELF_ERR_CONGRUENCE);
}

static void test_physical_overlap_is_refused(void)
{
    struct synth s = synth_good();
    s.ph[SYN_RODATA].p_paddr = SYN_PHYS(0x1000);   /* text's second page */
    expect_error(&s, ELF_ERR_OVERLAP);
}

static void test_virtual_overlap_is_refused(void)
{
    struct synth s = synth_good();
    s.ph[SYN_RODATA].p_vaddr = SYN_VIRT(0x1000);
    expect_error(&s, ELF_ERR_OVERLAP);
}

static void test_segments_sharing_a_page_without_sharing_bytes_overlap(void)
{
    /* text ends at +0x1800; rodata starts at +0x1800 in the same page */
    struct synth s = synth_good();
    s.ph[SYN_RODATA].p_paddr = SYN_PHYS(0x1800);
    s.ph[SYN_RODATA].p_vaddr = SYN_VIRT(0x1800);
    expect_error(&s, ELF_ERR_OVERLAP);
}

static void test_segment_on_loader_memory_is_forbidden(void)
{
    struct synth s = synth_good();
    s.forbidden[1].start = SYN_PHYS(0x7FFF);   /* the data+bss's last page */
    s.forbidden[1].end = SYN_PHYS(0x8000);
    s.nforbidden = 2;
    expect_error(&s, ELF_ERR_FORBIDDEN);
    s.forbidden[1].start = SYN_PHYS(0) - 0x800;   /* rounds out onto text */
    s.forbidden[1].end = SYN_PHYS(0) + 1;
    expect_error(&s, ELF_ERR_FORBIDDEN);
}

static void test_loader_memory_touching_or_empty_is_allowed(void)
{
    struct synth s = synth_good();
    struct elf_segment segs[SEG_CAP];
    uint32_t n = 0;
    s.forbidden[1].start = SYN_PHYS(0x8000);   /* right after data+bss */
    s.forbidden[1].end = SYN_PHYS(0x9800);
    s.nforbidden = 2;
    CHECK_EQ(synth_load_all(&s, segs, &n), 0);
    s.forbidden[1].start = SYN_PHYS(0x5000);   /* empty, inside data+bss */
    s.forbidden[1].end = SYN_PHYS(0x5000);
    CHECK_EQ(synth_load_all(&s, segs, &n), 0);
    s.forbidden[1].end = SYN_PHYS(0x4000);     /* inverted: empty too */
    CHECK_EQ(synth_load_all(&s, segs, &n), 0);
}

static void test_entry_outside_executable_segments_is_refused(void)
{
    struct synth s = synth_good();
    s.eh.e_entry = SYN_VIRT(0x2000);   /* rodata: not PF_X */
    expect_error(&s, ELF_ERR_ENTRY);
    s.eh.e_entry = SYN_VIRT(0x1800);   /* one past the end of text */
    expect_error(&s, ELF_ERR_ENTRY);
    s.eh.e_entry = SYN_PHYS(SYN_ENTRY_OFFSET);   /* physical, not virtual */
    expect_error(&s, ELF_ERR_ENTRY);
}

static void test_entry_on_last_byte_of_text_is_accepted(void)
{
    struct synth s = synth_good();
    struct elf_segment segs[SEG_CAP];
    uint32_t n = 0;
    s.eh.e_entry = SYN_VIRT(0x17FF);
    CHECK_EQ(synth_load_all(&s, segs, &n), 0);
}

static void test_address_plus_size_wrapping_is_an_overflow(void)
{
    struct synth s = synth_good();
    s.ph[SYN_DATA].p_paddr = 0xFFFFFFFFFFFFF000ULL;
    s.ph[SYN_DATA].p_vaddr = 0xFFFFFFFFFFFFF000ULL;
    expect_error(&s, ELF_ERR_ADDR_OVERFLOW);
    s = synth_good();
    s.ph[SYN_DATA].p_vaddr = 0xFFFFFFFFFFFFE000ULL;   /* virtual only */
    expect_error(&s, ELF_ERR_ADDR_OVERFLOW);
}

/* The last page (0xFFFFFFFFFFFFF000 up) is where a rounded-up end could
 * wrap to 0: a segment may end exactly at its start, not one byte later.
 * The data segment (memsz 0x5000) placed so that it ends one byte before,
 * exactly at, and one byte past 0xFFFFFFFFFFFFF000, virtually only and
 * both physically and virtually (elf.c does not know the loader's 4 GiB
 * limit; stage2/load.c applies it). */
static void test_a_segment_may_end_exactly_at_0xfffffffffffff000(void)
{
    static const struct { uint64_t memsz; int want; } cases[] = {
        { 0x4FFF, 0 }, { 0x5000, 0 }, { 0x5001, ELF_ERR_ADDR_OVERFLOW },
    };
    for (uint32_t both = 0; both <= 1; both++)
        for (uint32_t i = 0; i < COUNT(cases); i++) {
            struct synth s = synth_good();
            struct elf_segment segs[SEG_CAP];
            uint32_t n = 0;
            s.ph[SYN_DATA].p_vaddr = 0xFFFFFFFFFFFFF000ULL - 0x5000;
            if (both)
                s.ph[SYN_DATA].p_paddr = s.ph[SYN_DATA].p_vaddr;
            s.ph[SYN_DATA].p_memsz = cases[i].memsz;
            int got = synth_load_all(&s, segs, &n);
            CHECK(got == cases[i].want, "%s, memsz 0x%llx: got %d (%s), want %d",
                  both ? "physical and virtual" : "virtual", (unsigned long long)cases[i].memsz,
                  got, elf_strerror(got), cases[i].want);
        }
}

static void test_non_canonical_or_hole_crossing_vaddr_is_refused(void)
{
    struct synth s = synth_good();
    s.ph[SYN_TEXT].p_vaddr ^= 1ULL << 63;             /* bits 63:47 no longer equal */
    s.eh.e_entry ^= 1ULL << 63;
    expect_error(&s, ELF_ERR_NONCANONICAL);
    s = synth_good();
    s.ph[SYN_DATA].p_vaddr = 0x00007FFFFFFFF000ULL;    /* runs from the low half into the hole */
    s.ph[SYN_DATA].p_paddr = SYN_PHYS(0x3000);
    expect_error(&s, ELF_ERR_NONCANONICAL);
    s = synth_good();
    s.ph[SYN_DATA].p_vaddr = 0x00007FFFFFFFA000ULL;    /* ends on the last low-half byte */
    s.ph[SYN_DATA].p_paddr = SYN_PHYS(0x3000);
    struct elf_segment segs[SEG_CAP];
    uint32_t n = 0;
    CHECK_EQ(synth_load_all(&s, segs, &n), 0);
}

static void test_every_error_has_its_own_message(void)
{
    check_distinct_messages(elf_strerror, ELF_ERR_NOTE_TRUNCATED,
                            ELF_ERR_TOO_SMALL, "unknown error");
    CHECK(strcmp(elf_strerror(0), "unknown error") == 0, "0 is no error");
}

/* ---- notes (gABI "Note Section"), as stage2 reads the kernel's ---- */

/* Appends one note at *len of buf, padded to align; returns its offset. */
static uint32_t note_put(uint8_t *buf, uint32_t *len, uint32_t align, uint32_t namesz,
                         const char *name, uint32_t type, uint32_t descsz, uint8_t fill)
{
    uint32_t at = *len, pad = align - 1;
    Elf64_Nhdr nh = { namesz, descsz, type };
    memcpy(buf + at, &nh, sizeof(nh));
    memcpy(buf + at + sizeof(nh), name, namesz);
    uint32_t desc = (at + (uint32_t)sizeof(nh) + namesz + pad) & ~pad;
    memset(buf + desc, fill, descsz);
    *len = desc + ((descsz + pad) & ~pad);
    return at;
}

#define NOTE_DESC_AT(at) ((at) + 12 + 8)   /* header, then "pagelab\0" */

static void test_note_is_found_after_another_owners_note(void)
{
    uint8_t buf[128] = { 0 };
    uint32_t len = 0;
    note_put(buf, &len, 4, 4, "GNU", 3, 20, 0xAA);          /* a build id */
    uint32_t at = note_put(buf, &len, 4, 8, "pagelab", 1, 8, 0x55);
    struct elf_note n;
    CHECK_EQ(elf_find_note(buf, len, 4, "pagelab", 1, &n), 1);
    CHECK(n.desc == buf + NOTE_DESC_AT(at) && n.descsz == 8, "desc at %td, %u bytes",
          n.desc - buf, n.descsz);
}

static void test_notes_of_other_owners_or_types_are_not_found(void)
{
    uint8_t buf[128] = { 0 };
    uint32_t len = 0;
    struct elf_note n;
    note_put(buf, &len, 4, 7, "pagelab", 1, 8, 0);           /* no NUL: another name */
    note_put(buf, &len, 4, 8, "pagelax", 1, 8, 0);
    note_put(buf, &len, 4, 8, "pagelab", 2, 8, 0);           /* pagelab's, another type */
    CHECK_EQ(elf_find_note(buf, len, 4, "pagelab", 1, &n), 0);
    uint32_t at = note_put(buf, &len, 4, 8, "pagelab", 1, 8, 0);
    CHECK_EQ(elf_find_note(buf, len, 4, "pagelab", 1, &n), 1);
    CHECK(n.desc == buf + NOTE_DESC_AT(at), "the fourth note is the one");
    CHECK_EQ(elf_find_note(buf, 0, 4, "pagelab", 1, &n), 0);  /* an empty PT_NOTE */
}

static void test_note_ending_exactly_at_the_segment_end_is_found(void)
{
    uint8_t buf[64] = { 0 };
    uint32_t len = 0;
    struct elf_note n;
    note_put(buf, &len, 4, 8, "pagelab", 1, 7, 0);
    /* the last description's padding may be missing: 27 bytes hold it all */
    CHECK_EQ(elf_find_note(buf, 12 + 8 + 7, 4, "pagelab", 1, &n), 1);
    CHECK_EQ(n.descsz, 7);
    CHECK_EQ(elf_find_note(buf, 12 + 8 + 6, 4, "pagelab", 1, &n), ELF_ERR_NOTE_TRUNCATED);
}

static void test_note_header_or_name_past_the_end_is_truncated(void)
{
    uint8_t buf[64] = { 0 };
    uint32_t len = 0;
    struct elf_note n;
    note_put(buf, &len, 4, 8, "pagelab", 1, 8, 0);
    CHECK_EQ(elf_find_note(buf, 12, 4, "pagelab", 1, &n), ELF_ERR_NOTE_TRUNCATED);
    CHECK_EQ(elf_find_note(buf, 11, 4, "pagelab", 1, &n), ELF_ERR_NOTE_TRUNCATED);
    CHECK_EQ(elf_find_note(buf, 1, 4, "pagelab", 1, &n), ELF_ERR_NOTE_TRUNCATED);
    Elf64_Nhdr huge = { 0xFFFFFFFFu, 0xFFFFFFFFu, 1 };      /* sums must not wrap */
    memcpy(buf, &huge, sizeof(huge));
    CHECK_EQ(elf_find_note(buf, sizeof(buf), 4, "pagelab", 1, &n), ELF_ERR_NOTE_TRUNCATED);
}

static void test_note_padding_follows_the_segment_alignment(void)
{
    uint8_t buf[128] = { 0 };
    uint32_t len = 0;
    struct elf_note n;
    note_put(buf, &len, 8, 4, "GNU", 5, 4, 0);               /* (12 + 4) + (4 -> 8) */
    CHECK_EQ(len, 24);
    uint32_t at = note_put(buf, &len, 8, 8, "pagelab", 1, 8, 0);
    CHECK_EQ(elf_find_note(buf, len, 8, "pagelab", 1, &n), 1);
    CHECK(n.desc == buf + at + 24, "8-byte padding: desc at %td, want %u", n.desc - buf,
          at + 24);                                           /* 12 + 8 = 20 -> 24 */
    /* read with 4-byte padding the second note starts at 20: not found */
    CHECK(elf_find_note(buf, len, 4, "pagelab", 1, &n) != 1, "4-byte padding misses it");
}

static void test_elf_strerror_outside_its_codes_is_unknown(void)
{
    check_unknown_outside(elf_strerror, ELF_ERR_NOTE_TRUNCATED, ELF_ERR_TOO_SMALL,
                          "unknown error");
}

/* ---- real files from the host linker ---- */

/* Header + segments + entry of a real file, with the given forbidden range. */
static int real_load_all(const char *path, const struct elf_range *forbidden,
                         uint32_t nforbidden, uint32_t *nsegs)
{
    size_t size = 0;
    uint64_t phoff, entry;
    uint32_t phnum;
    struct elf_segment segs[SEG_CAP];
    uint8_t *file = check_read_file(path, &size);
    if (file == NULL)
        return 1;
    int err = elf_check_header(file, (uint32_t)size, size, &phoff, &phnum, &entry);
    if (err == 0)
        err = elf_collect_segments(file + phoff, phnum, size, forbidden,
                                   nforbidden, segs, SEG_CAP, nsegs);
    if (err == 0)
        err = elf_check_entry(segs, *nsegs, entry);
    free(file);
    return err;
}

static void test_real_linked_executable_passes(void)
{
    uint32_t n = 0;
    CHECK_EQ(real_load_all(HOST_BUILD_DIR "/elf_sample.elf", NULL, 0, &n), 0);
    CHECK(n >= 2, "got %u PT_LOAD segments, want text and data at least", n);
}

static void test_real_executable_on_loader_memory_is_forbidden(void)
{
    /* The host linker's default base for x86-64 executables is 4 MiB. */
    const struct elf_range low4m = { 0, 0x400001 };
    uint32_t n = 0;
    CHECK_EQ(real_load_all(HOST_BUILD_DIR "/elf_sample.elf", &low4m, 1, &n),
             ELF_ERR_FORBIDDEN);
}

static void test_real_32_bit_executable_is_reported_as_32_bit(void)
{
    uint32_t n = 0;
    CHECK_EQ(real_load_all(HOST_BUILD_DIR "/elf_sample32.elf", NULL, 0, &n),
             ELF_ERR_CLASS32);
}

static void test_real_shared_object_is_not_an_executable(void)
{
    uint32_t n = 0;
    CHECK_EQ(real_load_all(HOST_BUILD_DIR "/elf_sample.so", NULL, 0, &n),
             ELF_ERR_NOT_EXEC);
}

static const struct check_test tests[] = {
    CHECK_TEST(test_synthetic_kernel_passes_with_three_segments),
    CHECK_TEST(test_file_shorter_than_a_header_is_too_small),
    CHECK_TEST(test_bad_magic_is_not_an_elf_file),
    CHECK_TEST(test_elfclass32_is_reported_as_32_bit),
    CHECK_TEST(test_unknown_class_is_its_own_error),
    CHECK_TEST(test_big_endian_is_refused),
    CHECK_TEST(test_wrong_version_is_refused),
    CHECK_TEST(test_other_machine_is_refused),
    CHECK_TEST(test_shared_object_type_is_not_an_executable),
    CHECK_TEST(test_wrong_phentsize_is_refused),
    CHECK_TEST(test_extended_phnum_is_refused),
    CHECK_TEST(test_program_headers_past_end_of_file_are_outside),
    CHECK_TEST(test_file_without_pt_load_is_refused),
    CHECK_TEST(test_empty_pt_loads_are_skipped),
    CHECK_TEST(test_more_pt_loads_than_cap_is_too_many),
    CHECK_TEST(test_segment_bytes_past_end_of_file_are_outside),
    CHECK_TEST(test_filesz_above_memsz_is_refused),
    CHECK_TEST(test_vaddr_paddr_not_congruent_is_refused),
    CHECK_TEST(test_physical_overlap_is_refused),
    CHECK_TEST(test_virtual_overlap_is_refused),
    CHECK_TEST(test_segments_sharing_a_page_without_sharing_bytes_overlap),
    CHECK_TEST(test_segment_on_loader_memory_is_forbidden),
    CHECK_TEST(test_loader_memory_touching_or_empty_is_allowed),
    CHECK_TEST(test_entry_outside_executable_segments_is_refused),
    CHECK_TEST(test_entry_on_last_byte_of_text_is_accepted),
    CHECK_TEST(test_non_canonical_or_hole_crossing_vaddr_is_refused),
    CHECK_TEST(test_address_plus_size_wrapping_is_an_overflow),
    CHECK_TEST(test_a_segment_may_end_exactly_at_0xfffffffffffff000),
    CHECK_TEST(test_every_error_has_its_own_message),
    CHECK_TEST(test_note_is_found_after_another_owners_note),
    CHECK_TEST(test_notes_of_other_owners_or_types_are_not_found),
    CHECK_TEST(test_note_ending_exactly_at_the_segment_end_is_found),
    CHECK_TEST(test_note_header_or_name_past_the_end_is_truncated),
    CHECK_TEST(test_note_padding_follows_the_segment_alignment),
    CHECK_TEST(test_elf_strerror_outside_its_codes_is_unknown),
    CHECK_TEST(test_real_linked_executable_passes),
    CHECK_TEST(test_real_executable_on_loader_memory_is_forbidden),
    CHECK_TEST(test_real_32_bit_executable_is_reported_as_32_bit),
    CHECK_TEST(test_real_shared_object_is_not_an_executable),
};

int main(void)
{
    return check_main("elf", tests, CHECK_COUNT(tests));
}
