/*
 * bootinfo.h - the contract between stage2 and the kernel.
 *
 * stage2 fills one struct boot_info in a frame of its own and passes its
 * (identity-mapped) physical address in RDI. Fixed-width fields only, so the
 * 32-bit loader and the 64-bit kernel agree on every offset; the
 * _Static_asserts below pin the layout. Every field is documented in NOTES.md
 * ("BootInfo").
 *
 * Compatibility: `magic` identifies the struct, `version` changes whenever a
 * field changes meaning or moves, `size` is sizeof at build time. The kernel
 * refuses a mismatch with a named error.
 */
#ifndef PAGELAB_BOOTINFO_H
#define PAGELAB_BOOTINFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC    0x4F464E49424C50ULL /* "PLBINFO" */
/* 2: boot modules (the FAT partition's /bin files) and the boot
 * configuration file, module_count .. modules[] at the end.
 * 3: room for 32 modules instead of 16 (the programs outgrew 16). */
#define BOOT_INFO_VERSION  3

/* One memory-map entry; the layout of an ACPI 3.x E820 entry (24 bytes). */
struct mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type;   /* enum mem_type */
    uint32_t attr;   /* ACPI 3.x extended attributes (bit 0: valid) */
};

/* E820 types (ACPI 6.x, table 15-312 "Address Range Types"). */
enum mem_type {
    MEM_USABLE = 1,
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIM = 3,
    MEM_ACPI_NVS = 4,
    MEM_BAD = 5,
    MEM_PERSISTENT = 7,
};

/* Where the raw map came from (INT 15h functions). */
enum mem_map_source {
    MAP_SOURCE_E820 = 1,  /* INT 15h EAX=E820h */
    MAP_SOURCE_E801 = 2,  /* INT 15h AX=E801h */
    MAP_SOURCE_88 = 3,    /* INT 15h AH=88h */
};

/* Kinds of memory the loader used and the kernel must not hand out. */
enum loader_range_kind {
    LOADER_RANGE_IMAGE = 1,        /* stage1+stage2 image, stack, bounce buffer */
    LOADER_RANGE_KERNEL = 2,       /* kernel segments (incl. bss) */
    LOADER_RANGE_PAGE_TABLES = 3,  /* page tables the kernel keeps */
    LOADER_RANGE_WINDOW_TABLES = 4,/* tables of the physical window only */
    LOADER_RANGE_BOOT_INFO = 5,
    LOADER_RANGE_STACK = 6,
    LOADER_RANGE_TABLE_POOL = 7,   /* free frames reserved for page tables */
    LOADER_RANGE_PMM_BITMAP = 8,   /* frame-allocator metadata */
    LOADER_RANGE_MODULE = 9,       /* boot modules' bytes (modules[] below) */
    LOADER_RANGE_CONFIG = 10,      /* the boot configuration file's bytes */
};

struct loader_range {
    uint64_t base;     /* physical, page aligned */
    uint64_t pages;
    uint32_t kind;     /* enum loader_range_kind */
    uint32_t reserved;
};

/* Build-time strategies (issue "Paging core"). Values are ABI. */
enum pt_strategy_id {
    STRATEGY_IDENTITY = 1,
    STRATEGY_TABLE_OFFSET = 2,
    STRATEGY_OFFSET = 3,
    STRATEGY_TEMPORARY = 4,
    STRATEGY_RECURSIVE = 5,
};

/* CPU features found by stage2 (CPUID), bit numbers in cpu_features. */
enum cpu_feature_bit {
    CPU_NX = 0,       /* CPUID 80000001h EDX[20] */
    CPU_PAGE1GB = 1,  /* CPUID 80000001h EDX[26] */
    CPU_PGE = 2,      /* CPUID 01h EDX[13] */
    CPU_LA57 = 3,     /* CPUID 07h ECX[16] */
    CPU_SMEP = 4,     /* CPUID 07h EBX[7] */
    CPU_SMAP = 5,     /* CPUID 07h EBX[20] */
    CPU_PAE = 6,      /* CPUID 01h EDX[6] */
    CPU_LM = 7,       /* CPUID 80000001h EDX[29] */
    CPU_TSC = 8,      /* CPUID 01h EDX[4] */
};

/* Whether stage2 found CPU feature f: the one test of cpu_features. */
#define BOOT_CPU_HAS(bi, f) ((((bi)->cpu_features) >> (f)) & 1u)

#define BOOT_INFO_MAX_REGIONS 128
#define BOOT_INFO_MAX_LOADER_RANGES 32
/* Boot modules: the regular files of BOOT_MODULE_DIR (include/layout.h),
 * each loaded whole into page-aligned frames of its own (the Multiboot and
 * Limine convention: name, physical range, size). */
