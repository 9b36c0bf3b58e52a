/*
 * image.h - a user program's address space, built from its ELF file
 * (a boot module) while that space is not the active one: exec's and
 * spawn's half that is paging, and fork's eager copy. The process layer
 * (scheduler, system calls) is built on it.
 */
#ifndef KERNEL_PROC_IMAGE_H
#define KERNEL_PROC_IMAGE_H

#include <stdint.h>

#include "pt.h"

/* What image_load made. */
struct image {
    uint64_t entry;        /* e_entry: the first user instruction */
    uint64_t end;          /* first page above the highest segment: where the heap starts */
    uint64_t stack_top;    /* USER_STACK_TOP: RSP for the first instruction */
    uint64_t stack_guard;  /* the unmapped page below the stack */
    uint32_t pages;        /* frames mapped: segments' pages + the stack's */
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

#define IMAGE_MAX_SEGMENTS 8

/*
 * Checks the ELF64 file [elf, elf + size) with the loader's checker
 * (common/elf.c) and pagelab's rules for user programs (every segment in
 * the user half above USER_BASE and below the stack's guard page, W^X),
 * then maps each segment's pages into `as` (which must not be the active
 * space, nor have anything mapped where the image goes) with the
 * segment's permissions plus user, file bytes copied and the rest zeroed,
 * and USER_STACK_PAGES zeroed user pages, writable, not executable, under
 * USER_STACK_TOP with the page below them left unmapped (the guard).
 * On an error what was mapped stays mapped: the caller destroys the space
 * (pt_space_destroy, with image_free_leaf), which gives everything back.
 */
enum image_status image_load(struct pt_space *as, const void *elf, uint64_t size,
                             struct image *out, int *elf_err);

/* pt_space_destroy's leaf callback for spaces built here: frees the frame
 * to the general zone. */
void image_free_leaf(vaddr_t va, paddr_t frame, uint64_t size, void *ctx);

/* Fork's eager copy: every leaf of src's own slots gets a fresh frame in
 * dst (which must be empty there) with the same contents and permissions.
 * *pages counts the frames copied. IMAGE_ERR_NO_MEMORY leaves dst partly
 * built (destroy it). Huge leaves are copied 4 KiB at a time into 4 KiB
 * leaves (user images here have none; a 2 MiB copy would need 512 frames
 * at once). */
enum image_status image_copy(struct pt_space *dst, const struct pt_space *src, uint32_t *pages);

const char *image_status_name(enum image_status st);

#endif
