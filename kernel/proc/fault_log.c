/*
 * fault_log.c - the page-fault log of fault_log.h: one kprintf line (VGA
 * and serial) per fault a process takes, when the boot configuration's
 * faultlog=on asked for it (config_init calls fault_log_set). Callers:
 * proc_fault (kernel/proc/proc.c) before it kills, the fault resolver of
 * kernel/proc/vm.c with what it did.
 */
#include "fault_log.h"
#include "console.h"
#include "trap.h"

static bool logging;                /* off until the configuration says on */

bool fault_log_on(void)
{
    return logging;
}

void fault_log_set(bool on)
{
    logging = on;
}

void fault_log(int pid, uint64_t cr2, uint64_t err, uint64_t rip, const char *outcome)
{
    if (!logging)
        return;
    char why[96];                   /* pf_decode's longest text is 90 characters */
    pf_decode(err, why, sizeof(why));
    /* the fields in the order and widths of QEMU's -d int line (CR2 and
     * RIP 16 digits, the error code at least 4), so the two read side by
     * side; tests/faultlog_check.py parses both */
    kprintf("pagelab: #PF pid %d cr2 0x%016lx err 0x%04lx (%s) rip 0x%016lx: %s\n", pid, cr2,
            err, why, rip, outcome);
}
