/*
 * fake_ata.c - a host stand-in for the ATA driver (kernel/dev/ata.h), so
 * that kernel/mm/swap.c and page replacement run unchanged in the host
 * tests: the disk is a byte array a test hands in (fake_ata_attach), with
 * an MBR and a swap partition it builds itself; without one, ata_init
 * finds no controller, as the kernel does on q35. fake_ata_fail_writes
 * makes the next n writes fail as a device error (ABRT), for the
 * swap-error paths.
 */
#include <stdlib.h>
#include <string.h>

#include "ata.h"
#include "fake_ata.h"
#include "layout.h"

static uint8_t *disk;
static uint64_t sectors;
static unsigned fail_writes;
static bool ready;
uint64_t fake_ata_reads, fake_ata_writes;

void fake_ata_attach(uint8_t *bytes, uint64_t n_sectors)
{
    disk = bytes;
    sectors = n_sectors;
    fail_writes = 0;
    ready = false;
    fake_ata_reads = fake_ata_writes = 0;
}

void fake_ata_fail_writes(unsigned n) { fail_writes = n; }

enum ata_status ata_init(struct ata_device *out)
{
    ready = disk != NULL;
    if (!ready)
        return ATA_ERR_NO_CONTROLLER;
    if (out) {
        out->sectors = sectors;
        out->lba48 = true;
        strcpy(out->model, "fake disk");
    }
    return ATA_OK;
}

static enum ata_status check(uint64_t lba, unsigned count)
{
    if (!ready)
        return ATA_ERR_NOT_READY;
    if (count == 0 || count > ATA_MAX_SECTORS || lba >= sectors || count > sectors - lba)
        return ATA_ERR_RANGE;
    return ATA_OK;
}

enum ata_status ata_read(uint64_t lba, unsigned count, void *buf)
{
    enum ata_status st = check(lba, count);
    if (st != ATA_OK)
        return st;
    memcpy(buf, disk + lba * SECTOR_SIZE, (size_t)count * SECTOR_SIZE);
    fake_ata_reads++;
    return ATA_OK;
}

enum ata_status ata_write(uint64_t lba, unsigned count, const void *buf)
{
    enum ata_status st = check(lba, count);
    if (st != ATA_OK)
        return st;
    if (fail_writes) {
        fail_writes--;
        return ATA_ERR_DEVICE;
    }
    memcpy(disk + lba * SECTOR_SIZE, buf, (size_t)count * SECTOR_SIZE);
    fake_ata_writes++;
    return ATA_OK;
}

uint8_t ata_last_error(void) { return 0x04; }      /* ABRT */

const char *ata_status_name(enum ata_status st)
{
    return st == ATA_OK ? "ok" : st == ATA_ERR_DEVICE ? "the device reported an error"
                                                      : "fake disk error";
}

void fake_ata_swap_disk(uint32_t slots)
{
    static uint8_t *disk;
    uint64_t sectors = FAKE_SWAP_LBA +
                       (uint64_t)(SWAP_HEADER_SLOTS + slots) * (PAGE_SIZE / SECTOR_SIZE);
    free(disk);
    disk = calloc(sectors, SECTOR_SIZE);
    uint8_t *e = disk + MBR_PART_TABLE_OFFSET + 16;
    e[4] = SWAP_PART_TYPE;
    uint32_t first = FAKE_SWAP_LBA, n = (uint32_t)(sectors - FAKE_SWAP_LBA);
    memcpy(e + 8, &first, 4);
    memcpy(e + 12, &n, 4);
    disk[510] = 0x55;
    disk[511] = 0xAA;
    uint8_t *h = disk + FAKE_SWAP_LBA * SECTOR_SIZE;
    memcpy(h, SWAP_MAGIC, sizeof(SWAP_MAGIC));
    uint32_t version = SWAP_VERSION, size = PAGE_SIZE;
    uint64_t count = slots;
    memcpy(h + 16, &version, 4);
    memcpy(h + 20, &size, 4);
    memcpy(h + 24, &count, 8);
    fake_ata_attach(disk, sectors);
}
