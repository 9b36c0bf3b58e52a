/* measure.c - counting helpers for the test and bench variants (measure.h). */
#include "measure.h"
#include "pt.h"

static void count_table(const struct pt_visit_entry *e, void *ctx)
{
    if (e->kind == PT_VISIT_TABLE)
        ++*(unsigned *)ctx;
}

unsigned measure_tables(void)
{
    unsigned n = 1; /* the PML4 */
    pt_visit(2, count_table, &n);
    return n;
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
