/*
 * config.h - the boot configuration file (/boot/pagelab.cfg, README "The
 * boot configuration file"): which user programs to start, in order, and
 * whether page faults are logged (faultlog=, kernel/proc/fault_log.h).
 *
 * Two layers. config_parse (kernel/config_parse.c) is pure: bytes in, a
 * run list and error callbacks out, no console, no paging, so the host
 * tests drive it directly (tests/host/test_config.c). config_init
 * (kernel/config.c) is the boot's side: it maps the file's page read-only
 * at CONFIG_VIRT, parses it against the mapped boot modules, prints every
 * refused line and the resulting run list. The process layer reads the
 * list with config_run_count / config_run_name.
 */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bootinfo.h"
#include "layout.h"

/* Why a line was refused; the boot goes on without that line. */
enum config_error {
    CONFIG_ERR_NO_EQUALS = 1,   /* a line that is not blank, not a comment, has no '=' */
    CONFIG_ERR_UNKNOWN_KEY,     /* the key before '=' is not one of config_parse's */
    CONFIG_ERR_NO_MODULE,       /* run=<name>: no boot module of that name (or empty) */
    CONFIG_ERR_TOO_MANY_RUNS,   /* a run= line after CONFIG_RUN_MAX accepted ones */
    CONFIG_ERR_BAD_VALUE,       /* faultlog=<value>: the value is neither on nor off */
    CONFIG_ERR_BAD_FRAMES,      /* user_frames=<n>: not a number from USER_FRAMES_MIN to _MAX */
    CONFIG_ERR_BAD_POLICY,      /* replace=<name>: not a policy config_policy_name knows */
    CONFIG_ERR_BAD_SCOPE,       /* scope=<name>: not a scope config_scope_name knows */
    CONFIG_ERR_BAD_QUOTA,       /* quota=<n>: not a number from USER_FRAMES_MIN to _MAX */
    CONFIG_ERR_BAD_WINDOW,      /* pff_window=<n>: not a number from 1 to PFF_WINDOW_MAX */
    CONFIG_ERR_BAD_RATE,        /* pff_low=, pff_high=: not a number from 0 to PFF_FAULTS_MAX */
    CONFIG_ERR_BAD_BOUND,       /* pff_min=, pff_max=: not a number from USER_FRAMES_MIN to _MAX */
    CONFIG_ERR_COUNT
};

/* Page replacement's policy and scope (kernel/proc/replace.h says what
 * each does); the names are the values replace= and scope= take. */
enum config_policy {
    CONFIG_POLICY_FIFO = 0,
    CONFIG_POLICY_CLOCK,
    CONFIG_POLICY_OPT,
    CONFIG_POLICY_NRU,
    CONFIG_POLICY_AGING,
    CONFIG_POLICY_COUNT
};

enum config_scope {
    CONFIG_SCOPE_GLOBAL = 0,
    CONFIG_SCOPE_LOCAL,
    CONFIG_SCOPE_PFF,
    CONFIG_SCOPE_COUNT
};

/* Where the run list came from. */
enum config_source {
    CONFIG_FROM_FILE = 1,       /* the file had at least one run= line */
    CONFIG_FROM_DEFAULT,        /* no file, or a file without any run= line */
};

struct config {
    enum config_source source;
    unsigned run_count;                              /* entries of run[] */
    char run[CONFIG_RUN_MAX][BOOT_MODULE_NAME_MAX];  /* module names, NUL-terminated */
    bool fault_log;             /* the last accepted faultlog= line said on; false without */
    uint32_t user_frames;       /* user_frames=: the limit on user pages; 0 without (none) */
    enum config_policy policy;  /* replace=: CONFIG_POLICY_CLOCK without */
    enum config_scope scope;    /* scope=: CONFIG_SCOPE_GLOBAL without */
    uint32_t quota;             /* quota=: each process's frames under scope=local, the
                                   first quota under scope=pff; 0 without */
    /* scope=pff's knobs (replace.h), the defaults in include/layout.h */
    uint32_t pff_window;        /* pff_window=: ticks per window; PFF_WINDOW_DEFAULT without */
    uint32_t pff_low;           /* pff_low=: fewer faults in a window: a frame less */
    uint32_t pff_high;          /* pff_high=: more faults in a window: a frame more */
    uint32_t pff_min, pff_max;  /* pff_min=, pff_max=: a quota's bounds; 1 and 0 (the
                                   limit, user_frames=) without */
};

