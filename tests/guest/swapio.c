/*
 * swapio.c - the swap area on the real disk controller (swapio.h): the
 * partition test.img carries (disk/mkimage.py, SWAP_DEFAULT_MIB), pages
 * written to slots through the ATA driver and read back into other frames,
 * the slot map's order, counts and limits at, below and above the last
 * slot. QEMU runs test.img with snapshot=on: nothing reaches the image.
 */
#include "swapio.h"
#include "console.h"
#include "kmap.h"
#include "layout.h"
#include "pmm.h"
#include "result.h"
#include "swap.h"

#define result(ok, name, ...) guest_result("swap", ok, name, __VA_ARGS__)

/* The slots the default partition holds: its pages after the header. */
#define EXPECTED_SLOTS \
    ((uint32_t)(SWAP_DEFAULT_MIB * (1024 * 1024 / PAGE_SIZE) - SWAP_HEADER_SLOTS))

static void fill(paddr_t f, uint64_t seed)
{
    uint64_t *p = kmap(f, KMAP_DST);
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        p[i] = seed * 0x9E3779B97F4A7C15ULL + i;
    kunmap(KMAP_DST);
}

/* Words of f that differ from fill(seed)'s. */
static unsigned differs(paddr_t f, uint64_t seed)
{
    const uint64_t *p = kmap(f, KMAP_DST);
    unsigned bad = 0;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        bad += p[i] != seed * 0x9E3779B97F4A7C15ULL + i;
    kunmap(KMAP_DST);
    return bad;
}

/* Takes slots until one is refused; *first and *last the first and last
 * one given. Returns how many. */
static uint32_t take_all(uint32_t *first, uint32_t *last, enum swap_status *why)
{
    uint32_t n = 0, s;
    while ((*why = swap_slot_alloc(&s)) == SWAP_OK) {
        if (n == 0)
            *first = s;
        *last = s;
        n++;
    }
    return n;
}

static void give_back(uint32_t from, uint32_t to)
{
    for (uint32_t s = from; s <= to; s++)
        swap_slot_unref(s);
}

/* Three slots written with three patterns and read back into a fourth
 * frame, one after the other: the first slot, the last and one between. */
static void round_trips(uint32_t slots)
{
    paddr_t src[3], dst;
    bool got = pmm_alloc(PMM_ZONE_GENERAL, &dst) == PMM_OK;
    for (unsigned i = 0; i < 3; i++)
        got = pmm_alloc(PMM_ZONE_GENERAL, &src[i]) == PMM_OK && got;
    if (!got) {
        result(0, "round trips: frames", "no frames");
        return;
    }
    /* take every slot, so that the first, a middle and the last are ours */
    uint32_t first = 0, last = 0;
    enum swap_status why;
    uint32_t n = take_all(&first, &last, &why);
    uint32_t pick[3] = { 0, slots / 2, slots - 1 };
    struct swap_stats s0, s1;
    swap_get_stats(&s0);
    enum swap_status w[3], r[3];
    unsigned bad[3];
    for (unsigned i = 0; i < 3; i++) {
        fill(src[i], 100 + i);
        w[i] = swap_write(pick[i], src[i]);
    }
    for (unsigned i = 0; i < 3; i++) {
        fill(dst, 7);
        r[i] = swap_read(pick[i], dst);
        bad[i] = differs(dst, 100 + i);
    }
    swap_get_stats(&s1);
    for (unsigned i = 0; i < 3; i++)
        result(n == slots && w[i] == SWAP_OK && r[i] == SWAP_OK && bad[i] == 0,
               i == 0 ? "slot 0 (the first): a page written and read back into another frame"
               : i == 1 ? "a middle slot: its own page back, not another slot's"
                        : "the last slot (the partition's last page): its page back",
               "slot %u of %u (%u taken): write %s, read %s, %u words differ", pick[i], slots, n,
               swap_status_name(w[i]), swap_status_name(r[i]), bad[i]);
    result(s1.writes - s0.writes == 3 && s1.reads - s0.reads == 3 &&
               s1.io_errors == s0.io_errors,
           "the counts: three writes, three reads, no error",
           "writes +%lu reads +%lu errors +%lu", s1.writes - s0.writes, s1.reads - s0.reads,
           s1.io_errors - s0.io_errors);
    /* just above the last slot, and a slot that is free */
    enum swap_status above = swap_write(slots, src[0]);
    give_back(first, last);
    enum swap_status freed = swap_read(0, dst);
    result(above == SWAP_ERR_BAD_SLOT && freed == SWAP_ERR_BAD_SLOT,
           "a transfer past the last slot, or of a free slot, is refused by name",
           "slot %u: %s; free slot 0: %s", slots, swap_status_name(above), swap_status_name(freed));
    for (unsigned i = 0; i < 3; i++)
        pmm_free(PMM_ZONE_GENERAL, src[i]);
    pmm_free(PMM_ZONE_GENERAL, dst);
}

