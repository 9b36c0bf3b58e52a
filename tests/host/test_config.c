/*
 * test_config.c - the boot configuration file's parser (kernel/config_parse.c)
 * on the host: the format of README "The boot configuration file", every
 * refused line with its number, and the limits (CONFIG_RUN_MAX run= lines,
 * module names of BOOT_MODULE_NAME_MAX - 1 characters) at, below and above;
 * the faultlog= switch: on, off, every near miss refused, blanks, repeats
 * (the last accepted line wins), and a file of BOOT_CONFIG_MAX_SIZE bytes.
 */
#include "check.h"
#include "config.h"

#define NAME30 "a-name-of-exactly-30-character"
#define NAME31 "a-name-of-exactly-31-characters"
#define NAME32 "a-name-of-exactly-32-characters!"
#define ERRORS_MAX 64

_Static_assert(sizeof(NAME31) == BOOT_MODULE_NAME_MAX, "NAME31 is the longest name");

/* The modules a test pretends were loaded (NULL-terminated). */
static const char *const all_modules[] = { "hello", "spin", "vmprobe", "cowshare", NAME30, NAME31,
                                            0 };

struct seen {
    const char *const *modules;
    unsigned count;
    unsigned line[ERRORS_MAX];
    enum config_error why[ERRORS_MAX];
    char text[ERRORS_MAX][64];
};

static int has_module(const char *name, void *ctx)
{
    const struct seen *s = ctx;
    for (const char *const *m = s->modules; *m; m++)
        if (strcmp(*m, name) == 0)
            return 1;
    return 0;
}

static void on_error(unsigned line, enum config_error why, const char *text, size_t len,
                     void *ctx)
{
    struct seen *s = ctx;
    if (s->count < ERRORS_MAX) {
        s->line[s->count] = line;
        s->why[s->count] = why;
        snprintf(s->text[s->count], sizeof(s->text[0]), "%.*s", (int)len, text);
    }
    s->count++;
}

/* Parses text (a C string) with modules; returns the refused count. */
static unsigned parse_with(const char *text, const char *const *modules, struct seen *s,
                           struct config *c)
{
    memset(s, 0, sizeof(*s));
    s->modules = modules;
    struct config_ops ops = { has_module, on_error, s };
    unsigned n = config_parse(text, text ? strlen(text) : 0, &ops, c);
    CHECK_EQ(n, s->count);
    return n;
}

static void check_list(const struct config *c, enum config_source src, unsigned n,
                       const char *const *names)
{
    CHECK_EQ(c->source, src);
    if (!CHECK_EQ(c->run_count, n))
        return;
    for (unsigned i = 0; i < n; i++)
        CHECK(strcmp(c->run[i], names[i]) == 0, "run[%u] = \"%s\", want \"%s\"", i, c->run[i],
              names[i]);
}

static void test_no_file_gives_the_default_set(void)
{
    struct seen s;
    struct config c;
    static const char *const want[] = { "hello", "spin", "spin", "cowshare" };
    CHECK_EQ(parse_with(NULL, all_modules, &s, &c), 0);
    check_list(&c, CONFIG_FROM_DEFAULT, 4, want);
}

static void test_the_default_set_keeps_only_modules_that_exist(void)
{
    struct seen s;
    struct config c;
    static const char *const only_hello[] = { "hello", 0 }, *const none[] = { 0 };
    static const char *const want[] = { "hello" };
    parse_with(NULL, only_hello, &s, &c);
    check_list(&c, CONFIG_FROM_DEFAULT, 1, want);
    parse_with(NULL, none, &s, &c);
    check_list(&c, CONFIG_FROM_DEFAULT, 0, want);
    CHECK_EQ(s.count, 0);
}

static void test_a_file_of_comments_and_blank_lines_gives_the_default(void)
{
    struct seen s;
    struct config c;
    static const char *const want[] = { "hello", "spin", "spin", "cowshare" };
    CHECK_EQ(parse_with("# nothing to run here\n\n   \t\r\n  # run=vmprobe\n", all_modules,
                        &s, &c), 0);
    check_list(&c, CONFIG_FROM_DEFAULT, 4, want);
}

