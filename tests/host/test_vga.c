/*
 * test_vga.c - host unit tests of the VGA text screen (common/vga.c): word
 * wrapping at 80 columns and scrolling, against a fake screen. Each test
 * writes text through vga_putc and compares the whole screen, row by row,
 * with the exact text expected (rows not listed must be blank), and checks
 * that the "VGA memory" and the shadow agree cell for cell.
 */
#include "check.h"
#include "vga.h"

static _Alignas(4) uint16_t fake_vga[VGA_ROWS * VGA_COLS];
static _Alignas(4) uint16_t shadow[VGA_ROWS * VGA_COLS];
static struct vga_screen screen;

static void fresh_screen(void)
{
    memset(fake_vga, 0xAA, sizeof(fake_vga));     /* garbage vga_clear must wipe */
    vga_init(&screen, fake_vga, shadow);
    vga_clear(&screen);
}

static void put(const char *text)
{
    for (; *text; text++)
        vga_putc(&screen, *text);
}

/* n copies of c, then the rest: rep('x', 81, "") is 81 x's. */
static const char *rep(char c, int n, const char *rest)
{
    static char buf[8][512];
    static int next;
    char *b = buf[next++ % 8];
    memset(b, c, (size_t)n);
    snprintf(b + n, sizeof(buf[0]) - (size_t)n, "%s", rest);
    return b;
}

/* The screen must show exactly rows[0..n) from the top (each padded with
 * spaces to 80 columns), blank below, grey on black everywhere. */
static void expect_screen(const char *const *rows, unsigned n)
{
    for (unsigned r = 0; r < VGA_ROWS; r++) {
        char want[VGA_COLS + 1], got[VGA_COLS + 1];
        snprintf(want, sizeof(want), "%-80s", r < n ? rows[r] : "");
        for (unsigned c = 0; c < VGA_COLS; c++) {
            uint16_t cell = fake_vga[r * VGA_COLS + c];
            got[c] = (char)(cell & 0xFF);
            CHECK(cell >> 8 == VGA_ATTR, "row %u col %u: attribute 0x%x", r, c, cell >> 8);
            CHECK(cell == shadow[r * VGA_COLS + c], "row %u col %u: VGA and shadow differ", r, c);
        }
        got[VGA_COLS] = '\0';
        CHECK(strcmp(got, want) == 0, "row %u:\n    got  '%s'\n    want '%s'", r, got, want);
    }
}

#define EXPECT_SCREEN(...)                                                  \
    do {                                                                    \
        const char *const rows_[] = { __VA_ARGS__ };                        \
        expect_screen(rows_, CHECK_COUNT(rows_));                           \
    } while (0)

static void test_a_line_of_80_columns_takes_one_row(void)
{
    fresh_screen();
    put(rep('a', 80, "\n"));
    put("next\n");
    EXPECT_SCREEN(rep('a', 80, ""), "next");
}

static void test_a_line_of_79_columns_takes_one_row(void)
{
    fresh_screen();
    put(rep('a', 79, "\nnext\n"));
    EXPECT_SCREEN(rep('a', 79, ""), "next");
}

static void test_one_word_of_81_columns_breaks_hard(void)
{
    fresh_screen();
    put(rep('a', 81, "\nnext\n"));
    EXPECT_SCREEN(rep('a', 80, ""), "  a", "next");
}

static void test_81_columns_ending_in_a_short_word_carry_that_word(void)
{
    fresh_screen();
    put(rep('a', 77, " bcd\nnext\n"));             /* 77 + 1 + 3 = 81 */
    EXPECT_SCREEN(rep('a', 77, ""), "  bcd", "next");
}

static void test_a_word_crossing_column_80_moves_to_the_next_row(void)
{
    fresh_screen();
    /* "kernel" would take columns 76-81 */
    put(rep('x', 75, " kernel entry\n"));
    EXPECT_SCREEN(rep('x', 75, ""), "  kernel entry");
}

static void test_a_word_ending_at_column_80_stays(void)
{
    fresh_screen();
    put(rep('x', 73, " kernel entry\n"));     /* "kernel" ends in column 80 */
    EXPECT_SCREEN(rep('x', 73, " kernel"), "  entry");
}

static void test_a_word_longer_than_a_row_breaks_hard_after_a_space(void)
{
    fresh_screen();
    put("word ");
    put(rep('y', 100, " end\n"));
    /* the long word is carried (78 columns fit after the indent), then
     * breaks hard where the continuation row ends */
    EXPECT_SCREEN("word", rep(' ', 2, rep('y', 78, "")), rep(' ', 2, rep('y', 22, " end")));
}