/* What config_parse asks of its caller. has_module: whether a boot module
 * called name (NUL-terminated, at most BOOT_MODULE_NAME_MAX - 1 bytes)
 * exists. error: a refused line, its number (1 = the first), why, and the
 * line's text as it stood (text, len; not terminated; comment and
 * surrounding spaces removed). Either may be called any number of times. */
struct config_ops {
    int (*has_module)(const char *name, void *ctx);
    void (*error)(unsigned line, enum config_error why, const char *text, size_t len,
                  void *ctx);
    void *ctx;
};

/* The programs run without a file (or with one that has no run= line),
 * those of them that exist as modules, in this order. */
#define CONFIG_DEFAULT_RUN { "hello", "spin", "spin", "cowshare" }

/*
 * Parses len bytes of text (any bytes: not terminated, NULs are ordinary
 * characters that no module name matches) into *out. Lines end at '\n'; a
 * '#' starts a comment to the end of the line; spaces, tabs and '\r' around
 * the key and the value are ignored; blank lines are skipped. Keys (and
 * values) are case-sensitive. run=<name> appends name, in order, up to
 * CONFIG_RUN_MAX. faultlog=on or faultlog=off sets out->fault_log;
 * user_frames=<decimal> (USER_FRAMES_MIN to USER_FRAMES_MAX, include/
 * layout.h) the limit on user pages; replace=<policy> and scope=<scope>
 * page replacement's (config_policy_name, config_scope_name), quota=<n>
 * (the same range) each process's frames under scope=local (the first
 * quota under scope=pff); pff_window=<ticks> (1 to PFF_WINDOW_MAX),
 * pff_low=<faults> and pff_high=<faults> (0 to PFF_FAULTS_MAX), pff_min=
 * and pff_max= (USER_FRAMES_MIN to _MAX) scope=pff's. Of several
 * lines with one key, the last accepted one wins (a line appended to a
 * file overrides what is above it, as in most configuration files), a
 * refused value changes nothing. Every refused line goes to ops->error and is otherwise
 * ignored. Without any run= line (refused ones count as lines, faultlog=
 * lines do not), out gets the default list (CONFIG_DEFAULT_RUN, those
 * has_module finds). text may be NULL when len
 * is 0 (no file). Returns the number of refused lines. Allocates nothing.
 */
unsigned config_parse(const char *text, size_t len, const struct config_ops *ops,
                      struct config *out);

/* "fifo", "clock", "opt", "nru", "aging"; "global", "local", "pff" ("?"
 * past the last). */
const char *config_policy_name(enum config_policy p);
const char *config_scope_name(enum config_scope s);

/* The replacement settings config_init parsed (kernel/proc/replace.c). */
const struct config *config_get(void);

/* A name for why, e.g. "unknown key" ("?" past the last). */
const char *config_error_name(enum config_error why);

/* The boot's side (kernel/config.c): after modules_init, maps BootInfo's
 * config page read-only and no-execute at CONFIG_VIRT, parses it (errors
 * on the console: "pagelab kernel: error: /boot/pagelab.cfg line N: ..."),
 * then prints the run list in lines of at most 80 columns, and applies
 * faultlog= (fault_log_set; a line saying so when it is on). Call once. */
void config_init(const struct boot_info *bi);

/* The run list config_init made: how many, and the i-th name (NULL past
 * the last). */
unsigned config_run_count(void);
const char *config_run_name(unsigned i);

#endif