static void test_run_lines_in_order_with_spaces_comments_and_crlf(void)
{
    struct seen s;
    struct config c;
    static const char *const want[] = { "vmprobe", "hello", "spin", "hello" };
    CHECK_EQ(parse_with("# /boot/pagelab.cfg\r\nrun=vmprobe\r\n  run = hello  # greet\n"
                        "\trun\t=\tspin\t\n\nrun=hello", all_modules, &s, &c), 0);
    check_list(&c, CONFIG_FROM_FILE, 4, want);
}

static void test_each_bad_line_is_named_with_its_number_and_skipped(void)
{
    struct seen s;
    struct config c;
    static const char *const want[] = { "hello", "spin" };
    const char *text = "run=hello\n"          /* 1 */
                       "just some words\n"    /* 2: no '=' */
                       "# fine\n"             /* 3 */
                       "colour = blue\n"      /* 4: unknown key */
                       "=spin\n"              /* 5: empty key */
                       "run=nosuch\n"         /* 6: no module */
                       "run=\n"               /* 7: empty name */
                       "RUN=hello\n"          /* 8: keys are case-sensitive */
                       "run=spin\n"           /* 9 */
                       "runner=spin # x\n";   /* 10: unknown key */
    CHECK_EQ(parse_with(text, all_modules, &s, &c), 7);
    check_list(&c, CONFIG_FROM_FILE, 2, want);
    static const unsigned lines[] = { 2, 4, 5, 6, 7, 8, 10 };
    static const enum config_error whys[] = {
        CONFIG_ERR_NO_EQUALS, CONFIG_ERR_UNKNOWN_KEY, CONFIG_ERR_UNKNOWN_KEY,
        CONFIG_ERR_NO_MODULE, CONFIG_ERR_NO_MODULE, CONFIG_ERR_UNKNOWN_KEY,
        CONFIG_ERR_UNKNOWN_KEY };
    for (unsigned i = 0; i < 7 && i < s.count; i++) {
        CHECK_EQ(s.line[i], lines[i]);
        CHECK_EQ(s.why[i], whys[i]);
    }
    CHECK(strcmp(s.text[0], "just some words") == 0, "text \"%s\"", s.text[0]);
    CHECK(strcmp(s.text[6], "runner=spin") == 0, "comment and spaces cut: \"%s\"", s.text[6]);
}

static void test_only_refused_run_lines_give_an_empty_list_not_the_default(void)
{
    struct seen s;
    struct config c;
    CHECK_EQ(parse_with("run=nosuch\nrun=\n", all_modules, &s, &c), 2);
    check_list(&c, CONFIG_FROM_FILE, 0, NULL);
}

/* n lines "run=hello" / "run=spin", alternating */
static void run_lines(unsigned n, char *buf, size_t size)
{
    buf[0] = '\0';
    for (unsigned i = 0; i < n; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "run=%s\n", i % 2 ? "spin" : "hello");
}

static void case_run_lines(const void *arg)
{
    unsigned n = (unsigned)(uintptr_t)arg;
    char buf[64 * 16];
    struct seen s;
    struct config c;
    run_lines(n, buf, sizeof(buf));
    unsigned kept = n < CONFIG_RUN_MAX ? n : CONFIG_RUN_MAX;
    CHECK_EQ(parse_with(buf, all_modules, &s, &c), n - kept);
    CHECK_EQ(c.source, CONFIG_FROM_FILE);
    CHECK_EQ(c.run_count, kept);
    for (unsigned i = 0; i < kept; i++)
        CHECK(strcmp(c.run[i], i % 2 ? "spin" : "hello") == 0, "run[%u] %s", i, c.run[i]);
    for (unsigned i = 0; i < s.count && i < ERRORS_MAX; i++) {
        CHECK_EQ(s.line[i], CONFIG_RUN_MAX + 1 + i);
        CHECK_EQ(s.why[i], CONFIG_ERR_TOO_MANY_RUNS);
    }
}

static void case_name_length(const void *arg)
{
    const char *name = arg;
    char buf[64];
    struct seen s;
    struct config c;
    snprintf(buf, sizeof(buf), "run=%s\n", name);
    int fits = strlen(name) < BOOT_MODULE_NAME_MAX;
    static const char *const with_long[] = { NAME32, 0 };   /* even if one existed */
    CHECK_EQ(parse_with(buf, fits ? all_modules : with_long, &s, &c), !fits);
    CHECK_EQ(c.run_count, fits);
    if (fits)
        CHECK(strcmp(c.run[0], name) == 0, "run[0] %s", c.run[0]);
    else
        CHECK_EQ(s.why[0], CONFIG_ERR_NO_MODULE);
}

