/*
 * load.c - find the kernel on the FAT partition and load its segments.
 *
 * The partition is the first MBR entry with a FAT type; the kernel is the
 * file KERNEL_PATH on it. Only the ELF header, the program headers and the
 * PT_LOAD file bytes are read (not the whole file: debug info stays on
 * disk), each straight to its physical address through the bounce buffer;
 * the rest of each segment (bss) is zeroed. Every segment is checked
 * (placement, virtual range, permissions, total size) before any is written.
 * Then the kernel's pagelab note says which strategy's tables to build
 * (note.h): a note inside a loaded segment is read where it was loaded,
 * at no cost; one outside every segment is read from the file.
 */
#include <stdint.h>
#include "load.h"
#include "alloc.h"
#include "disk.h"
#include "note.h"
#include "panic.h"
#include "fat.h"
#include "elf.h"
#include "lib.h"
#include "../include/addr.h"
#include "../include/layout.h"
#include "../include/pte.h"

#define MBR_PARTITIONS     4
#define ELF_HEADER_READ    64
#define MAX_PHDRS          64
#define MAX_SEGMENTS       16
#define PML4_SPAN          PT_LEVEL_SPAN(4)
#define UPPER_HALF         0xFFFF000000000000ULL /* sign extension of PML4 slots 256-511 */

struct mbr_partition {
    uint8_t status, chs_first[3], type, chs_last[3];
    uint32_t lba_first, sectors;
} __attribute__((packed));
_Static_assert(sizeof(struct mbr_partition) == 16, "MBR entry");

static const uint8_t fat_partition_types[] = {
    0x01, /* FAT12 */ 0x04, /* FAT16 < 32 MiB */ 0x06, /* FAT16 */
    0x0B, /* FAT32 CHS */ 0x0C, /* FAT32 LBA */ 0x0E, /* FAT16 LBA */
};

static struct fat_volume volume;
static struct fat_file kernel_file;
static uint8_t ehdr_buf[ELF_HEADER_READ];
static uint8_t phdr_buf[MAX_PHDRS * sizeof(Elf64_Phdr)];
static uint8_t note_buf[PAGELAB_NOTE_READ_MAX];

struct fat_volume *load_volume(void)
{
    return &volume;
}

static const struct mbr_partition *find_fat_partition(void)
{
    const struct mbr_partition *p =
        (const struct mbr_partition *)(STAGE1_ADDR + MBR_PART_TABLE_OFFSET);
    for (unsigned i = 0; i < MBR_PARTITIONS; i++)
        for (unsigned t = 0; t < sizeof(fat_partition_types); t++)
            if (p[i].type == fat_partition_types[t] && p[i].sectors)
                return &p[i];
    die("no FAT partition in the MBR partition table (types 01/04/06/0B/0C/0E)");
}

static void read_or_die(uint32_t offset, void *dst, uint32_t len, const char *what)
{
    int err = fat_read(&volume, &kernel_file, offset, dst, len);
    if (err)
        die("reading %s of %s: %s", what, KERNEL_PATH, fat_strerror(err));
}

static void open_kernel(void)
{
    const struct mbr_partition *p = find_fat_partition();
    int err = fat_mount(&volume, disk_read, 0, p->lba_first, p->sectors);
    if (err)
        die("FAT partition at LBA %u: %s", p->lba_first, fat_strerror(err));
    err = fat_open(&volume, KERNEL_PATH, &kernel_file);
    if (err)
        die("kernel file %s: %s", KERNEL_PATH, fat_strerror(err));
    progress("FAT%d partition at LBA %u: %s, %u bytes", fat_type(&volume), p->lba_first,
             KERNEL_PATH, fat_file_size(&kernel_file));
}

/* A named address range [start, end), for the messages. */
struct named_range {
    const char *what;
    uint64_t start, end;
};

/* The page-aligned range [start, end) a segment covers at `addr`
 * (elf_collect_segments checked that it does not wrap). */
static struct named_range segment_pages(uint64_t addr, const struct elf_segment *s)
{
    return (struct named_range){ 0, PAGE_ROUND_DOWN(addr), PAGE_ROUND_UP(addr + s->memsz) };
}

/* Physical memory below LOW_MEMORY_END: what a segment there would
 * overwrite (include/layout.h, NOTES.md "Physical memory during boot"). */
static const struct named_range loader_physical[] = {
    { "the IVT, the BIOS data area and stage1", 0, STAGE2_ADDR },
    { "stage2's image, stack and disk buffer", STAGE2_ADDR, BOUNCE_ADDR + BOUNCE_SIZE },
    { "the EBDA, VGA memory and the BIOS ROMs", BOUNCE_ADDR + BOUNCE_SIZE, LOW_MEMORY_END },
};

/* Segments must not touch firmware and loader memory below 1 MiB, must end
 * where stage2 can write them (it runs with 32-bit pointers and paging off:
 * a higher address would wrap onto low memory), and must be RAM the map
 * calls usable. */
