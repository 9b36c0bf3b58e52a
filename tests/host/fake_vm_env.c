/*
 * fake_vm_env.c - host stand-ins for what kernel/proc/vm.c needs beyond the
 * paging core, the frame allocator and the frame records: kmap
 * (kernel/mm/kmap.h) and the fault handler's two page helpers of
 * kernel/uaccess.h. Used by tests/host/test_vm.c (tests/host/paging.mk).
 *
 * kmap: the real kernel/mm/kmap.c dereferences KMAP_BASE itself in the
 * strategies without a window, which the host cannot, so frames are
 * reached here through fake_phys (the arena is the physical memory). The
 * slots are still tracked: using one twice without kunmap, or kunmap of a
 * free one, is the same named panic as in the kernel. kmap_init takes a
 * fresh zero frame from the general zone at every call (every call follows
 * a new fake_boot).
 *
 * uaccess_zero_page / uaccess_copy_page_from: the user address is reached
 * as the CPU would reach it, through the simulated MMU (cpu_ptr: CR3, then
 * the fake TLB), after checking that the active space is the selected one
 * (vm.c's rule for a fault) and that the leaf is present, user and, for the
 * zeroing, writable. A TLB entry that disagrees with the tables (a missing
 * invalidation) is a panic, not a silent write to the old frame.
 *
 * What these fakes do not cover, the guest does: the real kmap's slots at
 * KMAP_BASE and their invalidations, and uaccess.c's SMAP window and REP
 * STOSQ / MOVSQ, run in all five strategies by tests/vm_checks.py (the
 * vmsuite cases) and the default run list's cowshare.
 */
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "console.h"
#include "fake_cpu.h"
#include "kmap.h"
#include "pmm.h"
#include "pt.h"
#include "tlb.h"
#include "uaccess.h"

static paddr_t zero_frame;
static bool in_use[KMAP_SLOT_COUNT];

void kmap_init(void)
{
    if (pmm_alloc(PMM_ZONE_GENERAL, &zero_frame) != PMM_OK)
        kpanic("kmap: no frame left for the zero frame");
    memset(fake_phys(zero_frame.pa), 0, PAGE_SIZE);
    memset(in_use, 0, sizeof(in_use));
}

paddr_t kmap_zero_frame(void) { return zero_frame; }

void *kmap(paddr_t frame, enum kmap_slot slot)
{
    if (in_use[slot])
        kpanic("kmap: slot %u is in use", (unsigned)slot);
    in_use[slot] = true;
    return fake_phys(frame.pa);
}

void kunmap(enum kmap_slot slot)
{
    if (!in_use[slot])
        kpanic("kunmap: slot %u is not in use", (unsigned)slot);
    in_use[slot] = false;
}

void kmap_zero(paddr_t frame)
{
    memset(kmap(frame, KMAP_SCRATCH), 0, PAGE_SIZE);
    kunmap(KMAP_SCRATCH);
}

void kmap_copy(paddr_t dst, paddr_t src)
{
    const void *s = kmap(src, KMAP_SRC);
    memcpy(kmap(dst, KMAP_DST), s, PAGE_SIZE);
    kunmap(KMAP_DST);
    kunmap(KMAP_SRC);
}

/* The page at user address va of the active space, as a ring-3 access
 * with `need` (PT_PROT_USER, | PT_PROT_WRITE) would reach it. */
static void *user_page(uint64_t va, uint32_t need, const char *who)
{
    if (pt_space_selected() != pt_space_active())
        kpanic("%s: the selected space is not the active one", who);
    struct pt_translation t;
    if (PAGE_OFFSET(va) || pt_translate(vaddr(va), &t) != PT_OK || t.level != 1)
        kpanic("%s: no 4 KiB leaf at 0x%lx", who, va);
    if ((pt_tr_prot(&t) & need) != need)
        kpanic("%s: the leaf at 0x%lx refuses the access", who, va);
    void *p = cpu_ptr(vaddr(va));
    if (p != fake_phys(t.pa.pa))
        kpanic("%s: the TLB holds a stale translation of 0x%lx", who, va);
    return p;
}

void uaccess_zero_page(uint64_t dst)
{
    memset(user_page(dst, PT_PROT_USER | PT_PROT_WRITE, "uaccess_zero_page"), 0, PAGE_SIZE);
}

void uaccess_copy_page_from(void *dst, uint64_t src)
{
    memcpy(dst, user_page(src, PT_PROT_USER, "uaccess_copy_page_from"), PAGE_SIZE);
}

/* config_get: the configuration page replacement's rp_init reads. The
 * host tests set the policy and limit with rp_configure instead and never
 * call rp_init; the defaults config_parse gives a file without the keys. */
const struct config *config_get(void)
{
    static struct config cfg = { .policy = CONFIG_POLICY_CLOCK, .scope = CONFIG_SCOPE_GLOBAL };
    return &cfg;
}