static void test_a_nul_byte_in_a_name_matches_no_module(void)
{
    static const char text[] = "run=hel\0lo\nrun=hello\n";
    struct seen s = { .modules = all_modules };
    struct config c;
    struct config_ops ops = { has_module, on_error, &s };
    CHECK_EQ(config_parse(text, sizeof(text) - 1, &ops, &c), 1);
    CHECK_EQ(s.line[0], 1);
    CHECK_EQ(s.why[0], CONFIG_ERR_NO_MODULE);
    CHECK_EQ(c.run_count, 1);
}

static void test_a_full_page_without_a_final_newline_parses_to_its_last_byte(void)
{
    static char text[BOOT_CONFIG_MAX_SIZE];
    memset(text, '#', sizeof(text));
    text[100] = '\n';
    memcpy(text + sizeof(text) - 10, "\nrun=spin", 9);
    text[sizeof(text) - 1] = ' ';
    struct seen s = { .modules = all_modules };
    struct config c;
    struct config_ops ops = { has_module, on_error, &s };
    CHECK_EQ(config_parse(text, sizeof(text), &ops, &c), 0);
    CHECK_EQ(c.run_count, 1);
    CHECK(c.run_count && strcmp(c.run[0], "spin") == 0, "run[0] %s", c.run[0]);
    /* the same page one byte shorter ends "run=spin" with no space */
    CHECK_EQ(config_parse(text, sizeof(text) - 1, &ops, &c), 0);
    CHECK_EQ(c.run_count, 1);
}

/* ---- faultlog= ---- */

/* Parses len bytes of text (NULs allowed); returns out.fault_log. */
static bool fault_log_of(const char *text, size_t len, struct seen *s, struct config *c)
{
    memset(s, 0, sizeof(*s));
    s->modules = all_modules;
    struct config_ops ops = { has_module, on_error, s };
    memset(c, 0xA5, sizeof(*c));             /* no field may keep what was there */
    config_parse(text, len, &ops, c);
    return c->fault_log;
}

static void test_faultlog_is_off_without_a_file_or_without_the_key(void)
{
    struct seen s;
    struct config c;
    CHECK(!fault_log_of(NULL, 0, &s, &c), "no file: on");
    CHECK(!fault_log_of("run=hello\n", 10, &s, &c), "no faultlog= line: on");
    CHECK_EQ(s.count, 0);
}

static void test_faultlog_on_and_off(void)
{
    struct seen s;
    struct config c;
    CHECK(fault_log_of("faultlog=on\n", 12, &s, &c), "faultlog=on: off");
    CHECK_EQ(s.count, 0);
    CHECK(!fault_log_of("faultlog=off\n", 13, &s, &c), "faultlog=off: on");
    CHECK_EQ(s.count, 0);
}

static void test_faultlog_lines_are_not_run_lines_so_the_default_set_runs(void)
{
    struct seen s;
    struct config c;
    static const char *const want[] = { "hello", "spin", "spin", "cowshare" };
    CHECK(fault_log_of("faultlog=on\n", 12, &s, &c), "off");
    check_list(&c, CONFIG_FROM_DEFAULT, 4, want);
    static const char *const just_spin[] = { "spin" };
    CHECK(fault_log_of("faultlog=on\nrun=spin\n", 21, &s, &c), "off");
    check_list(&c, CONFIG_FROM_FILE, 1, just_spin);
}

/* Each near miss of on/off: refused as a bad value with its line number and
 * text, and the switch stays what the line before it set (on). */
static void case_faultlog_bad_value(const void *arg)
{
    const char *value = arg;
    char text[64];
    int n = snprintf(text, sizeof(text), "faultlog=on\nfaultlog=%s\n", value);
    struct seen s;
    struct config c;
    CHECK(fault_log_of(text, (size_t)n, &s, &c), "the refused line changed the switch");
    if (!CHECK_EQ(s.count, 1))
        return;
    CHECK_EQ(s.line[0], 2);
    CHECK_EQ(s.why[0], CONFIG_ERR_BAD_VALUE);
    char want[64];
    snprintf(want, sizeof(want), "faultlog=%s", value);
    CHECK(strcmp(s.text[0], want) == 0, "text \"%s\", want \"%s\"", s.text[0], want);
}

