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
/* The same, counting the frames the frame records keep for good (their
 * pages and tables, kernel/mm/frame_meta.h) as free: a record page is
 * mapped whenever a frame above the mapped records is first handed out,
 * so a test's before/after compares only what the test itself holds. */
uint64_t guest_frames_but_records(void);

#endif
