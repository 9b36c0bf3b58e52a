/*
 * longmode.h - what stage2/longmode.asm needs to enter the kernel.
 */
#ifndef STAGE2_LONGMODE_H
#define STAGE2_LONGMODE_H

#include <stdint.h>

struct lm_handoff {
    uint32_t cr3;        /* PML4 physical address (below 4 GiB) */
    uint32_t cr4;        /* CR4 value: PAE, OSFXSR, OSXMMEXCPT */
    uint32_t efer;       /* bits to set in IA32_EFER: LME (+ NXE) */
    uint32_t pad;
    uint64_t entry;      /* kernel entry, virtual */
    uint64_t stack;      /* RSP, virtual, 16-byte aligned */
    uint64_t boot_info;  /* RDI: BootInfo, identity-mapped */
};
_Static_assert(__builtin_offsetof(struct lm_handoff, entry) == 16, "matches longmode.asm");
_Static_assert(__builtin_offsetof(struct lm_handoff, boot_info) == 32, "matches longmode.asm");

void enter_long_mode(const struct lm_handoff *h) __attribute__((noreturn));

#endif