static void test_faultlog_with_a_nul_in_its_value_is_refused(void)
{
    static const char text[] = "faultlog=o\0n\n";
    struct seen s;
    struct config c;
    CHECK(!fault_log_of(text, sizeof(text) - 1, &s, &c), "on");
    CHECK_EQ(s.count, 1);
    CHECK_EQ(s.why[0], CONFIG_ERR_BAD_VALUE);
}

static void test_faultlog_with_blanks_crlf_and_a_comment(void)
{
    static const char text[] = "  faultlog \t=\t on \r\n";
    struct seen s;
    struct config c;
    CHECK(fault_log_of(text, sizeof(text) - 1, &s, &c), "blanks around key and value: off");
    CHECK_EQ(s.count, 0);
    static const char commented[] = "faultlog=on# why: the fault test\n";
    CHECK(fault_log_of(commented, sizeof(commented) - 1, &s, &c), "a comment after on: off");
    CHECK_EQ(s.count, 0);
    static const char out[] = "# faultlog=on\n";
    CHECK(!fault_log_of(out, sizeof(out) - 1, &s, &c), "a commented-out line: on");
}

static void test_faultlog_key_is_case_sensitive_and_whole(void)
{
    static const char text[] = "FAULTLOG=on\nfault log=on\nfaultlogs=on\nfaultlo=on\n";
    struct seen s;
    struct config c;
    CHECK(!fault_log_of(text, sizeof(text) - 1, &s, &c), "a misspelt key turned it on");
    if (!CHECK_EQ(s.count, 4))
        return;
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(s.line[i], i + 1);
        CHECK_EQ(s.why[i], CONFIG_ERR_UNKNOWN_KEY);
    }
}

static void test_faultlog_the_last_accepted_line_wins(void)
{
    struct seen s;
    struct config c;
    static const char on_off[] = "faultlog=on\nfaultlog=off\n";
    CHECK(!fault_log_of(on_off, sizeof(on_off) - 1, &s, &c), "on then off: on");
    static const char off_on[] = "faultlog=off\nrun=hello\nfaultlog=on\n";
    CHECK(fault_log_of(off_on, sizeof(off_on) - 1, &s, &c), "off then on: off");
    static const char on_on[] = "faultlog=on\nfaultlog=on\n";
    CHECK(fault_log_of(on_on, sizeof(on_on) - 1, &s, &c), "on twice: off");
    CHECK_EQ(s.count, 0);
    static const char off_bad[] = "faultlog=on\nfaultlog=off\nfaultlog=yes\n";
    CHECK(!fault_log_of(off_bad, sizeof(off_bad) - 1, &s, &c), "a refused last line counted");
    CHECK_EQ(s.count, 1);
    CHECK_EQ(s.line[0], 3);
}

/* A file of exactly BOOT_CONFIG_MAX_SIZE bytes (the loader's limit, the
 * only length limit there is): one faultlog= line filling it, its value
 * after 4 KiB of blanks, and a page whose last bytes are faultlog=on
 * without a newline. */
static void test_faultlog_in_a_full_page(void)
{
    static char text[BOOT_CONFIG_MAX_SIZE];
    struct seen s;
    struct config c;
    memset(text, ' ', sizeof(text));
    memcpy(text, "faultlog=", 9);
    memcpy(text + sizeof(text) - 2, "on", 2);
    CHECK(fault_log_of(text, sizeof(text), &s, &c), "on after 4 KiB of blanks: off");
    CHECK_EQ(s.count, 0);
    memset(text, '#', sizeof(text));
    memcpy(text + sizeof(text) - 12, "\nfaultlog=on", 12);
    CHECK(fault_log_of(text, sizeof(text), &s, &c), "faultlog=on at the page's end: off");
    CHECK_EQ(s.count, 0);
    /* one byte fewer cuts the value to "o": refused, off */
    CHECK(!fault_log_of(text, sizeof(text) - 1, &s, &c), "\"o\" read as on");
    CHECK_EQ(s.count, 1);
    CHECK_EQ(s.why[0], CONFIG_ERR_BAD_VALUE);
}

