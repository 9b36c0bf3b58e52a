/*
 * kernel_note.h - what a kernel tells stage2 about itself: an ELF note.
 *
 * The contract between the kernel file and the loader, the way
 * rust-osdev/bootloader 0.11 carries its config inside the kernel: the
 * kernel ELF has a PT_NOTE segment holding a note of owner "pagelab" and
 * type PAGELAB_NOTE_BOOT whose description is struct pagelab_boot_note.
 * stage2 reads it from the program headers (the note's bytes only) and
 * builds the page tables that strategy needs, so one stage2 boots the
 * kernel of any strategy. The note's form is the System V gABI's
 * ("Note Section"): namesz, descsz, type, then the name and the
 * description, each padded to 4 bytes.
 *
 * A kernel without the note gets PAGELAB_NOTE_DEFAULT_STRATEGY: the
 * offset strategy needs nothing but what every boot gets (the physical
 * window is mapped in every strategy), so a kernel that knows nothing of
 * pagelab gets exactly the entry state README.md describes. A note that is
 * malformed, names an unknown strategy or a paging depth stage2 does not
 * build stops the boot by name (NOTES.md, "Error messages").
 *
 * For a C kernel (gcc or clang; the section is a .note, so the assembler
 * makes it SHT_NOTE and GNU ld a PT_NOTE):
 *     #include "kernel_note.h"
 *     PAGELAB_KERNEL_NOTE(STRATEGY_OFFSET);
 */
#ifndef PAGELAB_KERNEL_NOTE_H
#define PAGELAB_KERNEL_NOTE_H

#include <stdint.h>
#include "bootinfo.h"

#define PAGELAB_NOTE_NAME       "pagelab"     /* the note's owner */
#define PAGELAB_NOTE_NAMESZ     8             /* strlen + its NUL, as the gABI counts */
#define PAGELAB_NOTE_BOOT       1             /* type: struct pagelab_boot_note */
#define PAGELAB_NOTE_SECTION    ".note.pagelab"
/* stage2 reads a note where a PT_LOAD put it (GNU ld and kernel/kernel.ld
 * place .note sections in one); a PT_NOTE outside every PT_LOAD costs a
 * disk read and may be this long at most. */
#define PAGELAB_NOTE_READ_MAX   512
/* 4-level paging (IA-32e, CR4.LA57 off: SDM Vol. 3A 4.5) is what stage2
 * builds; 5 is defined for issue 16 and refused by name until then. */
#define PAGING_LEVELS_4         4
#define PAGING_LEVELS_5         5
#define PAGELAB_NOTE_DEFAULT_STRATEGY STRATEGY_OFFSET
/* enum pt_strategy_id runs from the first to the last, with no gap */
#define PAGELAB_STRATEGY_FIRST  STRATEGY_IDENTITY
#define PAGELAB_STRATEGY_LAST   STRATEGY_RECURSIVE
/* Their names, as the Makefile's STRATEGY= spells them: an initializer. */
#define PAGELAB_STRATEGY_NAMES {                                                            \
    [STRATEGY_IDENTITY] = "identity", [STRATEGY_TABLE_OFFSET] = "table-offset",           \
    [STRATEGY_OFFSET] = "offset", [STRATEGY_TEMPORARY] = "temporary",                     \
    [STRATEGY_RECURSIVE] = "recursive" }

/* The description: fixed-width fields, ABI like BootInfo's. */
struct pagelab_boot_note {
    uint32_t strategy;        /* enum pt_strategy_id: the tables stage2 builds */
    uint32_t paging_levels;   /* PAGING_LEVELS_4 (5: not yet) */
};

/* The whole note as it lies in the file. */
struct pagelab_note {
    uint32_t namesz, descsz, type;
    char name[PAGELAB_NOTE_NAMESZ];
    struct pagelab_boot_note desc;
};
_Static_assert(sizeof(struct pagelab_boot_note) == 8, "note description: 8 bytes, ABI");
_Static_assert(sizeof(struct pagelab_note) == 28, "gABI note: 12-byte header, name, desc");

/* Defines the note in the kernel being compiled, with 4-level paging. */
#define PAGELAB_KERNEL_NOTE(strategy_id)                                                    \
    __attribute__((section(PAGELAB_NOTE_SECTION), used, aligned(4)))                        \
    static const struct pagelab_note pagelab_kernel_note = {                                \
        PAGELAB_NOTE_NAMESZ, sizeof(struct pagelab_boot_note), PAGELAB_NOTE_BOOT,           \
        PAGELAB_NOTE_NAME, { (strategy_id), PAGING_LEVELS_4 } }

#endif
