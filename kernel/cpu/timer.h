/*
 * timer.h - the periodic tick: the PIT's channel 0 (Intel 8254) on IRQ 0
 * of the 8259 (pic.h), at TIMER_HZ. Why the PIT and not the LAPIC timer:
 * it needs no MMIO mapping (the LAPIC page at 0xFEE00000 would need a
 * mapping of its own in every strategy: most drop the physical window) and
 * no calibration (its input clock is fixed, 1.193182 MHz), it is the same
 * on QEMU, KVM and Bochs, and QEMU drives it from the virtual clock, so it
 * keeps ticking under -icount (there in instructions, not in time).
 *
 * The kernel runs with interrupts off (RFLAGS.IF = 0) everywhere: the
 * tick is taken only while ring 3 runs (user RFLAGS has IF set), which is
 * what preempts user code. A tick pending while the kernel runs waits in
 * the PIC until the next entry into ring 3.
 */
#ifndef KERNEL_CPU_TIMER_H
#define KERNEL_CPU_TIMER_H

#include <stdint.h>

#define TIMER_HZ 1000

/* Remaps the PICs (pic_init), starts channel 0 at TIMER_HZ (mode 2, rate
 * generator) and unmasks IRQ 0. Interrupts stay off. */
void timer_init(void);

/* Ticks taken since timer_init. */
uint64_t timer_ticks(void);

/* IRQ 0's handler: counts the tick and acknowledges it at the PIC. */
void timer_tick(void);

#endif