static void test_faultlog_reads_no_byte_past_len(void)
{
    static const char text[] = "faultlog=onX";
    struct seen s;
    struct config c;
    CHECK(fault_log_of(text, sizeof(text) - 2, &s, &c), "len ends at \"on\": off");
    CHECK_EQ(s.count, 0);
    CHECK(!fault_log_of(text, sizeof(text) - 1, &s, &c), "\"onX\" read as on");
    CHECK_EQ(s.count, 1);
}

static const char *error_name(int why)
{
    return config_error_name((enum config_error)why);
}

static void test_every_error_has_a_name_of_its_own(void)
{
    check_distinct_messages(error_name, CONFIG_ERR_NO_EQUALS, CONFIG_ERR_COUNT - 1, "?");
    check_unknown_outside(error_name, CONFIG_ERR_NO_EQUALS, CONFIG_ERR_COUNT - 1, "?");
}

#define RUNS(n) ((const void *)(uintptr_t)(n))

/* ---- user_frames=, replace=, scope= (page replacement) ---- */

/* One line `text` (a C string): the limit it leaves, the refusals in *s. */
static uint32_t frames_of(const char *text, struct seen *s, struct config *c)
{
    parse_with(text, all_modules, s, c);
    return c->user_frames;
}

static void test_replacement_defaults_without_the_keys(void)
{
    struct seen s;
    struct config c;
    CHECK_EQ(parse_with(NULL, all_modules, &s, &c), 0);
    CHECK_EQ(c.user_frames, 0);
    CHECK_EQ(c.policy, CONFIG_POLICY_CLOCK);
    CHECK_EQ(c.scope, CONFIG_SCOPE_GLOBAL);
    CHECK_EQ(parse_with("run=hello\nfaultlog=on\n", all_modules, &s, &c), 0);
    CHECK_EQ(c.user_frames, 0);
    CHECK_EQ(c.policy, CONFIG_POLICY_CLOCK);
}

/* A value of user_frames= and whether it is accepted (then the limit is
 * the number). */
struct frames_case {
    const char *value;
    uint32_t want;      /* 0: refused */
};

static void case_user_frames(const void *arg)
{
    const struct frames_case *fc = arg;
    char text[64];
    snprintf(text, sizeof(text), "user_frames=%s\n", fc->value);
    struct seen s;
    struct config c;
    uint32_t got = frames_of(text, &s, &c);
    CHECK_EQ(got, fc->want);
    CHECK_EQ(s.count, fc->want ? 0u : 1u);
    if (!fc->want && s.count == 1) {
        CHECK_EQ(s.why[0], CONFIG_ERR_BAD_FRAMES);
        CHECK_EQ(s.line[0], 1);
    }
    /* not a run= line: the default set runs */
    CHECK_EQ(c.source, CONFIG_FROM_DEFAULT);
}

static const struct frames_case frames_min = { "1", USER_FRAMES_MIN };
static const struct frames_case frames_min_below = { "0", 0 };
static const struct frames_case frames_min_above = { "2", 2 };
static const struct frames_case frames_max = { "1048576", USER_FRAMES_MAX };
static const struct frames_case frames_max_below = { "1048575", USER_FRAMES_MAX - 1 };
static const struct frames_case frames_max_above = { "1048577", 0 };
static const struct frames_case frames_huge = { "99999999999", 0 };
static const struct frames_case frames_leading_zero = { "016", 0 };
static const struct frames_case frames_sign = { "+16", 0 };
static const struct frames_case frames_negative = { "-1", 0 };
static const struct frames_case frames_hex = { "0x10", 0 };
static const struct frames_case frames_empty = { "", 0 };
static const struct frames_case frames_inner_blank = { "1 6", 0 };
static const struct frames_case frames_suffix = { "16k", 0 };
_Static_assert(USER_FRAMES_MIN == 1 && USER_FRAMES_MAX == 1048576,
               "the cases' spelled-out numbers are the limits");

static void test_user_frames_the_last_accepted_line_wins(void)
{
    struct seen s;
    struct config c;
    CHECK_EQ(frames_of("user_frames=8\nuser_frames=64 # more\nuser_frames=0\n", &s, &c), 64);
    CHECK_EQ(s.count, 1);
    CHECK_EQ(s.line[0], 3);
    CHECK(strcmp(s.text[0], "user_frames=0") == 0, "text \"%s\"", s.text[0]);
}

