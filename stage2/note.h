/*
 * note.h - the kernel's pagelab note (include/kernel_note.h): which
 * strategy's page tables stage2 builds. Part of step 5 (load.h):
 * kernel_load hands over the bytes of each PT_NOTE and then the note it
 * found, or none.
 */
#ifndef STAGE2_NOTE_H
#define STAGE2_NOTE_H

#include <stdint.h>
#include "../include/bootinfo.h"
#include "../include/kernel_note.h"

/* Looks for pagelab's boot note in the bytes of one PT_NOTE segment (len
 * bytes, p_align align, at file offset `offset`: for the messages).
 * Returns 1 and copies its description to *desc when found, 0 when the
 * segment has none. Dies, by name, on a note that runs past the segment
 * and on a pagelab note whose description is shorter than struct
 * pagelab_boot_note (bytes beyond it are for later versions: ignored). */
int kernel_note_find(const void *bytes, uint64_t len, uint64_t align, uint64_t offset,
                     struct pagelab_boot_note *desc);

/* Fills bi->strategy from desc, or with PAGELAB_NOTE_DEFAULT_STRATEGY when
 * desc is 0 (no note: then says so on a progress line; with a note the
 * kernel line names the strategy, and a line of its own would cost the
 * boot some 7,000 instructions of console output). Dies, by name, on a
 * strategy id that does not exist, on 5-level paging (not built yet) and
 * on any other paging depth. */
void kernel_note_apply(struct boot_info *bi, const struct pagelab_boot_note *desc);

/* The name of a strategy kernel_note_apply accepted ("offset", ...). */
const char *kernel_note_strategy_name(uint32_t strategy);

#endif
