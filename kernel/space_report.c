/*
 * space_report.c - the listers of live address spaces (space_report.h);
 * kernel/experiments.c prints their blocks.
 */
#include "space_report.h"
#include "console.h"

static space_lister_fn listers[SPACE_REPORT_MAX_LISTERS];

void space_report_register(space_lister_fn fn)
{
    for (unsigned i = 0; i < SPACE_REPORT_MAX_LISTERS; i++)
        if (listers[i] == fn)
            return;
    for (unsigned i = 0; i < SPACE_REPORT_MAX_LISTERS; i++)
        if (!listers[i]) {
            listers[i] = fn;
            return;
        }
    kpanic("space_report_register: more than %u listers", SPACE_REPORT_MAX_LISTERS);
}

unsigned space_report_list(struct space_view *out, unsigned cap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < SPACE_REPORT_MAX_LISTERS && listers[i] && n < cap; i++)
        n += listers[i](out + n, cap - n);
    return n < cap ? n : cap;
}
