/*
 * module_check.h - which files of BOOT_MODULE_DIR stage2 takes as boot
 * modules, and whether the boot configuration file fits: the rules alone,
 * with no disk and no console, so the host tests check every limit at,
 * below and above it (tests/host/test_modules.c). stage2/modules.c applies
 * them and names every file it skips.
 */
#ifndef STAGE2_MODULE_CHECK_H
#define STAGE2_MODULE_CHECK_H

#include <stdint.h>

/* Why a file is not a module; MODULE_OK: it is. */
enum module_verdict {
    MODULE_OK = 0,
    MODULE_NAME_TOO_LONG,   /* more than BOOT_MODULE_NAME_MAX - 1 characters */
    MODULE_TOO_LARGE,       /* more than BOOT_MODULE_MAX_SIZE bytes */
    MODULE_NOT_ELF,         /* shorter than the ELF magic, or another first 4 bytes */
    MODULE_TOO_MANY,        /* BOOT_INFO_MAX_MODULES modules taken already */
    MODULE_VERDICT_COUNT
};

/* The verdict on a file of name_len characters and size bytes, whose
 * first head_len bytes (at most 4 are looked at) are head, when `taken`
 * modules are in BootInfo already. The file's own faults are named before
 * the count: a file that would be refused anyway is not "one too many".
 * Only the ELF magic is checked: the kernel's exec checks the rest. */
enum module_verdict module_check(uint32_t taken, uint32_t name_len, uint32_t size,
                                 const uint8_t *head, uint32_t head_len);

/* Whether a configuration file of size bytes is taken (size at most
 * BOOT_CONFIG_MAX_SIZE). An empty one is as none (BootInfo's
 * config_size 0). */
int config_size_ok(uint32_t size);

/* What a verdict means, for the "skipped" line ("unknown verdict" past
 * the last). */
const char *module_verdict_name(int verdict);

#endif
