/*
 * report.h - the kernel's boot report: BootInfo summary, the sanitised
 * memory map as a table with totals, CPU features, time spent per stage.
 */
#ifndef KERNEL_REPORT_H
#define KERNEL_REPORT_H

#include "bootinfo.h"

/* Stop with a named error unless bi is a BootInfo this kernel understands
 * (magic, version, size, strategy). */
void report_check_boot_info(const struct boot_info *bi);

/* Starts the PIT interval the TSC rate is measured over (report_boot ends
 * it): call first thing, so that nothing waits for the calibration. */
void report_clock_start(void);
void report_boot(const struct boot_info *bi);

/* One line: microseconds since stage1 stamped the TSC (after report_boot,
 * which measures the TSC rate). The boot's own time, without QEMU's and
 * the BIOS's start-up: what `make bench` compares with a bare MBR. */
void report_elapsed(const struct boot_info *bi);

#endif
