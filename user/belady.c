/*
 * belady.c - the reference string of Belady's anomaly (Belady, Nelson and
 * Shedler, 1969): 1 2 3 4 1 2 5 1 2 3 4 5. Under FIFO it faults 9 times
 * with 3 frames and 10 times with 4 (tests/replace_checks.py boots it with
 * user_frames=3 and =4 and compares with tests/replacement_sim.py).
 */
#include "refs.h"

static const unsigned string[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };

int main(void)
{
    return refs_run("belady", string, sizeof(string) / sizeof(string[0]), 6, 0);
}
