/*
 * console.h - text output shared by stage2 and the kernel: every character
 * goes to COM1 (16550 UART) and to the VGA text screen at 0xB8000, so that
 * what a user sees can be tested from serial. Both stages run with the VGA
 * buffer at its physical address (stage2: paging off; kernel: identity map).
 */
#ifndef COMMON_CONSOLE_H
#define COMMON_CONSOLE_H

#include <stdarg.h>

/* What console_init does with the text already on the VGA screen. */
enum console_screen {
    CONSOLE_CLEAR,      /* stage2: wipe the BIOS's messages */
    CONSOLE_CONTINUE,   /* kernel: keep stage2's lines, write below them */
};

/* Program COM1 for 115200 8N1 and set up the screen. Safe without a UART:
 * every wait on the UART is bounded. */
void console_init(enum console_screen screen);
void console_putc(char c);
void console_write(const char *s);
/* printf subset: %s %c %d %u %x %lx %lu %ld %llx %llu %lld %p %%, field
 * width, '0' padding and '-' left alignment. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Print "PANIC: <message>" and halt forever with interrupts off. Only for
 * broken invariants: the message starts with the function's name. */
void kpanic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Also copy output to Bochs/QEMU port 0xE9 (debug builds). */
void console_enable_e9(void);

#endif
