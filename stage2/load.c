/*
 * load.c - find the kernel on the FAT partition and load its segments.
 *
 * The partition is the first MBR entry with a FAT type; the kernel is the
 * file KERNEL_PATH on it. Only the ELF header, the program headers and the
 * PT_LOAD file bytes are read (not the whole file: debug info stays on
 * disk), each straight to its physical address through the bounce buffer;
 * the rest of each segment (bss) is zeroed.
 */
#include <stdint.h>
#include "stage2.h"
#include "alloc.h"
#include "fat.h"
#include "elf.h"
#include "lib.h"
#include "../include/layout.h"
#include "../include/pte.h"

#define MBR_PARTITIONS     4
#define ELF_HEADER_READ    64
#define MAX_PHDRS          64
#define MAX_SEGMENTS       16
#define ONE_MIB            0x100000ULL
#define PML4_SPAN          PT_LEVEL_SPAN(4)
#define WINDOW_PML4_SLOTS  64                    /* stage2/paging.c's limit */
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

/* Segments must not touch firmware and loader memory below 1 MiB, and must
 * be RAM the map calls usable (and below 4 GiB: stage2 writes them with
 * 32-bit pointers). */
static void check_placement(const struct elf_segment *s)
{
    uint64_t start = s->paddr & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t end = (s->paddr + s->memsz + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    if (!alloc_is_usable(start, end - start))
        die("kernel segment at physical 0x%llx-0x%llx is not in usable RAM below 4 GiB",
            (unsigned long long)start, (unsigned long long)end);
    if (end - start > KERNEL_MAX_SIZE)
        die("kernel segment at 0x%llx is larger than KERNEL_MAX_SIZE", (unsigned long long)start);
}

/* Virtual ranges the loader fills itself (include/layout.h). A kernel
 * segment inside one would silently share the loader's tables (or, in the
 * recursive slot, write into the PML4), and page 0 must stay unmapped. */
static const struct {
    const char *what;
    uint64_t start, end;
} loader_virtual[] = {
    { "page 0 and the identity map", 0, IDENTITY_MAP_SIZE },
    { "the physical-memory window", PHYS_WINDOW_BASE,
      PHYS_WINDOW_BASE + WINDOW_PML4_SLOTS * PML4_SPAN },
    { "the table-offset region", TABLE_OFFSET_BASE, TABLE_OFFSET_BASE + PML4_SPAN },
    { "the recursive slot", UPPER_HALF | RECURSIVE_INDEX * PML4_SPAN,
      UPPER_HALF | (RECURSIVE_INDEX + 1) * PML4_SPAN },
    { "the temporary-mapping slots", TEMP_SLOTS_BASE, TEMP_SLOTS_BASE + PAGE_SIZE_2M },
    { "the frame bitmap and the kernel stack", PMM_BITMAP_BASE, KERNEL_STACK_TOP },
};

static void check_virtual(const struct elf_segment *s)
{
    uint64_t start = s->vaddr & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t end = (s->vaddr + s->memsz + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    for (unsigned i = 0; i < sizeof(loader_virtual) / sizeof(loader_virtual[0]); i++)
        if (start < loader_virtual[i].end && loader_virtual[i].start < end)
            die("kernel segment at virtual 0x%llx-0x%llx overlaps %s: link the kernel "
                "elsewhere (include/layout.h)", (unsigned long long)start,
                (unsigned long long)end, loader_virtual[i].what);
}

static void load_segment(struct boot_info *bi, const struct elf_segment *s)
{
    check_placement(s);
    check_virtual(s);
    void *dst = (void *)(uintptr_t)s->paddr;
    read_or_die((uint32_t)s->offset, dst, (uint32_t)s->filesz, "a segment");
    memset((uint8_t *)dst + s->filesz, 0, (size_t)(s->memsz - s->filesz));
    uint64_t start = s->paddr & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t end = (s->paddr + s->memsz + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    alloc_record(start, (end - start) / PAGE_SIZE, LOADER_RANGE_KERNEL);
    if (!bi->kernel_phys_start || start < bi->kernel_phys_start) {
        bi->kernel_phys_start = start;
        bi->kernel_virt_start = s->vaddr & ~(uint64_t)(PAGE_SIZE - 1);
    }
    if (end > bi->kernel_phys_end) {
        bi->kernel_phys_end = end;
        bi->kernel_virt_end = (s->vaddr + s->memsz + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    }
}

/* Segments found by kernel_load, for paging_build to map. */
struct elf_segment kernel_segments[MAX_SEGMENTS];
uint32_t kernel_segment_count;

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
    const struct elf_range loader_memory[] = { { 0, ONE_MIB } };
    err = elf_collect_segments(phdr_buf, phnum, size, loader_memory, 1, kernel_segments,
                               MAX_SEGMENTS, &kernel_segment_count);
    if (!err)
        err = elf_check_entry(kernel_segments, kernel_segment_count, entry);
    if (err)
        die("%s: %s", KERNEL_PATH, elf_strerror(err));
    for (uint32_t i = 0; i < kernel_segment_count; i++)
        load_segment(bi, &kernel_segments[i]);
    bi->kernel_entry = entry;
    progress("kernel: %u segments at physical 0x%llx-0x%llx, entry 0x%llx", kernel_segment_count,
             (unsigned long long)bi->kernel_phys_start, (unsigned long long)bi->kernel_phys_end,
             (unsigned long long)entry);
}
