/*
 * image.h - a user program's address space, built from its ELF file
 * (a boot module) while that space is not the active one: exec's and
 * spawn's half that is paging. The process layer
 * (scheduler, system calls) is built on it.
 */
#ifndef KERNEL_PROC_IMAGE_H
#define KERNEL_PROC_IMAGE_H

#include <stdint.h>

#include "pt.h"

#define IMAGE_MAX_SEGMENTS 8

/* One loaded segment's pages: a region of the process (kernel/proc/vm.h). */
struct image_segment {
    uint64_t start, end;   /* page aligned */
    uint32_t prot;         /* PT_PROT_WRITE / PT_PROT_EXEC */
};

/* What image_load made. */
struct image {
    uint64_t entry;        /* e_entry: the first user instruction */
    uint64_t end;          /* first page above the highest segment: where the heap starts */
    uint64_t stack_top;    /* USER_STACK_TOP: RSP for the first instruction */
    uint64_t stack_guard;  /* the guard page below the stack's limit: never mapped */
    uint32_t pages;        /* frames mapped: the segments' pages (the stack has none yet) */
    uint32_t nseg;
    struct image_segment seg[IMAGE_MAX_SEGMENTS];
};

enum image_status {
    IMAGE_OK = 0,
    IMAGE_ERR_ELF,         /* not a usable ELF64 executable: *elf_err says how */
    IMAGE_ERR_PLACE,       /* a segment outside [USER_BASE, the stack's guard page) */
    IMAGE_ERR_WX,          /* a segment both writable and executable */
    IMAGE_ERR_TOO_MANY,    /* more PT_LOAD segments than IMAGE_MAX_SEGMENTS */
    IMAGE_ERR_NO_MEMORY,   /* no frame or table left */
    IMAGE_STATUS_COUNT
};

/*
 * Checks the ELF64 file [elf, elf + size) with the loader's checker
 * (common/elf.c) and pagelab's rules for user programs (every segment in
 * the user half above USER_BASE and below the stack's guard page, W^X),
 * then maps each segment's pages into `as` (which must not be the active
 * space, nor have anything mapped where the image goes) with the
 * segment's permissions plus user, file bytes copied and the rest zeroed,
 * each in a frame of its own with one reference (frame_new). The stack is
 * not mapped: it is a region that faults its pages in (kernel/proc/vm.h).
 * On an error what was mapped stays mapped: the caller destroys the space
 * (vm_destroy), which gives everything back.
 */
enum image_status image_load(struct pt_space *as, const void *elf, uint64_t size,
                             struct image *out, int *elf_err);

const char *image_status_name(enum image_status st);

#endif
