/*
 * printf.c - the user library's formatter: vsnprintf and the printf that
 * writes its result with one SYS_WRITE (a line from two processes never
 * interleaves inside one call). Conversions: d u x (with l, ll), p, s, c,
 * %%; flags: a width, 0 for zero padding. No floating point. Host-tested
 * against the C library's (tests/host/test_uprintf.c).
 */
#include "pagelab.h"

#define PRINTF_BUF 256     /* one call's output; longer output is cut */

/* Output being built: at most size - 1 bytes stored, len counts them all. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

/* value in base 10 or 16, padded to width with pad (' ' or '0'). */
static void put_number(struct out *o, unsigned long long value, unsigned base, int negative,
                       int width, char pad)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    int len = n + negative;
    if (negative && pad == '0')
        put(o, '-');
    for (; width > len; width--)
        put(o, pad);
    if (negative && pad != '0')
        put(o, '-');
    while (n)
        put(o, digits[--n]);
}

static void put_string(struct out *o, const char *s, int width)
{
    if (!s)
        s = "(null)";
    for (int len = (int)strlen(s); width > len; width--)
        put(o, ' ');
    while (*s)
        put(o, *s++);
}

/* The argument of an integer conversion with `longs` l's. */
static unsigned long long take_unsigned(va_list *ap, int longs)
{
    return longs >= 2 ? va_arg(*ap, unsigned long long)
         : longs == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned);
}

static long long take_signed(va_list *ap, int longs)
{
    return longs >= 2 ? va_arg(*ap, long long) : longs == 1 ? va_arg(*ap, long) : va_arg(*ap, int);
}

/* One conversion after its '%', flags and width; returns the format
 * character after it. */
static const char *convert(struct out *o, const char *f, va_list *ap, int width, char pad)
{
    int longs = 0;
    while (*f == 'l') {
        longs++;
        f++;
    }
    switch (*f) {
    case 'd': {
        long long v = take_signed(ap, longs);
        unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        put_number(o, mag, 10, v < 0, width, pad);
        break;
    }
    case 'u': put_number(o, take_unsigned(ap, longs), 10, 0, width, pad); break;
    case 'x': put_number(o, take_unsigned(ap, longs), 16, 0, width, pad); break;
    case 'p':
        put(o, '0');
        put(o, 'x');
        put_number(o, (uintptr_t)va_arg(*ap, void *), 16, 0, width > 2 ? width - 2 : 0, pad);
        break;
    case 's': put_string(o, va_arg(*ap, const char *), width); break;
    case 'c': put(o, (char)va_arg(*ap, int)); break;
    case '%': put(o, '%'); break;
    case '\0': return f;
    default: put(o, '%'); put(o, *f); break;    /* unknown: shown as written */
    }
    return f + 1;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list args;
    va_copy(args, ap);
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        fmt = convert(&o, fmt, &args, width, pad);
    }
    va_end(args);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[PRINTF_BUF];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    long r = write(buf, len);
    return r < 0 ? (int)r : (int)len;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