static void check_placement(const struct elf_segment *s)
{
    struct named_range p = segment_pages(s->paddr, s);
    for (unsigned i = 0; i < sizeof(loader_physical) / sizeof(loader_physical[0]); i++)
        if (p.start < loader_physical[i].end && loader_physical[i].start < p.end)
            die("kernel segment at physical 0x%llx-0x%llx overlaps 0x%llx-0x%llx (%s): load "
                "it at or above 1 MiB", (unsigned long long)p.start, (unsigned long long)p.end,
                (unsigned long long)loader_physical[i].start,
                (unsigned long long)loader_physical[i].end, loader_physical[i].what);
    if (p.end > STAGE2_REACH)
        die("kernel segment at physical 0x%llx-0x%llx ends above 4 GiB, where stage2 cannot "
            "write (32-bit pointers, paging off): load it below 4 GiB",
            (unsigned long long)p.start, (unsigned long long)p.end);
    if (!alloc_is_usable(p.start, p.end - p.start))
        die("kernel segment at physical 0x%llx-0x%llx is not in usable RAM",
            (unsigned long long)p.start, (unsigned long long)p.end);
}

/* Virtual ranges the loader fills itself (include/layout.h). A kernel
 * segment inside one would silently share the loader's tables (or, in the
 * recursive slot, write into the PML4), and page 0 must stay unmapped. */
static const struct named_range loader_virtual[] = {
    { "page 0 and the identity map", 0, IDENTITY_MAP_SIZE },
    { "the upper-half view of low memory", LOW_VIEW_BASE, LOW_VIEW_BASE + IDENTITY_MAP_SIZE },
    { "the physical-memory window", PHYS_WINDOW_BASE,
      PHYS_WINDOW_BASE + PHYS_WINDOW_PML4_SLOTS * PML4_SPAN },
    { "the table-offset region", TABLE_OFFSET_BASE, TABLE_OFFSET_BASE + PML4_SPAN },
    { "the recursive slot", UPPER_HALF | RECURSIVE_INDEX * PML4_SPAN,
      UPPER_HALF | (RECURSIVE_INDEX + 1) * PML4_SPAN },
    { "the temporary-mapping slots", TEMP_SLOTS_BASE, TEMP_SLOTS_BASE + PAGE_SIZE_2M },
    { "the frame bitmap and the kernel stack", PMM_BITMAP_BASE, KERNEL_STACK_TOP },
};

static void check_virtual(const struct elf_segment *s)
{
    struct named_range v = segment_pages(s->vaddr, s);
    for (unsigned i = 0; i < sizeof(loader_virtual) / sizeof(loader_virtual[0]); i++)
        if (v.start < loader_virtual[i].end && loader_virtual[i].start < v.end)
            die("kernel segment at virtual 0x%llx-0x%llx overlaps %s: link the kernel "
                "elsewhere (include/layout.h)", (unsigned long long)v.start,
                (unsigned long long)v.end, loader_virtual[i].what);
}

/* Each page gets one set of permissions (stage2/paging.c maps PF_X as
 * read-only code), so a writable and executable segment - what `ld -N`
 * writes - would fault at its first write: refuse it while it can be said. */
static void check_permissions(const struct elf_segment *s)
{
    struct named_range v = segment_pages(s->vaddr, s);
    if ((s->flags & PF_W) && (s->flags & PF_X))
        die("kernel segment at virtual 0x%llx-0x%llx is writable and executable (W^X): link "
            "with separate text and data segments, not ld -N", (unsigned long long)v.start,
            (unsigned long long)v.end);
}

/* KERNEL_MAX_SIZE bounds the whole image, not each segment. Each span is
 * below 4 GiB after check_placement, so 16 of them cannot wrap the sum. */
static void check_total_size(const struct elf_segment *segs, uint32_t n)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct named_range p = segment_pages(segs[i].paddr, &segs[i]);
        total += p.end - p.start;
    }
    if (total > KERNEL_MAX_SIZE)
        die("kernel segments take %llu KiB (file bytes + bss, in whole pages), more than "
            "KERNEL_MAX_SIZE (%u KiB)", (unsigned long long)(total >> 10),
            KERNEL_MAX_SIZE >> 10);
}

/* Copies one checked segment. Its file bytes lie inside the file
 * (elf_collect_segments), whose size FAT holds in 32 bits, so offset and
 * filesz fit the 32-bit reads; its end is below 4 GiB (check_placement),
 * so the pointer and the bss length are exact. */
static void load_segment(struct boot_info *bi, const struct elf_segment *s)
{
    void *dst = (void *)(uintptr_t)s->paddr;
    read_or_die((uint32_t)s->offset, dst, (uint32_t)s->filesz, "a segment");
    memset((uint8_t *)dst + s->filesz, 0, (size_t)(s->memsz - s->filesz));
    struct named_range p = segment_pages(s->paddr, s), v = segment_pages(s->vaddr, s);
    alloc_record(p.start, (p.end - p.start) / PAGE_SIZE, LOADER_RANGE_KERNEL);
    if (!bi->kernel_phys_start || p.start < bi->kernel_phys_start) {
        bi->kernel_phys_start = p.start;
        bi->kernel_virt_start = v.start;
    }
    if (p.end > bi->kernel_phys_end) {
        bi->kernel_phys_end = p.end;
        bi->kernel_virt_end = v.end;
    }
}

