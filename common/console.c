/*
 * console.c - COM1 + VGA text console and a small printf, shared by stage2
 * (compiled -m32) and the kernel (-m64). Serial gets every line exactly as
 * printed (tests and users parse it); the screen (vga.c) wraps long lines
 * at word boundaries. No 64-bit division: stage2 links without libgcc, so
 * decimal conversion divides by 10 with shifts.
 */
#include <stdint.h>
#include <stddef.h>
#include "console.h"
#include "io.h"
#include "vga.h"
#include "debug.h"
#include "divmod10.h"
#include "../include/layout.h"
#include "../include/uart.h"

static int uart_present;
static int e9_enabled = PAGELAB_DEBUG_ON; /* debug images: Bochs shows it all */

static void uart_init(void)
{
    /* A UART that does not keep what we write to its scratch register is
     * not there; then we skip serial rather than spin on a bus that floats. */
    outb(COM1_PORT + UART_SCRATCH, 0x5A);
    if (inb(COM1_PORT + UART_SCRATCH) != 0x5A)
        return;
    /* The previous stage's last bytes may still be in the transmit FIFO:
     * let them out before the line is reprogrammed (bounded). */
    for (unsigned i = 0; i < UART_SPIN_LIMIT; i++)
        if (inb(COM1_PORT + UART_LSR) & UART_LSR_TEMT)
            break;
    outb(COM1_PORT + UART_IER, 0);                 /* no interrupts: we poll */
    outb(COM1_PORT + UART_LCR, UART_LCR_DLAB);
    outb(COM1_PORT + UART_DATA, UART_DIVISOR_115200);
    outb(COM1_PORT + UART_IER, 0);                 /* divisor high byte */
    outb(COM1_PORT + UART_LCR, UART_LCR_8N1);
    outb(COM1_PORT + UART_FCR, UART_FCR_ENABLE_CLEAR_RX_14); /* never drops unsent output */
    outb(COM1_PORT + UART_MCR, 0x03);              /* DTR, RTS */
    uart_present = 1;
}

static void uart_putc(char c)
{
    if (!uart_present)
        return;
    for (unsigned i = 0; i < UART_SPIN_LIMIT; i++)
        if (inb(COM1_PORT + UART_LSR) & UART_LSR_THRE)
            break;
    outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

/* The screen's cells and their RAM shadow (see vga.c for why a shadow). */
static _Alignas(4) uint16_t shadow[VGA_ROWS * VGA_COLS];   /* vga_init's rule */
static struct vga_screen screen;

void console_init(enum console_screen mode, volatile void *vga_text)
{
    uart_init();
    vga_init(&screen, (volatile uint16_t *)vga_text, shadow);
    if (mode == CONSOLE_CONTINUE)
        vga_continue(&screen);  /* the previous stage left no cursor: below its last line */
    else
        vga_clear(&screen);
}

void console_enable_e9(void)
{
    e9_enabled = 1;
}

void console_putc(char c)
{
    if (c == '\n')
        uart_putc('\r');
    uart_putc(c);
    if (e9_enabled)
        outb(BOCHS_E9_PORT, (uint8_t)c);
    vga_putc(&screen, c);
}

void console_write(const char *s)
{
    while (*s)
        console_putc(*s++);
}

struct fmt_spec {
    int width;
    char pad;
    int left;
};

static void emit_padded(const char *s, size_t len, const struct fmt_spec *sp)
{
    int fill = sp->width - (int)len;
    if (!sp->left)
        for (; fill > 0; fill--)
            console_putc(sp->pad);
    for (size_t i = 0; i < len; i++)
        console_putc(s[i]);
    for (; fill > 0; fill--)
        console_putc(' ');
}

static void emit_number(uint64_t v, unsigned base, int negative, const struct fmt_spec *sp)
{
    char buf[24];
    size_t i = sizeof(buf);
    do {
        unsigned digit = base == 16 ? (unsigned)(v & 15) : divmod10(&v);
        if (base == 16)
            v >>= 4;
        buf[--i] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
    } while (v);
    if (negative) {
        if (sp->pad == '0' && sp->width > 0) {
            console_putc('-');
            struct fmt_spec rest = *sp;
            rest.width--;
            emit_padded(buf + i, sizeof(buf) - i, &rest);
            return;
        }
        buf[--i] = '-';
    }
    emit_padded(buf + i, sizeof(buf) - i, sp);
}

/* Fetch an integer argument of the given length (0 int, 1 long, 2 long long). */
static uint64_t fetch_unsigned(va_list *ap, int len)
{
    if (len == 2)
        return va_arg(*ap, unsigned long long);
    if (len == 1)
        return va_arg(*ap, unsigned long);
    return va_arg(*ap, unsigned int);
}

static int64_t fetch_signed(va_list *ap, int len)
{
    if (len == 2)
        return va_arg(*ap, long long);
    if (len == 1)
        return va_arg(*ap, long);
    return va_arg(*ap, int);
}

static void emit_conversion(char conv, int len, va_list *ap, struct fmt_spec *sp)
{
    switch (conv) {
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (!s)
            s = "(null)";
        size_t n = 0;
        while (s[n])
            n++;
        sp->pad = ' ';
        emit_padded(s, n, sp);
        break;
    }
    case 'c': {
        char c = (char)va_arg(*ap, int);
        emit_padded(&c, 1, sp);
        break;
    }
    case 'd': {
        int64_t v = fetch_signed(ap, len);
        emit_number(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, sp);
        break;
    }
    case 'u':
        emit_number(fetch_unsigned(ap, len), 10, 0, sp);
        break;
    case 'x':
        emit_number(fetch_unsigned(ap, len), 16, 0, sp);
        break;
    case 'p':
        console_write("0x");
        sp->pad = '0';
        sp->width = 2 * (int)sizeof(void *);
        emit_number((uintptr_t)va_arg(*ap, void *), 16, 0, sp);
        break;
    default:
        console_putc('%');
        console_putc(conv);
    }
}

void kvprintf(const char *fmt, va_list ap)
{
    va_list args;
    va_copy(args, ap);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            console_putc(*fmt);
            continue;
        }
        struct fmt_spec sp = { 0, ' ', 0 };
        fmt++;
        if (*fmt == '%') {
            console_putc('%');
            continue;
        }
        if (*fmt == '-') {
            sp.left = 1;
            fmt++;
        }
        if (*fmt == '0') {
            sp.pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            sp.width = sp.width * 10 + (*fmt++ - '0');
        int len = 0;
        while (*fmt == 'l' && len < 2) {
            len++;
            fmt++;
        }
        if (!*fmt)
            break;
        emit_conversion(*fmt, len, &args, &sp);
    }
    va_end(args);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void kpanic(const char *fmt, ...)
{
    va_list ap;
    console_write("\nPANIC: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    console_write("\n");
    halt_with(DEBUG_EXIT_STOPPED);
}
