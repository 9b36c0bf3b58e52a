/*
 * result.c - the in-guest checks' result lines (result.h).
 */
#include <stdarg.h>
#include "result.h"
#include "console.h"
#include "pmm.h"
#include "strategy.h"

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
