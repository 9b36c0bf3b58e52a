/*
 * pt_model.h - the reference model of the paging core, shared by the
 * seeded model test (tests/host/test_pt_model.c) and the libFuzzer harness
 * (tests/fuzz/fuzz_pt.c). Those two only choose operations and operands;
 * everything that runs an operation on the real paging core, predicts its
 * outcome and compares the two lives in pt_model.c.
 *
 * The model holds the leaves of a small "hot" area of virtual space: a few
 * clusters, each a few 1 GiB regions from a base address, each region's
 * first few 2 MiB slots, each slot's 512 4 KiB pages. It also counts the
 * entries each page table holds, so it predicts every status, translation
 * and permission, and the exact number of page-table frames in use: a
 * table leaked or freed too early shows.
 *
 * One model per program (file-scope state, like the core's). A check that fails
 * calls the driver's hook once; later checks report nothing (their state
 * may follow from the first failure), and model_failed() says so.
 */
#ifndef TESTS_HOST_PT_MODEL_H
#define TESTS_HOST_PT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "pt.h"

#define MODEL_PAGES 512  /* 4 KiB pages in a 2 MiB slot: one PT's entries */

/* layout.h's page sizes as 64-bit values, so that q.g * MODEL_1G and the
 * like cannot wrap in 32 bits. */
#define MODEL_4K ((uint64_t)PAGE_SIZE)
#define MODEL_2M ((uint64_t)PAGE_SIZE_2M)
#define MODEL_1G ((uint64_t)PAGE_SIZE_1G)

/* Page-table frames a map may take from its frame source: no limit, the
 * kernel's own allocator. */
#define MODEL_FRAMES_UNLIMITED (-1)

/* A 4 KiB page in the hot area: cluster, 1 GiB region in it, 2 MiB slot
 * in that, 4 KiB page in that. */
struct model_pos {
    unsigned c, g, s, p;
};

/* pages 4 KiB pages from q, all inside q's region's hot slots. */
struct model_span {
    struct model_pos q;
    uint64_t pages;
};

struct model_config {
    unsigned clusters;            /* entries of cluster_base */
    unsigned regions;             /* 1 GiB regions per cluster, 1..512 */
    unsigned slots;               /* hot 2 MiB slots per region, 1..511: a
                                     span never covers a whole region */
    const uint64_t *cluster_base; /* canonical, 512 GiB aligned, each in its
                                     own PML4 entry: one PDPT per cluster */
    /* Called once, at the first failed check, with where it is in
     * pt_model.c and what went wrong. May return (the model carries on
     * quietly) or not (__builtin_trap for libFuzzer). */
    void (*fail)(const char *file, int line, const char *msg);
};

/* Boots a fresh fake machine (fake_boot(cpu_features): 1 << CPU_NX, 1 <<
 * CPU_PAGE1GB) and empties the model: no leaves, only the PML4, no failure.
 * *cfg is copied; its cluster_base array must outlive the model's use.
 * Without CPU_NX the model expects every leaf to read back executable.
 * Allocates the model's arrays when the config's sizes change (exits if it
 * cannot), else reuses them. */
void model_start(const struct model_config *cfg, uint32_t cpu_features);

/* True once a check has failed since model_start. */
bool model_failed(void);

/* The start of the size (MODEL_4K, MODEL_2M, MODEL_1G) page holding q. */
struct model_pos model_align(struct model_pos q, uint64_t size);

/*
 * Each operation below runs the named pt.h call at q (or over r),
 * checks the status, results and TLB work against the model's prediction,
 * updates the model when the call succeeded, and returns the status the
 * kernel gave (for the driver's statistics). Positions must lie in the
 * hot area (c < clusters, g < regions, s < slots); spans must end in
 * their start's region's hot slots.
 */

/* pt_map of a size page at q (aligned to size) to pa (aligned to size,
 * inside the physical address width) with prot (PT_PROT_*). frames: how
 * many page-table frames the map may take, or MODEL_FRAMES_UNLIMITED.
 * Also checks that no full flush happens, and no INVLPG for a new kernel
 * (non-user) leaf: it replaces a not-present entry. */
enum pt_status model_map(struct model_pos q, uint64_t size, uint64_t pa, uint32_t prot,
                         int frames);