void swapio_run(const struct boot_info *bi)
{
    (void)bi;
    struct swap_stats st;
    swap_get_stats(&st);
    if (!st.present) {
        /* a machine without the legacy ATA controller (q35), or an image
         * without swap: the boot's "swap: none" line said why; the host
         * side knows whether the machine has one (tests/swap_checks.py,
         * check_test_image) */
        kprintf("swapio: no swap area; the swap checks did not run\n");
        return;
    }
    result(st.slots == EXPECTED_SLOTS && st.used == 0,
           "the swap partition is found, with its header's slot count",
           "%u slots (want %u), %u used", st.slots, EXPECTED_SLOTS, st.used);

    /* every slot once, lowest first; then full */
    uint32_t first = 99, last = 0;
    enum swap_status why;
    uint32_t n = take_all(&first, &last, &why);
    struct swap_stats full;
    swap_get_stats(&full);
    result(n == st.slots && first == 0 && last == st.slots - 1 && why == SWAP_ERR_FULL &&
               full.used == st.slots,
           "every slot is handed out once, lowest first, then swap is full",
           "%u slots, %u to %u, then %s; used %u", n, first, last, swap_status_name(why),
           full.used);

    /* a slot given back in the middle is the next one handed out, and the
     * map is full again after it */
    uint32_t mid = st.slots / 2, again = 0, after = 0;
    bool freed = swap_slot_unref(mid);
    enum swap_status a1 = swap_slot_alloc(&again), a2 = swap_slot_alloc(&after);
    result(freed && a1 == SWAP_OK && again == mid && a2 == SWAP_ERR_FULL,
           "a slot freed in the middle is the next handed out; then full again",
           "freed %d, next %s slot %u (want %u), then %s", freed, swap_status_name(a1), again,
           mid, swap_status_name(a2));

    /* counts: two more references, the slot free with the third unref */
    swap_slot_ref(mid);
    swap_slot_ref(mid);
    uint32_t three = swap_slot_refs(mid);
    bool u1 = swap_slot_unref(mid), u2 = swap_slot_unref(mid), u3 = swap_slot_unref(mid);
    uint32_t zero = swap_slot_refs(mid);
    result(three == 3 && !u1 && !u2 && u3 && zero == 0 && swap_slot_refs(st.slots) == 0,
           "a slot's count: freed with its last reference only",
           "refs %u; unrefs %d %d %d; after %u", three, u1, u2, u3, zero);
    for (uint32_t s = 0; s < st.slots; s++)
        if (s != mid)
            swap_slot_unref(s);
    swap_get_stats(&full);
    result(full.used == 0, "every slot is free again", "%u used", full.used);

    round_trips(st.slots);
    swap_get_stats(&full);
    result(full.used == 0, "after the round trips every slot is free again", "%u used",
           full.used);
}