#define BOOT_INFO_MAX_MODULES 32
#define BOOT_MODULE_NAME_MAX  32   /* bytes, with the terminating NUL */

struct boot_module {
    uint64_t phys;    /* page aligned physical start */
    uint64_t size;    /* bytes of the file */
    char name[BOOT_MODULE_NAME_MAX];   /* its name in /bin, e.g. "hello" */
};

struct boot_info {
    uint64_t magic;
    uint32_t version;
    uint32_t size;

    uint32_t strategy;          /* enum pt_strategy_id the loader built for */
    uint32_t boot_drive;        /* BIOS drive number (DL) */
    uint32_t cpu_features;      /* 1 << enum cpu_feature_bit */
    uint32_t phys_addr_bits;    /* CPUID 80000008h EAX[7:0] */
    uint32_t linear_addr_bits;  /* CPUID 80000008h EAX[15:8] */
    uint32_t map_source;        /* enum mem_map_source */

    uint64_t phys_window_base;  /* virtual address of physical 0 */
    uint64_t phys_window_size;  /* bytes mapped by the window */
    uint32_t window_page_size;  /* 0x40000000 or 0x200000 */
    uint32_t window_table_frames; /* tables spent on the window (PDPT + PDs) */
    uint64_t identity_size;     /* low memory mapped 1:1 (page 0 excluded) */
    uint64_t pml4_phys;         /* CR3 at kernel entry */

    uint64_t kernel_phys_start; /* lowest PT_LOAD physical address */
    uint64_t kernel_phys_end;   /* end of the highest one (page aligned) */
    uint64_t kernel_virt_start;
    uint64_t kernel_virt_end;
    uint64_t kernel_entry;
    uint64_t stack_top;         /* virtual; RSP at entry is stack_top */
    uint64_t stack_bottom;      /* virtual; the page below is the guard */

    uint64_t table_pool_phys;   /* identity/table-offset: reserved table frames */
    uint64_t table_pool_pages;
    uint64_t temp_l1_phys;      /* temporary: the slot level-1 table (identity mapped) */
    uint64_t pmm_bitmap_virt;   /* frame-allocator metadata (not cleared: the kernel writes it) */
    uint64_t pmm_bitmap_bytes;
    uint64_t max_phys;          /* end of the highest usable region, at most PMM_MAX_PHYS */

    uint64_t tsc_stage1;        /* rdtsc at stage1 entry */
    uint64_t tsc_stage2;        /* rdtsc at stage2 entry */
    uint64_t tsc_kernel_jump;   /* rdtsc just before the jump to the kernel */

    uint32_t raw_count;         /* entries in raw_map */
    uint32_t map_count;         /* entries in map (sanitised) */
    uint32_t raw_truncated;     /* firmware had more than BOOT_INFO_MAX_REGIONS */
    uint32_t loader_range_count;

    struct loader_range loader_ranges[BOOT_INFO_MAX_LOADER_RANGES];
    struct mem_region raw_map[BOOT_INFO_MAX_REGIONS]; /* as the firmware gave it */
    struct mem_region map[BOOT_INFO_MAX_REGIONS];     /* sorted, merged, page aligned */

    /* version 2: boot modules and the configuration file */
    uint32_t module_count;      /* entries in modules[], in directory order */
    uint32_t config_size;       /* bytes of BOOT_CONFIG_PATH; 0: there is none */
    uint64_t config_phys;       /* page aligned; 0 when config_size is 0 */
    struct boot_module modules[BOOT_INFO_MAX_MODULES];
};

_Static_assert(sizeof(struct mem_region) == 24, "E820 entry layout");
_Static_assert(sizeof(struct loader_range) == 24, "loader range layout");
_Static_assert(__builtin_offsetof(struct boot_info, magic) == 0, "magic first");
_Static_assert(__builtin_offsetof(struct boot_info, version) == 8, "version second");
_Static_assert(__builtin_offsetof(struct boot_info, size) == 12, "size third");
_Static_assert(__builtin_offsetof(struct boot_info, phys_window_base) == 40, "layout");
_Static_assert(__builtin_offsetof(struct boot_info, loader_ranges) % 8 == 0, "alignment");
_Static_assert(sizeof(struct boot_module) == 48, "module layout");
_Static_assert(__builtin_offsetof(struct boot_info, modules) % 8 == 0, "alignment");
_Static_assert(sizeof(struct boot_info) % 8 == 0, "size multiple of 8");
_Static_assert(sizeof(struct boot_info) <= 3 * 4096, "BootInfo fits in three frames (stage2's bss, one loader range)");

#endif
