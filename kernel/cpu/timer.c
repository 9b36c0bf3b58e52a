/*
 * timer.c - the PIT's channel 0 as the periodic tick (contract and the
 * choice of the PIT: timer.h). Intel 8254 datasheet (order 231164),
 * "Control word format" and "Mode 2: rate generator".
 */
#include <stdint.h>
#include "timer.h"
#include "pic.h"
#include "../common/io.h"

#define PIT_CHANNEL0     0x40
#define PIT_COMMAND      0x43
#define PIT_INPUT_HZ     1193182   /* the PC's PIT clock: 14.31818 MHz / 12 */
/* Control word: channel 0, access low byte then high byte, mode 2, binary */
#define PIT_CH0_LOHI_RATE 0x34
#define PIT_DIVISOR      ((PIT_INPUT_HZ + TIMER_HZ / 2) / TIMER_HZ)

_Static_assert(PIT_DIVISOR > 1 && PIT_DIVISOR <= 0xFFFF, "TIMER_HZ fits the 16-bit divisor");

static volatile uint64_t ticks;

void timer_init(void)
{
    pic_init();
    outb(PIT_COMMAND, PIT_CH0_LOHI_RATE);
    outb(PIT_CHANNEL0, PIT_DIVISOR & 0xFF);
    outb(PIT_CHANNEL0, PIT_DIVISOR >> 8);
    pic_unmask(PIC_IRQ_TIMER);
}

uint64_t timer_ticks(void)
{
    return ticks;
}

void timer_tick(void)
{
    ticks++;
    pic_eoi(PIC_IRQ_TIMER);
}
