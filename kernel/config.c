/*
 * config.c - the boot configuration file at boot (config.h): its page
 * mapped read-only at CONFIG_VIRT, parsed by config_parse against the
 * boot modules, every refused line and the run list on the console; the
 * faultlog= switch handed to the fault log (kernel/proc/fault_log.h).
 */
#include <stdint.h>
#include "config.h"
#include "console.h"
#include "fault_log.h"
#include "lib.h"
#include "modules.h"
#include "pt.h"

/* A refused line's text is quoted up to this many bytes: the error line
 * stays near 80 columns whatever the line's length (error lines may be
 * wider, as stage2's are; the screen wraps them at words). */
#define QUOTE_MAX 20

static struct config cfg;

static int has_module(const char *name, void *ctx)
{
    (void)ctx;
    return module_bytes(name, 0) != 0;
}

static void print_error(unsigned line, enum config_error why, const char *text, size_t len,
                        void *ctx)
{
    (void)ctx;
    char quote[QUOTE_MAX + 1];
    size_t n = len < QUOTE_MAX ? len : QUOTE_MAX;
    for (size_t i = 0; i < n; i++)      /* a NUL or control byte prints as '?' */
        quote[i] = text[i] >= ' ' && text[i] < 0x7F ? text[i] : '?';
    quote[n] = '\0';
    kprintf("pagelab kernel: error: %s line %u: %s: \"%s%s\"\n", BOOT_CONFIG_PATH, line,
            config_error_name(why), quote, len > QUOTE_MAX ? "..." : "");
}

/* Maps the file's page; NULL when there is none or it cannot be mapped. */
static const char *map_file(const struct boot_info *bi)
{
    if (!bi->config_size || bi->config_size > BOOT_CONFIG_MAX_SIZE)
        return 0;
    /* a new leaf where nothing was: no flush (the TLB rule) */
    enum pt_status st = pt_map(vaddr(CONFIG_VIRT), paddr(bi->config_phys), PAGE_SIZE,
                               PT_PROT_READ, 0);
    if (st != PT_OK) {
        kprintf("pagelab kernel: error: %s not mapped at 0x%llx: %s (ignored)\n",
                BOOT_CONFIG_PATH, (unsigned long long)CONFIG_VIRT, pt_status_name(st));
        return 0;
    }
    return (const char *)(uintptr_t)CONFIG_VIRT;
}

/* "run list (<source>: N of at most M):", then the names two columns in,
 * wrapped before VGA_COLS (a name is at most 31 characters). */
static void print_run_list(void)
{
    kprintf("run list (%s: %u of at most %u):%s\n",
            cfg.source == CONFIG_FROM_FILE ? BOOT_CONFIG_PATH : "default, no run= line",
            cfg.run_count, CONFIG_RUN_MAX, cfg.run_count ? "" : " none");
    unsigned col = 0;
    for (unsigned i = 0; i < cfg.run_count; i++) {
        unsigned w = (unsigned)strlen(cfg.run[i]);
        if (col && col + 1 + w > VGA_COLS) {
            kprintf("\n");
            col = 0;
        }
        kprintf("%s%s", col ? " " : "  ", cfg.run[i]);
        col += (col ? 1 : 2) + w;
    }
    if (col)
        kprintf("\n");
}

void config_init(const struct boot_info *bi)
{
    const char *text = map_file(bi);
    struct config_ops ops = { has_module, print_error, 0 };
    config_parse(text, text ? bi->config_size : 0, &ops, &cfg);
    print_run_list();
    fault_log_set(cfg.fault_log);
    if (cfg.fault_log)          /* said only when on: a boot without the key prints as before */
        kprintf("page-fault log: on (faultlog=on in %s)\n", BOOT_CONFIG_PATH);
}

const struct config *config_get(void)
{
    return &cfg;
}

unsigned config_run_count(void)
{
    return cfg.run_count;
}

const char *config_run_name(unsigned i)
{
    return i < cfg.run_count ? cfg.run[i] : 0;
}
