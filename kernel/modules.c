/*
 * modules.c - boot modules at MODULES_BASE (see modules.h). The table is
 * copied out of BootInfo, so lookups need nothing of the loader's memory.
 */
#include <stdint.h>
#include "modules.h"
#include "console.h"
#include "lib.h"
#include "pt.h"
#include "layout.h"

/* Every module at its cap still fits PML4 slot MODULES_PML4_INDEX. */
_Static_assert((uint64_t)BOOT_INFO_MAX_MODULES * BOOT_MODULE_MAX_SIZE <= PT_LEVEL_SPAN(4),
               "the modules fit their PML4 slot");
_Static_assert(PT_INDEX(MODULES_BASE, 4) == MODULES_PML4_INDEX, "MODULES_BASE's slot");

struct module {
    char name[BOOT_MODULE_NAME_MAX];
    uint64_t va;
    uint64_t size;
};

static struct module modules[BOOT_INFO_MAX_MODULES];
static uint32_t mapped;

void modules_report(const struct boot_info *bi)
{
    /* "  module " + 31 characters + ": 0x<8>-0x<8>, <7> bytes" is 78
     * columns at the limits (stage2 loads below 4 GiB, sizes up to
     * BOOT_MODULE_MAX_SIZE) */
    for (uint32_t i = 0; i < bi->module_count && i < BOOT_INFO_MAX_MODULES; i++) {
        const struct boot_module *m = &bi->modules[i];
        kprintf("  module %s: 0x%llx-0x%llx, %llu bytes\n", m->name,
                (unsigned long long)m->phys,
                (unsigned long long)PAGE_ROUND_UP(m->phys + m->size),
                (unsigned long long)m->size);
    }
    if (bi->config_size)
        kprintf("  config %s: 0x%llx, %u bytes\n", BOOT_CONFIG_PATH,
                (unsigned long long)bi->config_phys, bi->config_size);
    else
        kprintf("  config: none (no %s)\n", BOOT_CONFIG_PATH);
}

void modules_init(const struct boot_info *bi)
{
    uint64_t va = MODULES_BASE;
    for (uint32_t i = 0; i < bi->module_count && i < BOOT_INFO_MAX_MODULES; i++) {
        const struct boot_module *m = &bi->modules[i];
        uint64_t len = PAGE_ROUND_UP(m->size);
        enum pt_status st = pt_map_range(vaddr(va), paddr(m->phys), len, PT_PROT_READ,
                                         PT_RANGE_4K_ONLY, NULL);
        if (st != PT_OK) {
            kprintf("pagelab kernel: error: module %s not mapped at 0x%llx: %s\n", m->name,
                    (unsigned long long)va, pt_status_name(st));
            continue;
        }
        struct module *k = &modules[mapped++];
        memcpy(k->name, m->name, BOOT_MODULE_NAME_MAX);
        k->name[BOOT_MODULE_NAME_MAX - 1] = '\0';
        k->va = va;
        k->size = m->size;
        va += len;
    }
}

const void *module_bytes(const char *name, uint64_t *size)
{
    for (uint32_t i = 0; i < mapped; i++)
        if (strcmp(modules[i].name, name) == 0) {
            if (size)
                *size = modules[i].size;
            return (const void *)(uintptr_t)modules[i].va;
        }
    return 0;
}

uint32_t module_count(void)
{
    return mapped;
}

const char *module_name(uint32_t i)
{
    return i < mapped ? modules[i].name : 0;
}