static void test_replace_takes_each_policy_and_refuses_the_rest(void)
{
    struct seen s;
    struct config c;
    for (unsigned p = 0; p < CONFIG_POLICY_COUNT; p++) {
        char text[64];
        snprintf(text, sizeof(text), "replace = %s\r\n", config_policy_name(p));
        CHECK_EQ(parse_with(text, all_modules, &s, &c), 0);
        CHECK_EQ(c.policy, p);
    }
    static const char *const bad[] = { "FIFO", "Clock", "OPT", "NRU", "Aging", "lru", "nru2",
                                       "fifo clock", "", "fif", "age" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "replace=fifo\nreplace=%s\n", bad[i]);
        CHECK_EQ(parse_with(text, all_modules, &s, &c), 1);
        CHECK_EQ(s.why[0], CONFIG_ERR_BAD_POLICY);
        CHECK_EQ(s.line[0], 2);
        CHECK_EQ(c.policy, CONFIG_POLICY_FIFO);       /* the refused line changed nothing */
    }
    CHECK(strcmp(config_policy_name(CONFIG_POLICY_COUNT), "?") == 0, "past the last");
}

static void test_scope_takes_global_and_local_and_refuses_the_rest(void)
{
    struct seen s;
    struct config c;
    CHECK_EQ(parse_with("scope=local\n", all_modules, &s, &c), 0);
    CHECK_EQ(c.scope, CONFIG_SCOPE_LOCAL);
    CHECK_EQ(parse_with("scope=local\nscope=global\n", all_modules, &s, &c), 0);
    CHECK_EQ(c.scope, CONFIG_SCOPE_GLOBAL);
    CHECK_EQ(parse_with("scope=local\nscope=pff\n", all_modules, &s, &c), 0);
    CHECK_EQ(c.scope, CONFIG_SCOPE_PFF);
    static const char *const bad[] = { "Global", "LOCAL", "locals", "PFF", "pf", "" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "scope=local\nscope=%s\n", bad[i]);
        CHECK_EQ(parse_with(text, all_modules, &s, &c), 1);
        CHECK_EQ(s.why[0], CONFIG_ERR_BAD_SCOPE);
        CHECK_EQ(c.scope, CONFIG_SCOPE_LOCAL);
    }
    CHECK(strcmp(config_scope_name(CONFIG_SCOPE_COUNT), "?") == 0, "past the last");
}

/* quota=: the same range as user_frames=, at, below and above it. */
static void test_quota_limits(void)
{
    static const struct { const char *v; uint32_t want; } cases[] = {
        { "1", 1 }, { "0", 0 }, { "2", 2 }, { "1048576", 1048576 }, { "1048575", 1048575 },
        { "1048577", 0 }, { "04", 0 }, { "-4", 0 }, { "", 0 }, { "4 frames", 0 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "quota=%s\n", cases[i].v);
        struct seen s;
        struct config c;
        parse_with(text, all_modules, &s, &c);
        CHECK(c.quota == cases[i].want, "quota=%s: %u, want %u", cases[i].v, c.quota,
              cases[i].want);
        CHECK_EQ(s.count, cases[i].want ? 0u : 1u);
        if (!cases[i].want && s.count)
            CHECK_EQ(s.why[0], CONFIG_ERR_BAD_QUOTA);
    }
}

/* The pff_ keys: defaults, and each at, below and above its limits. */
struct pff_case { const char *key, *v; uint32_t want; enum config_error why; };

static uint32_t pff_field(const struct config *c, const char *key)
{
    if (!strcmp(key, "pff_window"))
        return c->pff_window;
    if (!strcmp(key, "pff_low"))
        return c->pff_low;
    if (!strcmp(key, "pff_high"))
        return c->pff_high;
    return !strcmp(key, "pff_min") ? c->pff_min : c->pff_max;
}

static void test_pff_defaults_without_the_keys(void)
{
    struct seen s;
    struct config c;
    CHECK_EQ(parse_with("run=hello\n", all_modules, &s, &c), 0);
    CHECK_EQ(c.pff_window, PFF_WINDOW_DEFAULT);
    CHECK_EQ(c.pff_low, PFF_LOW_DEFAULT);
    CHECK_EQ(c.pff_high, PFF_HIGH_DEFAULT);
    CHECK_EQ(c.pff_min, 1);
    CHECK_EQ(c.pff_max, 0);
}