static void test_multiple_spaces_break_after_the_last_one(void)
{
    fresh_screen();
    put(rep('x', 70, "   abcdefghij\n"));  /* 70 + 3 spaces + 10 = 83 */
    EXPECT_SCREEN(rep('x', 70, ""), "  abcdefghij");
}

static void test_spaces_at_the_break_are_not_shown(void)
{
    fresh_screen();
    put(rep('x', 80, "     next word\n"));
    EXPECT_SCREEN(rep('x', 80, ""), "  next word");
}

static void test_a_newline_at_column_80_ends_the_line_once(void)
{
    fresh_screen();
    put(rep('x', 75, " word\n\nafter a blank line\n"));
    EXPECT_SCREEN(rep('x', 75, " word"), "", "after a blank line");
}

static void test_leading_spaces_are_not_a_break_and_deepen_the_indent(void)
{
    fresh_screen();
    put("    ");
    put(rep('z', 76, " tail\n"));                   /* 4 + 76 = 80, then " tail" */
    EXPECT_SCREEN(rep(' ', 4, rep('z', 76, "")), "      tail");
}

static void test_a_long_line_wraps_on_every_row_at_the_same_indent(void)
{
    fresh_screen();
    /* 17 words of 9 letters and a space: 170 columns */
    char line[256] = "";
    for (int i = 0; i < 17; i++)
        strcat(line, "abcdefghi ");
    strcat(line, "\n");
    put(line);
    EXPECT_SCREEN("abcdefghi abcdefghi abcdefghi abcdefghi abcdefghi abcdefghi "
                  "abcdefghi abcdefghi",
                  "  abcdefghi abcdefghi abcdefghi abcdefghi abcdefghi abcdefghi abcdefghi",
                  "  abcdefghi abcdefghi");
}

static void test_a_word_carried_past_the_last_row_scrolls_with_it(void)
{
    fresh_screen();
    char line[32];
    for (int i = 0; i < VGA_ROWS - 1; i++) {
        snprintf(line, sizeof(line), "row %d\n", i);
        put(line);
    }
    put(rep('x', 75, " carried\n"));          /* on the last row; "carried" crosses 80 */
    /* half a screen (12 rows) scrolled off: rows 12..23, the line, its continuation */
    EXPECT_SCREEN("row 12", "row 13", "row 14", "row 15", "row 16", "row 17", "row 18",
                  "row 19", "row 20", "row 21", "row 22", "row 23", rep('x', 75, ""),
                  "  carried");
}

static void test_continue_keeps_the_screen_and_writes_below_it(void)
{
    fresh_screen();
    put("stage2 line\n");
    memcpy(fake_vga, shadow, sizeof(shadow));
    memset(shadow, 0, sizeof(shadow));             /* a new stage: its own empty shadow */
    vga_init(&screen, fake_vga, shadow);
    vga_continue(&screen);
    put("kernel line\n");
    EXPECT_SCREEN("stage2 line", "kernel line");
}

static const struct check_test tests[] = {
    CHECK_TEST(test_a_line_of_80_columns_takes_one_row),
    CHECK_TEST(test_a_line_of_79_columns_takes_one_row),
    CHECK_TEST(test_one_word_of_81_columns_breaks_hard),
    CHECK_TEST(test_81_columns_ending_in_a_short_word_carry_that_word),
    CHECK_TEST(test_a_word_crossing_column_80_moves_to_the_next_row),
    CHECK_TEST(test_a_word_ending_at_column_80_stays),
    CHECK_TEST(test_a_word_longer_than_a_row_breaks_hard_after_a_space),
    CHECK_TEST(test_multiple_spaces_break_after_the_last_one),
    CHECK_TEST(test_spaces_at_the_break_are_not_shown),
    CHECK_TEST(test_a_newline_at_column_80_ends_the_line_once),
    CHECK_TEST(test_leading_spaces_are_not_a_break_and_deepen_the_indent),
    CHECK_TEST(test_a_long_line_wraps_on_every_row_at_the_same_indent),
    CHECK_TEST(test_a_word_carried_past_the_last_row_scrolls_with_it),
    CHECK_TEST(test_continue_keeps_the_screen_and_writes_below_it),
};

int main(void)
{
    return check_main("vga", tests, CHECK_COUNT(tests));
}
