/*
 * result.c - the in-guest checks' result lines (result.h).
 */
#include <stdarg.h>
#include "result.h"
#include "console.h"
#include "pmm.h"
#include "strategy.h"
#include "frame_meta.h"
#include "measure.h"

void guest_result(const char *area, int ok, const char *name, const char *fmt, ...)
{
    kprintf("%s: guest/%s: %s%s%s", ok ? "PASS" : "FAIL", strategy_name(), area ? area : "",
            area ? ": " : "", name);
    if (!ok) {
        va_list ap;
        kprintf(": ");
        va_start(ap, fmt);
        kvprintf(fmt, ap);
        va_end(ap);
    }
    kprintf("\n");
}

uint64_t guest_free_frames(void)
{
    struct pmm_counters g, p;
    pmm_get_counters(PMM_ZONE_GENERAL, &g);
    pmm_get_counters(PMM_ZONE_TABLE_POOL, &p);
    return g.free + p.free;
}

uint64_t guest_frames_but_records(void)
{
    struct frame_meta_census c;
    frame_meta_census(&c);
    /* kept counts the general zone's frames; in identity and table-offset
     * the records' tables come from the pool */
    uint64_t pool_tables = strategy_table_zone() == PMM_ZONE_TABLE_POOL ? measure_record_tables() : 0;
    return guest_free_frames() + c.kept + pool_tables;
}