static void test_pff_keys_limits(void)
{
    static const struct pff_case cases[] = {
        { "pff_window", "1", 1, 0 }, { "pff_window", "0", 0, CONFIG_ERR_BAD_WINDOW },
        { "pff_window", "2", 2, 0 }, { "pff_window", "1000", 1000, 0 },
        { "pff_window", "999", 999, 0 }, { "pff_window", "1001", 0, CONFIG_ERR_BAD_WINDOW },
        { "pff_window", "", 0, CONFIG_ERR_BAD_WINDOW },
        { "pff_low", "0", 0, 0 }, { "pff_low", "1", 1, 0 }, { "pff_low", "-1", 0,
          CONFIG_ERR_BAD_RATE }, { "pff_low", "65535", 65535, 0 },
        { "pff_low", "65534", 65534, 0 }, { "pff_low", "65536", 0, CONFIG_ERR_BAD_RATE },
        { "pff_high", "0", 0, 0 }, { "pff_high", "65535", 65535, 0 },
        { "pff_high", "65536", 0, CONFIG_ERR_BAD_RATE }, { "pff_high", "4x", 0,
          CONFIG_ERR_BAD_RATE },
        { "pff_min", "1", 1, 0 }, { "pff_min", "0", 0, CONFIG_ERR_BAD_BOUND },
        { "pff_min", "2", 2, 0 }, { "pff_min", "1048576", 1048576, 0 },
        { "pff_min", "1048577", 0, CONFIG_ERR_BAD_BOUND },
        { "pff_max", "1", 1, 0 }, { "pff_max", "0", 0, CONFIG_ERR_BAD_BOUND },
        { "pff_max", "1048575", 1048575, 0 }, { "pff_max", "1048576", 1048576, 0 },
        { "pff_max", "1048577", 0, CONFIG_ERR_BAD_BOUND },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pff_case *k = &cases[i];
        char text[80];
        /* a first accepted line the refused one must leave alone */
        snprintf(text, sizeof(text), "%s=7\n%s=%s\n", k->key, k->key, k->v);
        struct seen s;
        struct config c;
        parse_with(text, all_modules, &s, &c);
        uint32_t got = pff_field(&c, k->key);
        CHECK(got == (k->why ? 7u : k->want), "%s=%s: %u", k->key, k->v, got);
        CHECK(s.count == (k->why ? 1u : 0u), "%s=%s: %u refused", k->key, k->v, s.count);
        if (k->why && s.count) {
            CHECK_EQ(s.why[0], k->why);
            CHECK_EQ(s.line[0], 2);
        }
    }
}

