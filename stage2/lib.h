/*
 * lib.h - the few C library functions stage2 needs, freestanding.
 * Same prototypes as the C library, so code that includes this header also
 * builds unchanged on the host (tests/host) against the real libc.
 */
#ifndef STAGE2_LIB_H
#define STAGE2_LIB_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
