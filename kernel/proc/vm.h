/*
 * vm.h - a process's virtual memory: its regions, and the page faults the
 * kernel resolves inside them instead of killing the process.
 *
 * A region is a page-aligned range with permissions and a kind. The image's
 * segments are loaded when the program starts (kernel/proc/image.c); every
 * other page (heap, stack, anonymous and shared mappings) gets a frame on
 * its first touch:
 *   - a read of never-written private memory maps the one shared zero frame
 *     (kmap_zero_frame), read-only: "zero-page";
 *   - a write there (or over the zero frame) maps a fresh zeroed frame:
 *     "zero-fill";
 *   - a fault on a shared mapping maps the shared object's frame for that
 *     page (made zeroed at its first touch anywhere): "shared";
 *   - a write to a private page fork left read-only copies the frame when
 *     others still map it ("cow-copy") or, for its last user, makes the
 *     page writable again ("cow-reuse");
 *   - a fault below the stack, down to its limit, grows the stack by the
 *     page: "stack-grow" (the page below the limit stays a guard);
 *   - a fault on a page page replacement evicted (a swap entry in its
 *     leaf's place, include/pte.h) reads it back: "swap-in".
 * Anything else (no region, an access the region does not allow, a
 * reserved bit) is not resolved: the process is killed with a named line.
 * Frames are counted (kernel/mm/frame_meta.h): one reference per leaf that
 * maps the frame, one per shared object that owns it; the zero frame is
 * nobody's and never counted.
 */
#ifndef KERNEL_PROC_VM_H
#define KERNEL_PROC_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "image.h"
#include "pt.h"
#include "syscall.h"

enum vm_kind {
    VM_CODE = 1,    /* an image segment without W (text, read-only data) */
    VM_DATA,        /* an image segment with W (data, bss): private */
    VM_HEAP,        /* sbrk's: private, demand-zero */
    VM_STACK,       /* private, demand-zero, grows down to its limit */
    VM_ANON,        /* mmap's private anonymous: demand-zero */
    VM_SHARED,      /* mmap's SYS_MAP_SHARED or a named segment: one object's frames */
};

struct vm_shm;

struct vm_region {
    uint64_t start, end;    /* page aligned, start < end */
    uint32_t prot;          /* PT_PROT_WRITE / PT_PROT_EXEC (user and read implied) */
    enum vm_kind kind;
    struct vm_shm *shm;     /* VM_SHARED: the object; page i of the region is its
                               page shm_first + i */
    uint32_t shm_first;
};

/* How faults (and the kernel's touches of user memory) were resolved. */
struct vm_counters {
    uint64_t faults;        /* CPU page faults taken in ring 3 */
    uint64_t zero_fills, zero_maps, cow_copies, cow_reuses, shared_maps, stack_pages;
    uint64_t swap_ins;      /* pages read back from swap */
    uint64_t domain_faults; /* of all, those that brought a page of the replacement
                               domain into a frame (zero-fill, copy or swap-in):
                               the misses a replacement simulator counts */
    uint64_t invlpgs, flushes;
};

struct vm {
    unsigned n;                             /* regions, sorted by start, disjoint */
    struct vm_region r[SYS_REGIONS_MAX + 2];  /* two spare: vm_unmap splits before it
                                                 removes (n stays at most SYS_REGIONS_MAX) */
    uint64_t stack_limit;                   /* lowest page the stack may grow to */
    struct vm_counters c;
    uint8_t rp;                             /* its replacement id (kernel/proc/replace.h) */
    /* pages a system call is using: [pin_lo, pin_hi), not evicted until
     * it returns (vm_touch adds, vm_unpin clears) */
    uint64_t pin_lo, pin_hi;
};

/* How a fault ended (the fault log's <outcome>, vm_outcome_name). */
enum vm_outcome {
    VM_RESOLVED_ZERO_FILL = 0,
    VM_RESOLVED_ZERO_PAGE,
    VM_RESOLVED_SHARED,
    VM_RESOLVED_COW_COPY,
    VM_RESOLVED_COW_REUSE,
    VM_RESOLVED_SWAP_IN,    /* a swapped-out page read back (kernel/proc/replace.h) */
    VM_RESOLVED_STACK_GROW,
    VM_KILL_NO_REGION,      /* no region holds the address */
    VM_KILL_GUARD,          /* the stack's guard page, below its limit */
    VM_KILL_WRITE,          /* a write to a region without W */
    VM_KILL_EXEC,           /* an instruction fetch from a region without X */
    VM_KILL_RSVD,           /* a reserved bit in an entry: the tables are broken */
    VM_KILL_PROTECTION,     /* a present page refused an access its region allows */
    VM_KILL_NO_MEMORY,      /* no frame (or table) left to resolve it */
    VM_KILL_SWAP_FULL,      /* a page had to be evicted for it, and swap is full */
    VM_KILL_NO_SWAP,        /* a page had to be evicted for it, and there is no swap */
    VM_KILL_SWAP_WRITE,     /* a page had to be evicted for it, and swap refused its write */
    VM_KILL_SWAP_READ,      /* its page could not be read back from swap */
    VM_OUTCOME_COUNT
};
#define VM_RESOLVED(o) ((o) <= VM_RESOLVED_STACK_GROW)

