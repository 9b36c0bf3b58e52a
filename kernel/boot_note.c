/*
 * boot_note.c - the ELF note that tells stage2 which strategy this kernel
 * was built for (include/kernel_note.h), so that one stage2 builds the
 * right tables for any strategy's kernel. kernel/kernel.ld puts it in its
 * own PT_NOTE; report_check_boot_info still checks that the loader
 * honoured it.
 */
#include "kernel_note.h"

PAGELAB_KERNEL_NOTE(PAGELAB_STRATEGY);
