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
    };
    return why > 0 && why < CONFIG_ERR_COUNT ? names[why] : "?";
}
