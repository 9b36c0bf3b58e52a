/*
 * result.h - one line per in-guest check, the form tests/run_tests.py
 * counts: "PASS: guest/<strategy>: [<area>: ]<name>", or "FAIL: ..." with
 * ": <details>" after it. Shared by every file of the test and bench
 * variants, with the frame count their "every frame is back" checks use.
 */
#ifndef GUEST_RESULT_H
#define GUEST_RESULT_H

#include <stdint.h>

/* area: the check's group ("spaces", "images", ...), or NULL for none. */
void guest_result(const char *area, int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Free frames of both frame-allocator zones together. */
uint64_t guest_free_frames(void);

#endif
