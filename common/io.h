/*
 * io.h - x86 port I/O and a few one-instruction helpers, shared by stage2
 * (32-bit protected mode) and the kernel (long mode).
 */
#ifndef COMMON_IO_H
#define COMMON_IO_H

#include <stdint.h>
#include "layout.h"

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Stop for good: interrupts off, hlt in a loop (an NMI only wakes us up to
 * halt again). */
static inline __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* The end of a boot: tell QEMU's isa-debug-exit device how it ended
 * (DEBUG_EXIT_HALTED or DEBUG_EXIT_STOPPED; present only with `make run
 * EXIT=1`, then QEMU exits), then halt for good. Without the device nothing
 * answers at DEBUG_EXIT_PORT and the write is lost (an OUT to an unclaimed
 * ISA port), so the CPU halts with the page tables live, as always. */
static inline __attribute__((noreturn)) void halt_with(uint8_t how)
{
    outb(DEBUG_EXIT_PORT, how);
    halt_forever();
}

#endif
