/*
 * string.c - what gcc may call by itself in freestanding code (memset and
 * memcpy for large initialisers and struct copies, GCC manual "Standards":
 * a freestanding program must provide them) and what printf uses.
 */
#include "pagelab.h"

/* gcc would turn these loops back into calls of themselves */
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

NO_LIBCALL size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
