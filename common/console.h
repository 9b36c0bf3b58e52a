/*
 * console.h - text output shared by stage2 and the kernel: every character
 * goes to COM1 (16550 UART) and to the VGA text screen at 0xB8000, so that
 * what a user sees can be tested from serial. Each stage says where it
 * reaches the VGA buffer: stage2 at its physical address (paging off), the
 * kernel through the upper-half view of low memory (LOW_VIEW_BASE,
 * include/layout.h), never through the lower half a process owns.
 */
#ifndef COMMON_CONSOLE_H
#define COMMON_CONSOLE_H

#include <stdarg.h>

/* What console_init does with the text already on the VGA screen. */
enum console_screen {
    CONSOLE_CLEAR,      /* stage2: wipe the BIOS's messages */
    CONSOLE_CONTINUE,   /* kernel: keep stage2's lines, write below them */
};

/* Program COM1 for 115200 8N1 and set up the screen, whose 80x25 cells
 * the caller reaches at vga_text (the frame at VGA_TEXT_ADDR). Safe without
 * a UART: every wait on the UART is bounded. */
void console_init(enum console_screen screen, volatile void *vga_text);
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
