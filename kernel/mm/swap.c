/*
 * swap.c - the swap area (contract in swap.h): the partition found in the
 * boot disk's MBR, its header checked, and a slot map of one bit (in use)
 * and one count per slot, in BSS; each transfer counted, with the TSC
 * cycles its ATA command took (swap_get_stats, vmstat's swap_*_tsc).
 */
#include "swap.h"
#include "ata.h"
#include "console.h"
#include "io.h"
#include "kmap.h"
#include "layout.h"
#include "mem.h"

_Static_assert(PAGE_SIZE % SECTOR_SIZE == 0, "a slot is whole sectors");
#define SLOT_SECTORS (PAGE_SIZE / SECTOR_SIZE)

/* An MBR partition entry (the layout disk/mkimage.py writes). */
struct mbr_entry {
    uint8_t status, chs_first[3], type, chs_last[3];
    uint32_t lba_first, sectors;
} __attribute__((packed));
_Static_assert(sizeof(struct mbr_entry) == 16, "an MBR entry");

/* The header page's start (include/layout.h, SWAP_MAGIC). */
struct swap_header {
    char magic[16];
    uint32_t version, slot_size;
    uint64_t slots;
} __attribute__((packed));

static struct swap_stats st;
static uint8_t refs[SWAP_SLOTS_MAX];
static uint64_t in_use[SWAP_SLOTS_MAX / 64];
/* The lowest slot that may be free: a slot below it is in use. */
static uint32_t low;
static unsigned last_io;
static uint8_t last_dev_error;
static uint8_t sector_buf[PAGE_SIZE] __attribute__((aligned(16)));

/* Two lines (each within the screen's 80 columns): that there is no
 * swap, and why. Evaluates to false. */
#define refuse(...) \
    (kprintf("swap: none, running without swap:\n  "), kprintf(__VA_ARGS__), kprintf("\n"), \
     false)

static bool find_partition(void)
{
    struct ata_device dev;
    enum ata_status as = ata_init(&dev);
    if (as != ATA_OK) {
        return refuse("ATA primary master: %s", ata_status_name(as));
    }
    as = ata_read(0, 1, sector_buf);
    if (as != ATA_OK)
        return refuse("reading the MBR: %s", ata_status_name(as));
    const struct mbr_entry *e = (const void *)(sector_buf + MBR_PART_TABLE_OFFSET);
    unsigned i = 0;
    while (i < 4 && !(e[i].type == SWAP_PART_TYPE && e[i].sectors))
        i++;
    if (i == 4)
        return refuse("no partition of type %xh in the MBR", SWAP_PART_TYPE);
    uint64_t lba = e[i].lba_first, sectors = e[i].sectors;
    if (lba + sectors > dev.sectors)
        return refuse("the swap partition ends past the end of the disk (%lu sectors)",
                      dev.sectors);
    if (sectors < (SWAP_HEADER_SLOTS + 1) * SLOT_SECTORS)
        return refuse("the swap partition has %lu sectors: no room for one slot", sectors);
    as = ata_read(lba, SLOT_SECTORS, sector_buf);
    if (as != ATA_OK)
        return refuse("reading the swap header: %s", ata_status_name(as));
    const struct swap_header *h = (const void *)sector_buf;
    char want[sizeof h->magic] = SWAP_MAGIC;
    if (memcmp(h->magic, want, sizeof want) != 0)
        return refuse("the type-82h partition at LBA %lu has no pagelab swap header: left alone",
                      lba);
    if (h->version != SWAP_VERSION || h->slot_size != PAGE_SIZE)
        return refuse("the swap header at LBA %lu: another version or slot size", lba);
    uint64_t room = sectors / SLOT_SECTORS - SWAP_HEADER_SLOTS;
    if (h->slots == 0 || h->slots > room)
        return refuse("the swap header at LBA %lu counts more slots than its partition holds",
                      lba);
    st.part_lba = lba;
    st.slots = (uint32_t)(h->slots < SWAP_SLOTS_MAX ? h->slots : SWAP_SLOTS_MAX);
    kprintf("swap: %u slots of 4 KiB, partition %u at LBA %lu (%lu MiB)\n  on the ATA primary"
            " master: %s\n", st.slots, i + 1, lba, sectors * SECTOR_SIZE / (1024 * 1024),
            dev.model);
    if (h->slots > st.slots)
        kprintf("  %lu slots of its header past SWAP_SLOTS_MAX (%u) left unused\n",
                h->slots - st.slots, SWAP_SLOTS_MAX);
    return true;
}

