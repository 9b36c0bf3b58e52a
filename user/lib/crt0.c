/*
 * crt0.c - a user program's first instruction. The kernel's exec jumps to
 * _start with RSP just below USER_STACK_TOP (16-byte aligned, as at a
 * jump rather than a call, hence force_align_arg_pointer) and nothing on
 * the stack that a program reads: no argc, argv or environment yet. It
 * runs main and exits with its result; exit never returns.
 */
#include "pagelab.h"

__attribute__((section(".text.start"), force_align_arg_pointer, noreturn, used))
void _start(void);

void _start(void)
{
    exit(main());
}