struct elf_segment kernel_segments[MAX_SEGMENTS];
uint32_t kernel_segment_count;

/* The bytes of a PT_NOTE: where a loaded segment put them (their file
 * range inside its file bytes), else read from the file. Dies when they lie
 * outside the file, or outside every segment and beyond PAGELAB_NOTE_READ_MAX. */
static const void *note_bytes(const Elf64_Phdr *p, uint32_t file_size)
{
    if (p->p_filesz > file_size || p->p_offset > file_size - p->p_filesz)
        die("%s: PT_NOTE at file offset 0x%llx (%llu bytes) lies beyond the end of the file",
            KERNEL_PATH, (unsigned long long)p->p_offset, (unsigned long long)p->p_filesz);
    for (uint32_t i = 0; i < kernel_segment_count; i++) {
        const struct elf_segment *s = &kernel_segments[i];
        if (p->p_offset >= s->offset && p->p_filesz <= s->filesz &&
            p->p_offset - s->offset <= s->filesz - p->p_filesz)
            return (const void *)(uintptr_t)(s->paddr + (p->p_offset - s->offset));
    }
    if (p->p_filesz > PAGELAB_NOTE_READ_MAX)
        die("%s: PT_NOTE at file offset 0x%llx (%llu bytes) lies outside the PT_LOAD segments "
            "and is longer than the %u bytes stage2 reads from there", KERNEL_PATH,
            (unsigned long long)p->p_offset, (unsigned long long)p->p_filesz,
            PAGELAB_NOTE_READ_MAX);
    read_or_die((uint32_t)p->p_offset, note_buf, (uint32_t)p->p_filesz, "a PT_NOTE");
    return note_buf;
}

/* The first pagelab note of any PT_NOTE sets the strategy (or the default). */
static void read_note(struct boot_info *bi, uint32_t phnum, uint32_t file_size)
{
    struct pagelab_boot_note desc;
    int found = 0;
    for (uint32_t i = 0; i < phnum && !found; i++) {
        Elf64_Phdr p;
        memcpy(&p, phdr_buf + i * sizeof(p), sizeof(p));
        if (p.p_type == PT_NOTE)
            found = kernel_note_find(note_bytes(&p, file_size), p.p_filesz, p.p_align,
                                     p.p_offset, &desc);
    }
    kernel_note_apply(bi, found ? &desc : 0);
}

void kernel_load(struct boot_info *bi)
{
    open_kernel();
    uint32_t size = fat_file_size(&kernel_file);
    uint32_t head = size < sizeof(ehdr_buf) ? size : sizeof(ehdr_buf);
    read_or_die(0, ehdr_buf, head, "the ELF header");
    uint64_t phoff, entry;
    uint32_t phnum;
    int err = elf_check_header(ehdr_buf, head, size, &phoff, &phnum, &entry);
    if (err)
        die("%s: %s", KERNEL_PATH, elf_strerror(err));
    if (phnum > MAX_PHDRS)
        die("%s: %u program headers, more than the %u the loader reads", KERNEL_PATH, phnum,
            MAX_PHDRS);
    read_or_die((uint32_t)phoff, phdr_buf, phnum * (uint32_t)sizeof(Elf64_Phdr),
                "the program headers");
    /* No forbidden ranges: check_placement names the one a segment hits. */
    err = elf_collect_segments(phdr_buf, phnum, size, 0, 0, kernel_segments, MAX_SEGMENTS,
                               &kernel_segment_count);
    if (!err)
        err = elf_check_entry(kernel_segments, kernel_segment_count, entry);
    if (err)
        die("%s: %s", KERNEL_PATH, elf_strerror(err));
    for (uint32_t i = 0; i < kernel_segment_count; i++) {   /* all checks before any write */
        check_placement(&kernel_segments[i]);
        check_virtual(&kernel_segments[i]);
        check_permissions(&kernel_segments[i]);
    }
    check_total_size(kernel_segments, kernel_segment_count);
    for (uint32_t i = 0; i < kernel_segment_count; i++)
        load_segment(bi, &kernel_segments[i]);
    bi->kernel_entry = entry;
    read_note(bi, phnum, size);
    /* the entry point is on the "entering long mode" line: one line each
     * keeps both within 80 columns, the strategy's name included */
    progress("kernel: %u segments at physical 0x%llx-0x%llx (%s)", kernel_segment_count,
             (unsigned long long)bi->kernel_phys_start, (unsigned long long)bi->kernel_phys_end,
             kernel_note_strategy_name(bi->strategy));
}
