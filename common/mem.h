/*
 * mem.h - the C library functions stage2 and the kernel need, freestanding
 * (common/string.c). Same prototypes as the C library, so code including
 * it also builds unchanged on the host (tests/host) against the real libc.
 */
#ifndef COMMON_MEM_H
#define COMMON_MEM_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
