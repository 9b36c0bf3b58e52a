/* measure.c - counting helpers for the test and bench variants (measure.h). */
#include "measure.h"
#include "pt.h"
#include "layout.h"
#include "layout_check.h"

static void count_table(const struct pt_visit_entry *e, void *ctx)
{
    if (e->kind == PT_VISIT_TABLE)
        ++*(unsigned *)ctx;
}

static void count_record_table(const struct pt_visit_entry *e, void *ctx)
{
    if (e->kind == PT_VISIT_TABLE && PML4_SLOT_OF(e->va.va) == PML4_SLOT_OF(FRAME_META_BASE))
        ++*(unsigned *)ctx;
}

unsigned measure_record_tables(void)
{
    unsigned n = 0;
    pt_visit(2, count_record_table, &n);
    return n;
}

unsigned measure_tables(void)
{
    unsigned n = 1; /* the PML4 */
    pt_visit(2, count_table, &n);
    return n;
}

/* A bare RET: measure_call's baseline. */
void measure_empty(void);
__asm__(".text\n"
        ".globl measure_empty\n"
        ".type measure_empty, @function\n"
        "measure_empty:\n"
        "\tret\n"
        ".size measure_empty, . - measure_empty\n");

#define CALIBRATION_RUNS 63

static uint64_t empty_raw;

uint64_t measure_calibrate(void)
{
    uint64_t v[CALIBRATION_RUNS];
    for (unsigned i = 0; i < CALIBRATION_RUNS; i++)
        v[i] = measure_call_raw((const void *)measure_empty, 0, 0, 0, 0, 0);
    empty_raw = measure_median(v, CALIBRATION_RUNS);
    return empty_raw;
}

uint64_t measure_call(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4)
{
    uint64_t raw = measure_call_raw(fn, a0, a1, a2, a3, a4);
    return raw + 2 > empty_raw ? raw + 2 - empty_raw : 0; /* + the empty CALL and RET */
}

uint64_t measure_median(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return n ? v[n / 2] : 0;
}
