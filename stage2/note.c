/*
 * note.c - reading the kernel's pagelab note (see note.h and
 * include/kernel_note.h). The bytes come from the kernel file; every field
 * is checked before stage2 acts on it.
 */
#include <stdint.h>
#include "note.h"
#include "elf.h"
#include "lib.h"
#include "panic.h"
#include "../include/layout.h"

static const char *const strategy_names[] = PAGELAB_STRATEGY_NAMES;

int kernel_note_find(const void *bytes, uint64_t len, uint64_t align, uint64_t offset,
                     struct pagelab_boot_note *desc)
{
    struct elf_note n;
    int r = elf_find_note(bytes, len, align, PAGELAB_NOTE_NAME, PAGELAB_NOTE_BOOT, &n);
    if (r < 0)
        die("%s: PT_NOTE at file offset 0x%llx (%llu bytes): %s", KERNEL_PATH,
            (unsigned long long)offset, (unsigned long long)len, elf_strerror(r));
    if (!r)
        return 0;
    if (n.descsz < sizeof(*desc))
        die("%s: the pagelab note has %u bytes of description, fewer than the %u of struct "
            "pagelab_boot_note (include/kernel_note.h)", KERNEL_PATH, n.descsz,
            (unsigned)sizeof(*desc));
    memcpy(desc, n.desc, sizeof(*desc));
    return 1;
}

void kernel_note_apply(struct boot_info *bi, const struct pagelab_boot_note *desc)
{
    if (!desc) {
        bi->strategy = PAGELAB_NOTE_DEFAULT_STRATEGY;
        progress("no pagelab note in the kernel: strategy %s (the default)",
                 strategy_names[bi->strategy]);
        return;
    }
    if (desc->strategy < PAGELAB_STRATEGY_FIRST || desc->strategy > PAGELAB_STRATEGY_LAST)
        die("%s: the pagelab note names strategy %u, which does not exist (%u-%u: identity, "
            "table-offset, offset, temporary, recursive)", KERNEL_PATH, desc->strategy,
            PAGELAB_STRATEGY_FIRST, PAGELAB_STRATEGY_LAST);
    if (desc->paging_levels == PAGING_LEVELS_5)
        die("%s: the pagelab note asks for 5-level paging (CR4.LA57), which this stage2 "
            "does not build yet: build the kernel for 4 levels", KERNEL_PATH);
    if (desc->paging_levels != PAGING_LEVELS_4)
        die("%s: the pagelab note asks for %u-level paging: x86-64 pages with 4 or 5 levels",
            KERNEL_PATH, desc->paging_levels);
    bi->strategy = desc->strategy;
}

const char *kernel_note_strategy_name(uint32_t strategy)
{
    return strategy_names[strategy];
}
