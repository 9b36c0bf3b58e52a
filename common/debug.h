/*
 * debug.h - Bochs magic breakpoints at the paging milestones, for C
 * (stage2, 32-bit, and the kernel, 64-bit). The NASM twin is
 * common/debug.inc; both are switched on by -DPAGELAB_DEBUG alone, which
 * the Makefile passes only when it builds build/<strategy>/debug.img
 * (`make bochs`). In every other build the breakpoints compile to nothing:
 * the condition is the constant 0, so neither the message nor the
 * instruction is emitted, but the arguments are still type-checked.
 *
 * A breakpoint first says on the console (COM1, the screen, and port 0xE9,
 * which Bochs prints on its own terminal, see console.c) where it is and
 * what to look at, then executes XCHG BX, BX: a no-op for the CPU, which
 * Bochs turns into a stop in its debugger with `magic_break: enabled=1`
 * (bochsrc). Under QEMU it does nothing. Output format, read by
 * tests/bochs_check.py and quoted in NOTES.md:
 *
 *   pagelab break: <where>
 *     look: <what to type and what it shows> ...
 */
#ifndef COMMON_DEBUG_H
#define COMMON_DEBUG_H

#include "console.h"

#ifdef PAGELAB_DEBUG
#define PAGELAB_DEBUG_ON 1
#else
#define PAGELAB_DEBUG_ON 0
#endif

/* XCHG BX, BX (66 87 DB in 32/64-bit code): Bochs's magic breakpoint. */
static inline void bochs_magic_break(void)
{
    __asm__ volatile("xchg %%bx, %%bx" : : : "memory");
}

/* PAGELAB_BREAK_CALL("where", print_look, args...): print the stop's name,
 * let print_look(args...) print its look: text (a function that knows what
 * to show, e.g. each strategy's strategy_tour_look), then stop Bochs. The
 * "\n  look: " in that text starts each further hint. */
#define PAGELAB_BREAK_CALL(where, print_look, ...)                  \
    do {                                                            \
        if (PAGELAB_DEBUG_ON) {                                     \
            kprintf("pagelab break: %s\n  look: ", where);          \
            print_look(__VA_ARGS__);                                \
            kprintf("\n");                                          \
            bochs_magic_break();                                    \
        }                                                           \
    } while (0)

/* PAGELAB_BREAK("where", "look: format", args...): print, then stop Bochs.
 * `where` is a string literal naming the milestone; the format continues
 * with "\n  look: " for each further hint. */
#define PAGELAB_BREAK(where, ...) PAGELAB_BREAK_CALL(where, kprintf, __VA_ARGS__)

/* PAGELAB_BREAK_CALL the first time this line is reached only (a
 * milestone inside a function the kernel calls thousands of times). */
#define PAGELAB_BREAK_ONCE_CALL(where, print_look, ...)             \
    do {                                                            \
        static int pagelab_break_seen_;                             \
        if (PAGELAB_DEBUG_ON && !pagelab_break_seen_) {             \
            pagelab_break_seen_ = 1;                                \
            PAGELAB_BREAK_CALL(where, print_look, __VA_ARGS__);     \
        }                                                           \
    } while (0)

#endif
