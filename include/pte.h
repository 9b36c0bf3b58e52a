/*
 * pte.h - x86_64 4-level paging entries, as the hardware defines them.
 *
 * Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging", tables 4-15
 * to 4-20. Levels are numbered 4 (PML4) down to 1 (PT) everywhere in pagelab.
 * Shared by stage2 (which builds the first tables) and the kernel.
 * Each bit: bit number, 64-bit mask, one-line meaning.
 */
#ifndef PAGELAB_PTE_H
#define PAGELAB_PTE_H

#include <stdint.h>

typedef uint64_t pte_t;

#define PTE_P_BIT      0   /* present: the entry is used by the walk */
#define PTE_W_BIT      1   /* writable (with CR0.WP also for supervisor) */
#define PTE_U_BIT      2   /* user-mode accessible */
#define PTE_PWT_BIT    3   /* page-level write-through */
#define PTE_PCD_BIT    4   /* page-level cache disable */
#define PTE_A_BIT      5   /* accessed (set by the CPU) */
#define PTE_D_BIT      6   /* dirty (set by the CPU, leaves only) */
#define PTE_PS_BIT     7   /* page size: levels 3 and 2 only; the entry is a leaf */
#define PTE_PAT4K_BIT  7   /* level 1 only: PAT index bit (same position as PS) */
#define PTE_G_BIT      8   /* global: survives CR3 reload (CR4.PGE), leaves only */
#define PTE_PATBIG_BIT 12  /* levels 3 and 2 leaves: PAT index bit */
#define PTE_NX_BIT     63  /* execute-disable, needs EFER.NXE (else reserved) */

#define PTE_P      (1ULL << PTE_P_BIT)
#define PTE_W      (1ULL << PTE_W_BIT)
#define PTE_U      (1ULL << PTE_U_BIT)
#define PTE_PWT    (1ULL << PTE_PWT_BIT)
#define PTE_PCD    (1ULL << PTE_PCD_BIT)
#define PTE_A      (1ULL << PTE_A_BIT)
#define PTE_D      (1ULL << PTE_D_BIT)
#define PTE_PS     (1ULL << PTE_PS_BIT)
#define PTE_PAT4K  (1ULL << PTE_PAT4K_BIT)
#define PTE_G      (1ULL << PTE_G_BIT)
#define PTE_PATBIG (1ULL << PTE_PATBIG_BIT)
#define PTE_NX     (1ULL << PTE_NX_BIT)

/* Physical address bits of an entry pointing to a 4 KiB frame or a table
 * (bits 51:12; MAXPHYADDR may be lower, the rest must then be zero). */
#define PTE_ADDR_MASK    0x000FFFFFFFFFF000ULL
#define PTE_ADDR_MASK_2M 0x000FFFFFFFE00000ULL
#define PTE_ADDR_MASK_1G 0x000FFFFFC0000000ULL
/* The widest MAXPHYADDR 4-level paging allows (SDM Vol. 3A 4.1.4): what a
 * CPU that does not report its width (CPUID 80000008h) is taken to have. */
#define PTE_PHYS_BITS_MAX 52

/* Named combinations by purpose (NX is added by the builder only when the
 * CPU has it: without EFER.NXE bit 63 is reserved and faults, SDM 4.5.4). */
#define PTE_TABLE_LINK   (PTE_P | PTE_W)          /* non-leaf: permissions decided at the leaf */
#define PTE_KERNEL_CODE  (PTE_P)                  /* read + execute */
#define PTE_KERNEL_RO    (PTE_P | PTE_NX)         /* read-only data */
#define PTE_KERNEL_DATA  (PTE_P | PTE_W | PTE_NX) /* read + write, no execute */

/*
 * pagelab's bookkeeping (kernel/mm/pt_internal.h writes it; tools/
 * pagelab_gdb.py decodes it): entry 0 of every table the paging core
 * manages carries the number of present entries of that table (0..512,
 * 10 bits) in bits 52-58 (low 7) and 9-11 (high 3), which the CPU ignores
 * in every kind of entry, present or not (SDM Vol. 3A 4.5.4, tables 4-15
 * to 4-20). pt_tr_entry and the dumps hide these bits.
 */
#define PT_COUNT_LO_SHIFT 52
#define PT_COUNT_LO_WIDTH 7
#define PT_COUNT_HI_SHIFT 9
#define PT_COUNT_HI_WIDTH 3
#define PT_COUNT_LO_ONES  ((1ULL << PT_COUNT_LO_WIDTH) - 1)
#define PT_COUNT_HI_ONES  ((1ULL << PT_COUNT_HI_WIDTH) - 1)
#define PT_COUNT_MASK     ((PT_COUNT_LO_ONES << PT_COUNT_LO_SHIFT) | (PT_COUNT_HI_ONES << PT_COUNT_HI_SHIFT))

/*
 * A swapped-out page (kernel/mm/swap.h, kernel/proc/replace.h): a level-1
 * entry with P = 0 whose other bits, which the CPU ignores when P is 0
 * (SDM Vol. 3A 4.5.4: "if the P flag is 0, ... software may use the other
 * bits"), name the swap slot holding the page: PTE_SWAP (bit 1) set, so
 * the entry is never 0 even for slot 0, and the slot number in bits 43:12
 * (32 bits, where a frame address would be). Every other bit is 0; in
 * particular bits 9-11 and 52-58 stay free for entry 0's count. The
 * paging core never writes any other non-zero not-present entry, so "not
 * present and not 0" is exactly "swapped out", and such an entry counts
 * as used in its table (the table is not freed while it holds one).
 */
#define PTE_SWAP_BIT        1
#define PTE_SWAP            (1ULL << PTE_SWAP_BIT)
#define PTE_SWAP_SLOT_SHIFT 12
#define PTE_SWAP_SLOT_MASK  0x00000FFFFFFFF000ULL

static inline pte_t pte_swap_entry(uint32_t slot)
{
    return ((pte_t)slot << PTE_SWAP_SLOT_SHIFT) | PTE_SWAP;
}

/* A level-1 entry (its count bits masked) that names a swap slot. */
static inline int pte_is_swap(pte_t e)
{
    return !(e & PTE_P) && (e & PTE_SWAP);
}

static inline uint32_t pte_swap_slot(pte_t e)
{
    return (uint32_t)((e & PTE_SWAP_SLOT_MASK) >> PTE_SWAP_SLOT_SHIFT);
}

#define PT_LEVELS        4
#define PT_ENTRIES       512
/* Bits of a virtual address translated below level L: 12 + 9*(L-1). */
#define PT_LEVEL_SHIFT(level)  (12 + 9 * ((level) - 1))
#define PT_INDEX(va, level)    (((va) >> PT_LEVEL_SHIFT(level)) & 0x1FF)
/* Bytes mapped by one entry at level L: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
#define PT_LEVEL_SPAN(level)   (1ULL << PT_LEVEL_SHIFT(level))

/* A 48-bit virtual address is canonical when bits 63:47 are all equal
 * (SDM Vol. 1, 3.3.7.1). */
static inline int va_is_canonical(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1FFFF;
}

/* Sign-extend bit 47 (to build addresses from indices). */
static inline uint64_t va_canonicalize(uint64_t va)
{
    return (va & (1ULL << 47)) ? (va | 0xFFFF000000000000ULL) : (va & 0x0000FFFFFFFFFFFFULL);
}

#endif