/* pt_unmap at q's address, which need not start a leaf (then
 * PT_ERR_MISALIGNED). Checks the frame and size returned and exactly one
 * INVLPG. */
enum pt_status model_unmap(struct model_pos q);

/* pt_protect of the size page at q (aligned to size) to prot. */
enum pt_status model_protect(struct model_pos q, uint64_t size, uint32_t prot);

/* pt_translate of q's address plus offset (< 4 KiB). Checks the frame,
 * page size and effective prot when mapped. */
enum pt_status model_translate(struct model_pos q, uint64_t offset);

/* pt_map_range of r to pa with prot; opts PT_RANGE_4K_ONLY or
 * PT_RANGE_ALLOW_HUGE (2 MiB leaves where aligned; never 1 GiB, as r is
 * shorter than a region). frames: how many page-table frames it may take
 * (the range then fails midway with PT_ERR_NO_FRAMES), or
 * MODEL_FRAMES_UNLIMITED (the kernel's allocator). A failed range map,
 * whatever the reason, must leave every entry and every table's used-entry
 * count exactly as before (compared through pt_visit). */
enum pt_status model_map_range(struct model_span r, uint64_t pa, uint32_t prot,
                               uint32_t opts, int frames);

/* pt_map_range of the whole 1 GiB region holding q to pa (1 GiB aligned),
 * huge leaves allowed, prot 0: one 1 GiB leaf, or a conflict. */
enum pt_status model_map_region(struct model_pos q, uint64_t pa);

/* pt_unmap_range / pt_protect_range of r: every leaf inside goes or takes
 * prot, unless a huge leaf straddles an end (PT_ERR_HUGE_IN_WAY, no
 * change). */
enum pt_status model_unmap_range(struct model_span r);
enum pt_status model_protect_range(struct model_span r, uint32_t prot);

/* pt_unmap_range of the whole 1 GiB region holding q, which must succeed;
 * its leaves leave the model. */
void model_unmap_region(struct model_pos q);

/*
 * Swap entries (pt_swap.c), 4 KiB pages of the lower half only (the
 * calls' contract: clusters below USER_END): a swap entry is a used entry of its PT but no
 * leaf; nothing maps over it, pt_unmap and the range edits step over it,
 * and model_finish clears every one left before it unmaps.
 */
/* pt_entry_get at q: the status, and the entry (0, the leaf's frame and
 * bits, or the swap entry). */
enum pt_status model_entry_get(struct model_pos q);
/* pt_swap_out of q's leaf to swap (a valid swap entry, or anything else
 * for PT_ERR_BAD_PROT): the old leaf returned, one INVLPG (the kernel's
 * space is active). */
enum pt_status model_swap_out(struct model_pos q, pte_t swap);
/* pt_swap_in of q's swap entry to pa with prot (its U kept as the page
 * had it: pt_swap_in adds no U above the leaf): no invalidation. */
enum pt_status model_swap_in(struct model_pos q, uint64_t pa, uint32_t prot);
/* pt_swap_clear of q's swap entry: its table count drops, emptied tables
 * are freed (one INVLPG then, none otherwise). */
enum pt_status model_swap_clear(struct model_pos q);

/* pt_space_clone of r (a cluster of the lower half, at most 8 slots) from the kernel's space
 * (active, selected) into a fresh space with opts (PT_CLONE_SHARE,
 * PT_CLONE_COW, or an unknown bit for PT_ERR_BAD_PROT): the status (a huge
 * leaf in r: PT_ERR_HUGE_IN_WAY, nothing changed), every leaf and swap
 * entry of r in the copy as in the model (W gone with COW, in both
 * spaces), reported to leaves() and counted in *copied, the copy's tables
 * and their counts, src's invalidations; then the copy is destroyed and
 * every frame it took must be back. */
enum pt_status model_clone(struct model_span r, uint32_t opts);

/* Whole-state check: frames in use match the model's tables, pt_visit
 * finds exactly the model's leaves (address, size, frame, prot), swap
 * entries (address, slot) and tables, and each table of the hot area
 * holds the model's count of entries. Changes nothing. */
void model_check(void);

/* Unmaps every region (model_unmap_region), then checks that every table
 * frame went back and the frame allocator is consistent. Does nothing
 * after a failed check: the kernel's state may be broken. */
void model_finish(void);

#endif
