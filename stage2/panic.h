/*
 * panic.h - stage2's two kinds of console line: progress and the fatal
 * error. Every stage2 file that reports includes this header and nothing
 * else of main.c's, so the steps do not call back into the file that runs
 * them (Limine keeps its panic() in common/lib/panic.s2.c the same way).
 */
#ifndef STAGE2_PANIC_H
#define STAGE2_PANIC_H

/* "pagelab stage2: error: <message>" then "pagelab stage2: boot stopped"
 * on VGA and COM1, then halt with interrupts off (through the debug-exit
 * port, so `make run EXIT=1` ends). Every message names what went wrong and
 * what to do; NOTES.md, "Error messages", lists them all. Never returns. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Progress line "pagelab stage2: <message>". The boot goes on. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
