/*
 * string.c - memcpy and friends for freestanding stage2 and kernel builds.
 * gcc may emit calls to these even with -ffreestanding (struct copies,
 * large zero-initialisations), so both stages link this file.
 */
#include <stddef.h>
#include <stdint.h>
#include "mem.h"

/* Bulk copies and fills are unrolled loops of machine words, not REP
 * string instructions: under QEMU's TCG (pagelab's reference machine) every
 * REP iteration is a trip through the translator's main loop, ten times
 * the cost of a store in a translated loop, and stage2 fills megabytes on
 * big machines. On hardware the loop is within a few percent of REP STOS.
 * The attribute keeps gcc from turning the loops back into memset calls. */
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#define UNROLL 8

NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned long *dw = dst;
    const unsigned long *sw = src;
    size_t words = n / sizeof(long);
    for (; words >= UNROLL; words -= UNROLL, dw += UNROLL, sw += UNROLL)
#pragma GCC unroll 8
        for (unsigned k = 0; k < UNROLL; k++)
            dw[k] = sw[k];
    for (; words; words--)
        *dw++ = *sw++;
    unsigned char *db = (unsigned char *)dw;
    const unsigned char *sb = (const unsigned char *)sw;
    for (size_t b = n % sizeof(long); b; b--)
        *db++ = *sb++;
    return dst;
}

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
    unsigned long fill = (unsigned char)c * (~0UL / 0xFF);   /* the byte in every lane */
    unsigned long *dw = dst;
    size_t words = n / sizeof(long);
    for (; words >= UNROLL; words -= UNROLL, dw += UNROLL)
#pragma GCC unroll 8
        for (unsigned k = 0; k < UNROLL; k++)
            dw[k] = fill;
    for (; words; words--)
        *dw++ = fill;
    unsigned char *db = (unsigned char *)dw;
    for (size_t b = n % sizeof(long); b; b--)
        *db++ = (unsigned char)c;
    return dst;
}

/* A word that may alias anything: memmove's backward copy reads and
 * writes other types' bytes through it. */
typedef unsigned long __attribute__((may_alias)) alias_word;

/* dst above an overlapping src: copied from the end down, a word at a
 * time once both ends are word aligned (a table of structs moved up by
 * one slot: the kernel's regions, kernel/proc/vm.c), bytes otherwise. A
 * byte loop cost about five instructions a byte on every munmap and
 * mprotect that split a region. */
NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n && ((uintptr_t)(d + n) | (uintptr_t)(s + n)) % sizeof(long))
        n--, d[n] = s[n];
    for (; n >= sizeof(long); n -= sizeof(long))
        *(alias_word *)(d + n - sizeof(long)) = *(const alias_word *)(s + n - sizeof(long));
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}
