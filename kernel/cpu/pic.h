/*
 * pic.h - the two 8259A programmable interrupt controllers of the PC
 * (master IRQ 0-7, slave IRQ 8-15 cascaded on the master's IRQ 2),
 * remapped to vectors X86_IRQ_VECTOR_BASE.. (include/x86.h) and all
 * masked but the lines the kernel unmasks. Intel 8259A datasheet
 * (order 231468), "Initialization command words" and "Operation command
 * words".
 */
#ifndef KERNEL_CPU_PIC_H
#define KERNEL_CPU_PIC_H

#include <stdint.h>

#define PIC_IRQ_TIMER   0      /* the PIT's channel 0 (kernel/cpu/timer.c) */

/* Remaps both PICs and masks every line. Interrupts stay off (RFLAGS.IF
 * is the caller's). */
void pic_init(void);

/* Lets IRQ irq (0-15) through; unmasking a slave line unmasks the cascade. */
void pic_unmask(unsigned irq);

/*
 * Acknowledges IRQ irq at the end of its handler (non-specific EOI to the
 * PIC that raised it, and the master for a slave line). Returns 0 without
 * acknowledging if irq is a spurious IRQ 7 or 15 (its in-service bit is
 * clear: the line dropped before the CPU took the interrupt), which must
 * get no EOI from the PIC that raised it; 1 otherwise.
 */
int pic_eoi(unsigned irq);

#endif