void swap_init(void)
{
    st = (struct swap_stats){ 0 };
    memset(refs, 0, sizeof refs);
    memset(in_use, 0, sizeof in_use);
    low = 0;
    st.present = find_partition();
    if (!st.present)
        st.slots = 0;
}

bool swap_present(void) { return st.present; }

uint32_t swap_slots_used(void) { return st.used; }

static bool bit(uint32_t s) { return in_use[s / 64] & (1ULL << (s % 64)); }

enum swap_status swap_slot_alloc(uint32_t *slot)
{
    if (!st.present)
        return SWAP_ERR_NONE;
    /* a word at a time past the full ones */
    for (uint32_t w = low / 64; w * 64 < st.slots; w++) {
        if (in_use[w] == ~0ULL)
            continue;
        uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(~in_use[w]);
        if (s >= st.slots)
            break;
        in_use[w] |= 1ULL << (s % 64);
        refs[s] = 1;
        st.used++;
        low = s + 1;
        *slot = s;
        return SWAP_OK;
    }
    low = st.slots;
    return SWAP_ERR_FULL;
}

static void check_live(uint32_t s, const char *who)
{
    if (s >= st.slots || !bit(s))
        kpanic("swap: %s: slot %u is not in use (%u slots)", who, s, st.slots);
}

void swap_slot_ref(uint32_t slot)
{
    check_live(slot, "swap_slot_ref");
    if (refs[slot] == SWAP_SLOT_REFS_MAX)
        kpanic("swap: slot %u: reference count overflow", slot);
    refs[slot]++;
}

bool swap_slot_unref(uint32_t slot)
{
    check_live(slot, "swap_slot_unref (reference count underflow)");
    if (--refs[slot])
        return false;
    in_use[slot / 64] &= ~(1ULL << (slot % 64));
    st.used--;
    if (slot < low)
        low = slot;
    return true;
}

uint32_t swap_slot_refs(uint32_t slot)
{
    return slot < st.slots ? refs[slot] : 0;
}

static enum swap_status transfer(uint32_t slot, paddr_t frame, bool write)
{
    if (!st.present)
        return SWAP_ERR_NONE;
    if (slot >= st.slots || !bit(slot))
        return SWAP_ERR_BAD_SLOT;
    uint64_t lba = st.part_lba + (uint64_t)(SWAP_HEADER_SLOTS + slot) * SLOT_SECTORS;
    void *p = kmap(frame, KMAP_SCRATCH);
    uint64_t t0 = rdtsc();
    enum ata_status as = write ? ata_write(lba, SLOT_SECTORS, p) : ata_read(lba, SLOT_SECTORS, p);
    uint64_t t = rdtsc() - t0;
    kunmap(KMAP_SCRATCH);
    if (write)
        st.write_tsc += t;
    else
        st.read_tsc += t;
    if (as == ATA_OK) {
        if (write)
            st.writes++;
        else
            st.reads++;
        return SWAP_OK;
    }
    st.io_errors++;
    last_io = as;
    last_dev_error = as == ATA_ERR_DEVICE ? ata_last_error() : 0;
    kprintf("swap: I/O error %s slot %u (LBA %lu), frame 0x%lx:\n  %s (error register"
            " 0x%x)\n", write ? "writing" : "reading", slot, lba, frame.pa, ata_status_name(as),
            last_dev_error);
    return SWAP_ERR_IO;
}

enum swap_status swap_write(uint32_t slot, paddr_t frame) { return transfer(slot, frame, true); }
enum swap_status swap_read(uint32_t slot, paddr_t frame) { return transfer(slot, frame, false); }

unsigned swap_last_io(uint8_t *device_error)
{
    if (device_error)
        *device_error = last_dev_error;
    return last_io;
}

void swap_get_stats(struct swap_stats *out) { *out = st; }

const char *swap_status_name(enum swap_status s)
{
    static const char *const names[SWAP_STATUS_COUNT] = {
        [SWAP_OK] = "ok",
        [SWAP_ERR_NONE] = "no swap area",
        [SWAP_ERR_FULL] = "swap is full",
        [SWAP_ERR_IO] = "swap I/O error",
        [SWAP_ERR_BAD_SLOT] = "no such swap slot in use",
    };
    return (unsigned)s < SWAP_STATUS_COUNT && names[s] ? names[s] : "?";
}
