/*
 * config_parse.c - the boot configuration file's parser (config.h): pure,
 * bytes in and a run list and the faultlog= switch out, so the kernel
 * (kernel/config.c) and the host tests (tests/host/test_config.c) run the
 * same code.
 */
#include "config.h"
#include "../common/mem.h"

/* A slice of the file: [p, p + n). */
struct span {
    const char *p;
    size_t n;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static struct span trim(struct span s)
{
    while (s.n && is_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* The first c in s, or s.n when there is none. */
static size_t find(struct span s, char c)
{
    size_t i = 0;
    while (i < s.n && s.p[i] != c)
        i++;
    return i;
}

static int span_is(struct span s, const char *word)
{
    size_t n = strlen(word);
    return s.n == n && memcmp(s.p, word, n) == 0;
}

/* run=<name>: appends name when it is a module and the list has room. */
static void parse_run(struct span name, struct span line, unsigned number,
                      const struct config_ops *ops, struct config *out, unsigned *refused)
{
    char buf[BOOT_MODULE_NAME_MAX];
    enum config_error why = 0;
    if (name.n == 0 || name.n >= sizeof(buf) || find(name, '\0') < name.n) {
        why = CONFIG_ERR_NO_MODULE;
    } else {
        memcpy(buf, name.p, name.n);
        buf[name.n] = '\0';
        if (!ops->has_module(buf, ops->ctx))
            why = CONFIG_ERR_NO_MODULE;
        else if (out->run_count == CONFIG_RUN_MAX)
            why = CONFIG_ERR_TOO_MANY_RUNS;
        else
            memcpy(out->run[out->run_count++], buf, name.n + 1);
    }
    if (why) {
        (*refused)++;
        ops->error(number, why, line.p, line.n, ops->ctx);
    }
}

/* faultlog=on|off: the last accepted line wins (config.h). */
static void parse_faultlog(struct span value, struct span line, unsigned number,
                           const struct config_ops *ops, struct config *out, unsigned *refused)
{
    if (span_is(value, "on")) {
        out->fault_log = true;
    } else if (span_is(value, "off")) {
        out->fault_log = false;
    } else {
        (*refused)++;
        ops->error(number, CONFIG_ERR_BAD_VALUE, line.p, line.n, ops->ctx);
    }
}

/* A decimal number in [lo, hi], nothing else (no sign, no spaces inside,
 * no leading zeros beyond "0" itself, no more digits than hi has). */
static int parse_number(struct span v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    if (v.n == 0 || v.n > 10 || (v.n > 1 && v.p[0] == '0'))
        return 0;
    uint64_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 0;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    if (n < lo || n > hi)
        return 0;
    *out = (uint32_t)n;
    return 1;
}

/* user_frames=, quota=, replace=, scope= and the pff_ keys: the last
 * accepted line of each wins. */
static void parse_replacement(struct span key, struct span value, struct span line,
                              unsigned number, const struct config_ops *ops,
                              struct config *out, unsigned *refused)
{
    enum config_error why = 0;
    if (span_is(key, "user_frames")) {
        if (!parse_number(value, USER_FRAMES_MIN, USER_FRAMES_MAX, &out->user_frames))
            why = CONFIG_ERR_BAD_FRAMES;
    } else if (span_is(key, "quota")) {
        if (!parse_number(value, USER_FRAMES_MIN, USER_FRAMES_MAX, &out->quota))
            why = CONFIG_ERR_BAD_QUOTA;
    } else if (span_is(key, "pff_window")) {
        if (!parse_number(value, 1, PFF_WINDOW_MAX, &out->pff_window))
            why = CONFIG_ERR_BAD_WINDOW;
    } else if (span_is(key, "pff_low") || span_is(key, "pff_high")) {
        if (!parse_number(value, 0, PFF_FAULTS_MAX,
                          span_is(key, "pff_low") ? &out->pff_low : &out->pff_high))
            why = CONFIG_ERR_BAD_RATE;
    } else if (span_is(key, "pff_min") || span_is(key, "pff_max")) {
        if (!parse_number(value, USER_FRAMES_MIN, USER_FRAMES_MAX,
                          span_is(key, "pff_min") ? &out->pff_min : &out->pff_max))
            why = CONFIG_ERR_BAD_BOUND;
    } else if (span_is(key, "replace")) {
        unsigned p = 0;
        while (p < CONFIG_POLICY_COUNT && !span_is(value, config_policy_name(p)))
            p++;
        if (p == CONFIG_POLICY_COUNT)
            why = CONFIG_ERR_BAD_POLICY;
        else
            out->policy = (enum config_policy)p;
    } else {
        unsigned sc = 0;
        while (sc < CONFIG_SCOPE_COUNT && !span_is(value, config_scope_name(sc)))
            sc++;
        if (sc == CONFIG_SCOPE_COUNT)
            why = CONFIG_ERR_BAD_SCOPE;
        else
            out->scope = (enum config_scope)sc;
    }
    if (why) {
        (*refused)++;
        ops->error(number, why, line.p, line.n, ops->ctx);
    }
}

static void use_default(const struct config_ops *ops, struct config *out)
{
    static const char *const names[] = CONFIG_DEFAULT_RUN;
    _Static_assert(sizeof(names) / sizeof(names[0]) <= CONFIG_RUN_MAX,
                   "the default list fits the run list");
    out->source = CONFIG_FROM_DEFAULT;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (ops->has_module(names[i], ops->ctx))
            memcpy(out->run[out->run_count++], names[i], strlen(names[i]) + 1);
}

/* One line that is not blank (comment and surrounding blanks gone): its
 * key decides what the value is; run_lines counts the run= lines. */
static void parse_line(struct span line, unsigned number, const struct config_ops *ops,
                       struct config *out, unsigned *refused, unsigned *run_lines)
{
    size_t eq = find(line, '=');
    if (eq == line.n) {
        (*refused)++;
        ops->error(number, CONFIG_ERR_NO_EQUALS, line.p, line.n, ops->ctx);
        return;
    }
    struct span key = trim((struct span){ line.p, eq });
    struct span value = trim((struct span){ line.p + eq + 1, line.n - eq - 1 });
    if (span_is(key, "run")) {
        (*run_lines)++;
        parse_run(value, line, number, ops, out, refused);
    } else if (span_is(key, "faultlog")) {
        parse_faultlog(value, line, number, ops, out, refused);
    } else if (span_is(key, "user_frames") || span_is(key, "replace") ||
               span_is(key, "scope") || span_is(key, "quota") || span_is(key, "pff_window") ||
               span_is(key, "pff_low") || span_is(key, "pff_high") ||
               span_is(key, "pff_min") || span_is(key, "pff_max")) {
        parse_replacement(key, value, line, number, ops, out, refused);
    } else {
        (*refused)++;
        ops->error(number, CONFIG_ERR_UNKNOWN_KEY, line.p, line.n, ops->ctx);
    }
}

unsigned config_parse(const char *text, size_t len, const struct config_ops *ops,
                      struct config *out)
{
    unsigned refused = 0, number = 0, run_lines = 0;
    struct span rest = { text, text ? len : 0 };
    out->source = CONFIG_FROM_FILE;
    out->run_count = 0;
    out->fault_log = false;
    out->user_frames = 0;
    out->quota = 0;
    out->policy = CONFIG_POLICY_CLOCK;
    out->scope = CONFIG_SCOPE_GLOBAL;
    out->pff_window = PFF_WINDOW_DEFAULT;
    out->pff_low = PFF_LOW_DEFAULT;
    out->pff_high = PFF_HIGH_DEFAULT;
    out->pff_min = 1;
    out->pff_max = 0;
    while (rest.n) {
        size_t end = find(rest, '\n');
        struct span raw = { rest.p, end };
        rest.p += end < rest.n ? end + 1 : end;
        rest.n -= end < rest.n ? end + 1 : end;
        number++;
        raw.n = find(raw, '#');                    /* the comment goes */
        struct span line = trim(raw);
        if (line.n)
            parse_line(line, number, ops, out, &refused, &run_lines);
    }
    if (run_lines == 0)
        use_default(ops, out);
    return refused;
}

const char *config_error_name(enum config_error why)
{
    static const char *const names[CONFIG_ERR_COUNT] = {
        [CONFIG_ERR_NO_EQUALS] = "no '='",
        [CONFIG_ERR_UNKNOWN_KEY] = "unknown key",
        [CONFIG_ERR_NO_MODULE] = "no such module",
        [CONFIG_ERR_TOO_MANY_RUNS] = "too many run= lines",
        [CONFIG_ERR_BAD_VALUE] = "faultlog= wants on or off",
        [CONFIG_ERR_BAD_FRAMES] = "user_frames= wants a number from 1 to 1048576",
        [CONFIG_ERR_BAD_POLICY] = "replace= wants fifo, clock, opt, nru or aging",
        [CONFIG_ERR_BAD_SCOPE] = "scope= wants global, local or pff",
        [CONFIG_ERR_BAD_QUOTA] = "quota= wants a number from 1 to 1048576",
        [CONFIG_ERR_BAD_WINDOW] = "pff_window= wants a number of ticks from 1 to 1000",
        [CONFIG_ERR_BAD_RATE] = "pff_low= and pff_high= want a number from 0 to 65535",
        [CONFIG_ERR_BAD_BOUND] = "pff_min= and pff_max= want a number from 1 to 1048576",
    };
    _Static_assert(PFF_WINDOW_MAX == 1000 && PFF_FAULTS_MAX == 65535,
                   "the pff_ keys' messages name their limits");
    _Static_assert(USER_FRAMES_MIN == 1 && USER_FRAMES_MAX == 1048576,
                   "user_frames='s message names the limits");
    _Static_assert(CONFIG_POLICY_COUNT == 5 && CONFIG_SCOPE_COUNT == 3,
                   "replace= and scope='s messages name every value");
    return why > 0 && why < CONFIG_ERR_COUNT ? names[why] : "?";
}

const char *config_policy_name(enum config_policy p)
{
    static const char *const names[CONFIG_POLICY_COUNT] = {
        [CONFIG_POLICY_FIFO] = "fifo",
        [CONFIG_POLICY_CLOCK] = "clock",
        [CONFIG_POLICY_OPT] = "opt",
        [CONFIG_POLICY_NRU] = "nru",
        [CONFIG_POLICY_AGING] = "aging",
    };
    return (unsigned)p < CONFIG_POLICY_COUNT ? names[p] : "?";
}

const char *config_scope_name(enum config_scope sc)
{
    static const char *const names[CONFIG_SCOPE_COUNT] = {
        [CONFIG_SCOPE_GLOBAL] = "global",
        [CONFIG_SCOPE_LOCAL] = "local",
        [CONFIG_SCOPE_PFF] = "pff",
    };
    return (unsigned)sc < CONFIG_SCOPE_COUNT ? names[sc] : "?";
}
