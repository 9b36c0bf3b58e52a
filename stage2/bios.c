/* bios.c - C side of the real-mode thunk (see bios.h). */
#include "bios.h"
#include "lib.h"

extern struct bios_regs bios_regs;     /* in bios_thunk.asm, below 64 KiB */
void bios_int(uint32_t vector);

int bios_call(uint8_t vector, struct bios_regs *r)
{
    memcpy(&bios_regs, r, sizeof(*r));
    bios_int(vector);
    memcpy(r, &bios_regs, sizeof(*r));
    return (r->eflags & EFLAGS_CF) ? -1 : 0;
}
