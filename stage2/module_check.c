/* module_check.c - the boot modules' rules (see module_check.h). */
#include "module_check.h"
#include "elf.h"
#include "../include/bootinfo.h"
#include "../include/layout.h"

static int has_elf_magic(const uint8_t *head, uint32_t head_len)
{
    static const uint8_t magic[ELFMAG_LEN] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3 };
    if (head_len < ELFMAG_LEN)
        return 0;
    for (uint32_t i = 0; i < ELFMAG_LEN; i++)
        if (head[i] != magic[i])
            return 0;
    return 1;
}

enum module_verdict module_check(uint32_t taken, uint32_t name_len, uint32_t size,
                                 const uint8_t *head, uint32_t head_len)
{
    if (name_len > BOOT_MODULE_NAME_MAX - 1)
        return MODULE_NAME_TOO_LONG;
    if (size > BOOT_MODULE_MAX_SIZE)
        return MODULE_TOO_LARGE;
    if (!has_elf_magic(head, head_len < size ? head_len : size))
        return MODULE_NOT_ELF;
    if (taken >= BOOT_INFO_MAX_MODULES)
        return MODULE_TOO_MANY;
    return MODULE_OK;
}

int config_size_ok(uint32_t size)
{
    return size <= BOOT_CONFIG_MAX_SIZE;
}

const char *module_verdict_name(int verdict)
{
    switch (verdict) {
    case MODULE_OK: return "a module";
    case MODULE_NAME_TOO_LONG: return "name longer than BOOT_MODULE_NAME_MAX - 1 characters";
    case MODULE_TOO_LARGE: return "larger than BOOT_MODULE_MAX_SIZE";
    case MODULE_NOT_ELF: return "not an ELF file (no 0x7F 'ELF' magic)";
    case MODULE_TOO_MANY: return "more than BOOT_INFO_MAX_MODULES modules";
    default: return "unknown verdict";
    }
}
