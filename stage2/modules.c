/*
 * modules.c - boot modules and the configuration file (see modules.h).
 * Each file is read straight to its frames (fat_read splits the transfer
 * through the bounce buffer), after its first sector told module_check
 * whether it is one: a refused file costs one sector, not its size.
 */
#include <stdint.h>
#include "modules.h"
#include "alloc.h"
#include "fat.h"
#include "load.h"
#include "module_check.h"
#include "panic.h"
#include "lib.h"
#include "../common/console.h"
#include "../include/addr.h"
#include "../include/layout.h"

#define HEAD_BYTES 4   /* the ELF magic: all module_check looks at */

static struct fat_list listing;
static struct fat_dirent entry;
static struct fat_file file;

/* "pagelab stage2: error: <path> (<size> bytes) skipped: <why> (<limit>)",
 * path being dir or dir/name, limit left out when 0: the boot goes on. */
static void skipped(const char *dir, const char *name, uint32_t size, const char *why,
                    uint32_t limit)
{
    kprintf("pagelab stage2: error: %s%s%s (%u bytes) skipped: %s", dir, name ? "/" : "",
            name ? name : "", size, why);
    if (limit)
        kprintf(" (%u)", limit);
    console_write("\n");
}

/* The number a verdict's line names: the limit it broke. */
static uint32_t verdict_limit(enum module_verdict v)
{
    switch (v) {
    case MODULE_NAME_TOO_LONG: return BOOT_MODULE_NAME_MAX - 1;
    case MODULE_TOO_LARGE: return BOOT_MODULE_MAX_SIZE;
    case MODULE_TOO_MANY: return BOOT_INFO_MAX_MODULES;
    default: return 0;
    }
}

/* Reads the open file's size bytes to page-aligned frames of `kind` and
 * zeroes the rest of the last page; returns the physical start, or 0
 * after naming a read error. */
static uint64_t load_file(struct fat_volume *v, uint32_t size, enum loader_range_kind kind,
                          const char *dir, const char *name)
{
    uint32_t pages = (uint32_t)(PAGE_ROUND_UP(size) / PAGE_SIZE);
    uint64_t pa = alloc_pages(pages, kind, ALLOC_AS_IS);
    uint8_t *dst = (uint8_t *)(uintptr_t)pa;
    int err = fat_read(v, &file, 0, dst, size);
    if (err) {
        skipped(dir, name, size, fat_strerror(err), 0);
        return 0;   /* its frames stay recorded: nothing is freed in stage2 */
    }
    memset(dst + size, 0, (size_t)(pages * PAGE_SIZE - size));
    return pa;
}

/* Takes the listed file `entry` as module number bi->module_count, or
 * names why not. */
static void take_module(struct fat_volume *v, struct boot_info *bi)
{
    uint8_t head[HEAD_BYTES];
    uint32_t head_len = entry.size < HEAD_BYTES ? entry.size : HEAD_BYTES;
    int err = fat_open_dirent(v, &entry, &file);
    if (!err)
        err = fat_read(v, &file, 0, head, head_len);
    if (err) {
        skipped(BOOT_MODULE_DIR, entry.name, entry.size, fat_strerror(err), 0);
        return;
    }
    enum module_verdict verdict = module_check(bi->module_count, entry.name_len, entry.size,
                                               head, head_len);
    if (verdict != MODULE_OK) {
        skipped(BOOT_MODULE_DIR, entry.name, entry.size, module_verdict_name(verdict),
                verdict_limit(verdict));
        return;
    }
    uint64_t pa = load_file(v, entry.size, LOADER_RANGE_MODULE, BOOT_MODULE_DIR, entry.name);
    if (!pa)
        return;
    struct boot_module *m = &bi->modules[bi->module_count++];
    m->phys = pa;
    m->size = entry.size;
    memcpy(m->name, entry.name, entry.name_len + 1);
}

static void load_modules(struct fat_volume *v, struct boot_info *bi)
{
    int r = fat_list_open(v, BOOT_MODULE_DIR, &listing);
    if (r == FAT_ERR_NOT_FOUND)
        return;                 /* no /bin: no modules */
    while (r == 0 && (r = fat_list_next(v, &listing, &entry)) == 1) {
        take_module(v, bi);
        r = 0;
    }
    if (r < 0)
        kprintf("pagelab stage2: error: %s: %s: the files after the last module loaded are "
                "skipped\n", BOOT_MODULE_DIR, fat_strerror(r));
}

static void load_config(struct fat_volume *v, struct boot_info *bi)
{
    int err = fat_open(v, BOOT_CONFIG_PATH, &file);
    if (err == FAT_ERR_NOT_FOUND)
        return;
    uint32_t size = err ? 0 : fat_file_size(&file);
    if (err) {
        skipped(BOOT_CONFIG_PATH, 0, size, fat_strerror(err), 0);
        return;
    }
    if (!config_size_ok(size)) {
        skipped(BOOT_CONFIG_PATH, 0, size, "larger than BOOT_CONFIG_MAX_SIZE",
                BOOT_CONFIG_MAX_SIZE);
        return;
    }
    if (size == 0)
        return;
    uint64_t pa = load_file(v, size, LOADER_RANGE_CONFIG, BOOT_CONFIG_PATH, 0);
    if (pa) {
        bi->config_phys = pa;
        bi->config_size = size;
    }
}

void modules_load(struct boot_info *bi)
{
    struct fat_volume *v = load_volume();
    load_modules(v, bi);
    load_config(v, bi);
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < bi->module_count; i++)
        bytes += PAGE_ROUND_UP(bi->modules[i].size);
    progress("%u boot modules from %s (%u KiB); config: %s", bi->module_count,
             BOOT_MODULE_DIR, (unsigned)(bytes >> 10), bi->config_size ? BOOT_CONFIG_PATH : "none");
}