/* Once, after kmap_init and frame_meta_init (and at every host-test
 * boot): the zero frame, no replacement owner, no shared object. */
void vm_init(void);

/* A fresh process's regions: none, the stack's limit set, and a
 * replacement id for its space as (which vm_destroy gives back). */
void vm_reset(struct vm *vm, struct pt_space *as);

/* The system call is over: the pages vm_touch pinned may be evicted. */
void vm_unpin(struct vm *vm);

/* Adds a region (sorted in); false if it overlaps one or the table is full.
 * Maps nothing. */
bool vm_region_add(struct vm *vm, uint64_t start, uint64_t end, uint32_t prot,
                   enum vm_kind kind, struct vm_shm *shm, uint32_t shm_first);

/* The region holding va, or NULL. */
struct vm_region *vm_region_find(struct vm *vm, uint64_t va);

/* The page fault at cr2 with error code err, taken by the process whose
 * space is active and selected: resolves it (a VM_RESOLVED_* outcome) or
 * says why not. Counts it. */
enum vm_outcome vm_fault(struct vm *vm, uint64_t cr2, uint64_t err);

/* The kernel's touch of [va, va + len) for a system call: every page that
 * is not yet mapped the way `write` needs is resolved as the fault the
 * CPU would take (not counted as a fault). false when one cannot be. */
bool vm_touch(struct vm *vm, uint64_t va, uint64_t len, bool write);

/* Removes [start, end) (page aligned) from the regions, splitting them
 * where it cuts, and unmaps every page there, dropping its frames'
 * references. -SYS_ENOMEM, before any change, if it would leave more than
 * SYS_REGIONS_MAX regions (a hole inside a region of a full table; a trim
 * of a region's end never does). The space is the selected one. */
long vm_unmap(struct vm *vm, uint64_t start, uint64_t end);

/* Sets prot on [start, end), which must be covered by regions (else
 * -SYS_EINVAL), splitting as vm_unmap; present pages take it, except that
 * a private page stays read-only while its frame is shared or is the zero
 * frame (its next write faults and copies). */
long vm_protect(struct vm *vm, uint64_t start, uint64_t end, uint32_t prot);

/* sbrk's heap: the VM_HEAP region [base, end) (none when end == base);
 * shrinking unmaps what it leaves. -SYS_ENOMEM if growing would reach the
 * next region or a first heap region finds the table full. */
long vm_heap_set(struct vm *vm, uint64_t base, uint64_t end);

/* The regions of a loaded image: one per segment (VM_CODE or VM_DATA) and
 * the stack's first page (no frame yet). false: they do not fit. */
bool vm_image_regions(struct vm *vm, const struct image *img);

/* Fork: dst gets src's regions, and dst_space every leaf of src_space
 * (the selected, active one), private writable ones read-only in both
 * (copy-on-write), shared ones as they are; one reference more for each
 * frame. -SYS_ENOMEM: dst_space is partly built, the caller destroys it
 * with vm_destroy. */
long vm_fork(struct vm *dst, struct pt_space *dst_space, const struct vm *src,
             const struct pt_space *src_space);

/* Tears down as (not active, not selected) and drops every reference its
 * leaves and regions hold; the regions are forgotten. */
void vm_destroy(struct vm *vm, struct pt_space *as);

/* pt_space_destroy's leaf callback: one reference less per page (the zero
 * frame is nobody's). */
void vm_drop_leaf(vaddr_t va, paddr_t frame, uint64_t size, void *ctx);

/* A named shared segment (SYS_SHM): made at its first call with len bytes,
 * later calls map the same frames (len at most its size). Returns the
 * object (one user more) or NULL with *err. */
struct vm_shm *vm_shm_get(const char *name, uint64_t len, long *err);
/* A new anonymous shared object of `pages` pages (SYS_MAP_SHARED). */
struct vm_shm *vm_shm_new(uint32_t pages, long *err);
uint32_t vm_shm_pages(const struct vm_shm *s);
/* One user (region) less; the object and its frames' references go with
 * the last. */
void vm_shm_put(struct vm_shm *s);
/* Objects alive: for the tests. */
unsigned vm_shm_live(void);

bool vm_is_zero_frame(paddr_t f);

const char *vm_outcome_name(enum vm_outcome o);

#endif
