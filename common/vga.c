/*
 * vga.c - the VGA text screen (see vga.h): every cell is written to a RAM
 * shadow and to VGA memory, lines wrap at word boundaries, the screen
 * scrolls half a screen at a time. Used by console.c in stage2 (-m32) and
 * the kernel (-m64), and by the host test on fake buffers: no I/O ports,
 * no fixed address here.
 *
 * Wrapping is decided when a character does not fit: a row that is full
 * (col == VGA_COLS) stays the cursor's row until the next character, so a
 * line of exactly 80 columns followed by '\n' takes one row, not two. A
 * letter that does not fit carries the row's last word (the cells after its
 * last space) to the next row; a space that does not fit is the break
 * itself and is not shown, nor are the spaces after it. A continuation row
 * starts VGA_WRAP_INDENT columns further in than the line's own text:
 * without it a wrapped line reads as two lines, and two columns are the
 * least that shows the difference while costing the continued text little.
 * Continuations of an indented line are indented further still, so they
 * are not mistaken for the next line of a list at the same indentation.
 */
#include "vga.h"

/* Scrolling rewrites the whole screen, and under QEMU's TCG every access to
 * the VGA window (0xA0000-0xBFFFF, device memory) is a call into the VGA
 * model: scrolling a line at a time by reading and writing 4000 cells made
 * the console most of the kernel's boot time. So a RAM shadow holds the
 * screen, and the console scrolls half a screen at once, writing the cells
 * out from the shadow (never reading VGA memory). */
#define VGA_SCROLL_ROWS (VGA_ROWS / 2)
/* A line indented further than this continues here instead. */
#define VGA_WRAP_COL_MAX (VGA_COLS / 2)

void vga_init(struct vga_screen *s, volatile uint16_t *cells, uint16_t *shadow)
{
    s->cells = cells;
    s->shadow = shadow;
    s->row = s->col = s->wrap_col = 0;
    s->skip_spaces = 0;
}

static void set_cell(struct vga_screen *s, unsigned cell, uint16_t v)
{
    s->shadow[cell] = v;
    s->cells[cell] = v;
}

static void scroll(struct vga_screen *s)
{
    const unsigned keep = (VGA_ROWS - VGA_SCROLL_ROWS) * VGA_COLS;
    for (unsigned i = 0; i < keep; i++)
        s->shadow[i] = s->shadow[i + VGA_SCROLL_ROWS * VGA_COLS];
    for (unsigned i = keep; i < VGA_ROWS * VGA_COLS; i++)
        s->shadow[i] = VGA_BLANK;
    for (unsigned i = 0; i < VGA_ROWS * VGA_COLS; i++)
        s->cells[i] = s->shadow[i];
    s->row = VGA_ROWS - VGA_SCROLL_ROWS;
}

/* Put the cursor at column col of the next row, scrolling when that row is
 * below the screen. Rows below the cursor are always blank. */
static void next_row(struct vga_screen *s, unsigned col)
{
    s->col = col;
    if (++s->row == VGA_ROWS)
        scroll(s);
}

static int is_space(uint16_t cell)
{
    return (cell & 0xFF) == ' ';
}

/* The first column of the cursor's row that is not a space (VGA_COLS if none). */
static unsigned first_text_col(const struct vga_screen *s)
{
    const uint16_t *row = s->shadow + s->row * VGA_COLS;
    unsigned c = 0;
    while (c < VGA_COLS && is_space(row[c]))
        c++;
    return c;
}

/* Move on to a continuation row of the current line. */
static void continue_line(struct vga_screen *s)
{
    if (!s->wrap_col) {     /* first wrap of this line: the cursor's row is its first */
        unsigned indent = first_text_col(s) + VGA_WRAP_INDENT;
        s->wrap_col = indent < VGA_WRAP_COL_MAX ? indent : VGA_WRAP_COL_MAX;
    }
    next_row(s, s->wrap_col);
}

/*
 * The cursor's row is full and a letter comes: carry the row's last word
 * (after the last space that follows some of the row's text: leading spaces
 * are indentation, not a break) to a continuation row. A row without such a
 * space is one long word: nothing is carried, the word breaks here. The
 * carried word is at most VGA_COLS - 2 - (its row's text column) cells, so
 * it fits at wrap_col, possibly filling that row.
 */
static void wrap_word(struct vga_screen *s)
{
    uint16_t word[VGA_COLS];
    unsigned base = s->row * VGA_COLS, first = first_text_col(s), from = VGA_COLS;
    for (unsigned c = VGA_COLS; c > first + 1; c--)
        if (is_space(s->shadow[base + c - 1])) {
            from = c;
            break;
        }
    unsigned n = VGA_COLS - from;
    for (unsigned i = 0; i < n; i++) {
        word[i] = s->shadow[base + from + i];
        set_cell(s, base + from + i, VGA_BLANK);
    }
    continue_line(s);
    for (unsigned i = 0; i < n; i++)
        set_cell(s, s->row * VGA_COLS + s->col++, word[i]);
}

void vga_putc(struct vga_screen *s, char c)
{
    if (c == '\n') {
        s->wrap_col = 0;
        s->skip_spaces = 0;
        next_row(s, 0);
        return;
    }
    if (c == '\r' || (c == ' ' && s->skip_spaces))
        return;
    s->skip_spaces = 0;
    if (s->col == VGA_COLS) {
        if (c == ' ') {                 /* the break itself */
            continue_line(s);
            s->skip_spaces = 1;
            return;
        }
        wrap_word(s);
        if (s->col == VGA_COLS)         /* the carried word filled its new row */
            wrap_word(s);               /* it has no space: a hard break */
    }
    set_cell(s, s->row * VGA_COLS + s->col++, (uint16_t)((VGA_ATTR << 8) | (uint8_t)c));
}

/* Two cells as one 32-bit word; may_alias because the same memory is read
 * as uint16_t cells everywhere else. */
typedef uint32_t __attribute__((may_alias)) cell_pair;

/* Two cells per store: under TCG each store to VGA memory is a call into
 * the device model, so halving the stores halves the cost of a clear. */
void vga_clear(struct vga_screen *s)
{
    const uint32_t pair = (uint32_t)VGA_BLANK << 16 | VGA_BLANK;
    volatile cell_pair *cells = (volatile cell_pair *)s->cells;
    cell_pair *shadow = (cell_pair *)s->shadow;
    _Static_assert(VGA_COLS * VGA_ROWS % 2 == 0, "cells go in pairs");
    for (unsigned i = 0; i < VGA_COLS * VGA_ROWS / 2; i++) {
        shadow[i] = pair;
        cells[i] = pair;
    }
    s->row = s->col = s->wrap_col = 0;
    s->skip_spaces = 0;
}

static int row_blank(const struct vga_screen *s, unsigned row)
{
    for (unsigned c = 0; c < VGA_COLS; c++) {
        uint8_t ch = (uint8_t)s->shadow[row * VGA_COLS + c];
        if (ch != ' ' && ch != 0)
            return 0;
    }
    return 1;
}

void vga_continue(struct vga_screen *s)
{
    for (unsigned i = 0; i < VGA_COLS * VGA_ROWS; i++)
        s->shadow[i] = s->cells[i];
    s->row = s->col = s->wrap_col = 0;
    s->skip_spaces = 0;
    for (unsigned r = VGA_ROWS; r > 0; r--)
        if (!row_blank(s, r - 1)) {
            s->row = r;
            break;
        }
    if (s->row == VGA_ROWS)
        scroll(s);
}
