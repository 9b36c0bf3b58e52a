/*
 * vga.h - the 80x25 VGA text screen behind the console (common/console.c):
 * a RAM shadow of the cells, word wrapping at 80 columns and half-screen
 * scrolling. Only the screen wraps: the console sends every line to serial
 * unchanged. The screen is a struct over two caller-given buffers, so the
 * host unit test (tests/host/test_vga.c) runs the same code on a fake one.
 */
#ifndef COMMON_VGA_H
#define COMMON_VGA_H

#include <stdint.h>
#include "layout.h"    /* VGA_TEXT_ADDR, VGA_COLS, VGA_ROWS */

#define VGA_ATTR        0x07          /* light grey on black */
#define VGA_BLANK       ((uint16_t)((VGA_ATTR << 8) | ' '))
/* A row that continues a wrapped line starts this many columns further in
 * than the line's own first character (see vga.c). */
#define VGA_WRAP_INDENT 2

struct vga_screen {
    volatile uint16_t *cells;  /* what the user sees: VGA memory at VGA_TEXT_ADDR */
    uint16_t *shadow;          /* RAM copy of cells, VGA_ROWS * VGA_COLS; never read from VGA */
    unsigned row, col;         /* where the next character goes; col == VGA_COLS: row full */
    unsigned wrap_col;         /* first column of a continuation row; 0: line not wrapped yet */
    int skip_spaces;           /* the line wrapped at a space: drop the spaces that follow */
};

/* Point s at its two buffers (each 4-byte aligned: vga_clear writes cells
 * in pairs) and put the cursor at the top left. Writes
 * nothing: call vga_clear or vga_continue next. */
void vga_init(struct vga_screen *s, volatile uint16_t *cells, uint16_t *shadow);
/* Blank every cell. */
void vga_clear(struct vga_screen *s);
/* Keep what is on the screen (read once into the shadow) and continue on
 * the row below its last non-blank row, scrolling if that is the last. */
void vga_continue(struct vga_screen *s);
/* Show one character: '\n' ends the line, '\r' is ignored, anything else
 * is a cell. A line longer than a row wraps at its last space that fits;
 * a word longer than a row breaks where the row ends. */
void vga_putc(struct vga_screen *s, char c);

#endif
