/*
 * bios.h - BIOS services from stage2's 32-bit protected mode.
 * bios_call() copies the registers into the real-mode block, runs the
 * interrupt through stage2/bios_thunk.asm and copies the result back.
 */
#ifndef STAGE2_BIOS_H
#define STAGE2_BIOS_H

#include <stdint.h>

struct bios_regs {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
    uint32_t eflags;
    uint16_t ds, es;
};
_Static_assert(sizeof(struct bios_regs) == 36, "matches bios_thunk.asm");

#define EFLAGS_CF 0x0001

/* Real-mode segment and offset of a linear address below 1 MiB. */
static inline uint16_t rm_seg(const void *p) { return (uint16_t)((uintptr_t)p >> 4); }
static inline uint16_t rm_off(const void *p) { return (uint16_t)((uintptr_t)p & 0xF); }

/* Run INT vector with *r; *r receives the registers and EFLAGS afterwards.
 * Returns 0 when the BIOS cleared CF, -1 when it set it. Buffers passed to
 * the BIOS must lie below 1 MiB (real-mode addressing). */
int bios_call(uint8_t vector, struct bios_regs *r);

#endif
