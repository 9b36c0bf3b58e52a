/*
 * console.h - kernel output: every character goes to COM1 and to the VGA
 * text screen, so that what a user sees can be tested from serial.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>

/* Bring up COM1 (115200 8N1) and clear the screen. Safe without a UART. */
void console_init(void);
void console_putc(char c);
void console_write(const char *s);
/* printf subset: %s %c %d %u %x %lx %lu %ld %llx %llu %lld %p %%, field
 * width, '0' padding and '-' left alignment. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Print "PANIC: <message>" and halt forever with interrupts off. Only for
 * broken invariants: the message starts with the function's name. */
void kpanic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