static const struct check_test tests[] = {
    CHECK_TEST(test_no_file_gives_the_default_set),
    CHECK_TEST(test_the_default_set_keeps_only_modules_that_exist),
    CHECK_TEST(test_a_file_of_comments_and_blank_lines_gives_the_default),
    CHECK_TEST(test_run_lines_in_order_with_spaces_comments_and_crlf),
    CHECK_TEST(test_each_bad_line_is_named_with_its_number_and_skipped),
    CHECK_TEST(test_only_refused_run_lines_give_an_empty_list_not_the_default),
    CHECK_CASE("CONFIG_RUN_MAX - 1 run= lines are all kept", case_run_lines,
               RUNS(CONFIG_RUN_MAX - 1)),
    CHECK_CASE("CONFIG_RUN_MAX run= lines are all kept", case_run_lines, RUNS(CONFIG_RUN_MAX)),
    CHECK_CASE("CONFIG_RUN_MAX + 1 run= lines: the last is refused by number", case_run_lines,
               RUNS(CONFIG_RUN_MAX + 1)),
    CHECK_CASE("CONFIG_RUN_MAX + 3 run= lines: three refused", case_run_lines,
               RUNS(CONFIG_RUN_MAX + 3)),
    CHECK_CASE("a module name of 30 characters runs", case_name_length, NAME30),
    CHECK_CASE("a module name of 31 characters (the longest) runs", case_name_length, NAME31),
    CHECK_CASE("a name of 32 characters names no module", case_name_length, NAME32),
    CHECK_TEST(test_a_nul_byte_in_a_name_matches_no_module),
    CHECK_TEST(test_a_full_page_without_a_final_newline_parses_to_its_last_byte),
    CHECK_TEST(test_every_error_has_a_name_of_its_own),
    CHECK_TEST(test_faultlog_is_off_without_a_file_or_without_the_key),
    CHECK_TEST(test_faultlog_on_and_off),
    CHECK_TEST(test_faultlog_lines_are_not_run_lines_so_the_default_set_runs),
    CHECK_CASE("faultlog=ON is refused (values are case-sensitive)", case_faultlog_bad_value,
               "ON"),
    CHECK_CASE("faultlog=Off is refused", case_faultlog_bad_value, "Off"),
    CHECK_CASE("faultlog=yes is refused", case_faultlog_bad_value, "yes"),
    CHECK_CASE("faultlog=1 is refused", case_faultlog_bad_value, "1"),
    CHECK_CASE("faultlog= (empty) is refused", case_faultlog_bad_value, ""),
    CHECK_CASE("faultlog=o (a prefix of on) is refused", case_faultlog_bad_value, "o"),
    CHECK_CASE("faultlog=of (a prefix of off) is refused", case_faultlog_bad_value, "of"),
    CHECK_CASE("faultlog=onn is refused", case_faultlog_bad_value, "onn"),
    CHECK_CASE("faultlog=offf is refused", case_faultlog_bad_value, "offf"),
    CHECK_CASE("faultlog=on off is refused", case_faultlog_bad_value, "on off"),
    CHECK_CASE("faultlog=o n is refused", case_faultlog_bad_value, "o n"),
    CHECK_CASE("faultlog==on is refused", case_faultlog_bad_value, "=on"),
    CHECK_TEST(test_faultlog_with_a_nul_in_its_value_is_refused),
    CHECK_TEST(test_faultlog_with_blanks_crlf_and_a_comment),
    CHECK_TEST(test_faultlog_key_is_case_sensitive_and_whole),
    CHECK_TEST(test_faultlog_the_last_accepted_line_wins),
    CHECK_TEST(test_faultlog_in_a_full_page),
    CHECK_TEST(test_faultlog_reads_no_byte_past_len),
    CHECK_TEST(test_replacement_defaults_without_the_keys),
    CHECK_CASE("user_frames=1 (USER_FRAMES_MIN) is the limit", case_user_frames, &frames_min),
    CHECK_CASE("user_frames=0 (below the least) is refused", case_user_frames, &frames_min_below),
    CHECK_CASE("user_frames=2 (above the least) is the limit", case_user_frames, &frames_min_above),
    CHECK_CASE("user_frames=1048576 (USER_FRAMES_MAX) is the limit", case_user_frames, &frames_max),
    CHECK_CASE("user_frames=1048575 is the limit", case_user_frames, &frames_max_below),
    CHECK_CASE("user_frames=1048577 (above the most) is refused", case_user_frames,
               &frames_max_above),
    CHECK_CASE("user_frames=99999999999 (past 32 bits) is refused", case_user_frames,
               &frames_huge),
    CHECK_CASE("user_frames=016 (a leading zero) is refused", case_user_frames,
               &frames_leading_zero),
    CHECK_CASE("user_frames=+16 is refused", case_user_frames, &frames_sign),
    CHECK_CASE("user_frames=-1 is refused", case_user_frames, &frames_negative),
    CHECK_CASE("user_frames=0x10 is refused", case_user_frames, &frames_hex),
    CHECK_CASE("user_frames= (empty) is refused", case_user_frames, &frames_empty),
    CHECK_CASE("user_frames=1 6 is refused", case_user_frames, &frames_inner_blank),
    CHECK_CASE("user_frames=16k is refused", case_user_frames, &frames_suffix),
    CHECK_TEST(test_user_frames_the_last_accepted_line_wins),
    CHECK_TEST(test_replace_takes_each_policy_and_refuses_the_rest),
    CHECK_TEST(test_scope_takes_global_and_local_and_refuses_the_rest),
    CHECK_TEST(test_quota_limits),
    CHECK_TEST(test_pff_defaults_without_the_keys),
    CHECK_TEST(test_pff_keys_limits),
};

int main(void)
{
    return check_main("config", tests, CHECK_COUNT(tests));
}
