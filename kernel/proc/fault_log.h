/*
 * fault_log.h - one line per page fault a process takes, when the boot
 * configuration asks for it (faultlog=on in /boot/pagelab.cfg), in a form
 * that lines up with QEMU's own exception log (-d int prints each as
 * "v=0e e=<error code> ... IP=<cs>:<rip> ... CR2=<address>"):
 *
 *   pagelab: #PF pid <n> cr2 0x<16 hex> err 0x<4 hex> (<decode>) rip 0x<16 hex>: <outcome>
 *
 * <decode> is pf_decode's (kernel/trap.h: P, W/R, U/S, RSVD, I/D of the
 * error code, SDM Vol. 3A 4.7); <outcome> is how the kernel resolved it
 * (kernel/proc/vm.h: "zero-fill", "zero-page", "cow-copy", "cow-reuse",
 * "shared", "stack-grow") or "killed". tests/faultlog_check.py compares
 * the two logs line for line.
 */
#ifndef KERNEL_PROC_FAULT_LOG_H
#define KERNEL_PROC_FAULT_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the boot logs faults (the configuration's faultlog= key; off
 * unless the file says on). */
bool fault_log_on(void);
void fault_log_set(bool on);

/* The line above, when fault_log_on(); nothing otherwise. */
void fault_log(int pid, uint64_t cr2, uint64_t err, uint64_t rip, const char *outcome);

#endif
