/*
 * panic.c - die() and progress() (see panic.h), on the console both stages
 * share (common/console.c: COM1 and the VGA text screen).
 */
#include <stdarg.h>
#include "panic.h"
#include "../common/console.h"
#include "../common/io.h"
#include "../include/layout.h"

void progress(const char *fmt, ...)
{
    va_list ap;
    console_write("pagelab stage2: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    console_write("\n");
}

void die(const char *fmt, ...)
{
    va_list ap;
    console_write("pagelab stage2: error: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    console_write("\npagelab stage2: boot stopped\n");
    halt_with(DEBUG_EXIT_STOPPED);
}
