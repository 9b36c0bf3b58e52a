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
void report_boot(const struct boot_info *bi);

#endif
