/*
 * ata.h - the kernel's own disk driver: ATA PIO, polled, on the legacy
 * primary channel (I/O ports 1F0h-1F7h and 3F6h, the "compatibility mode"
 * a PCI IDE controller starts in), its master device. That is where QEMU's
 * `pc` machine puts `-drive ...,if=ide` (index 0) and where bochsrc's
 * ata0-master is: the boot disk, which holds the swap partition
 * (kernel/mm/swap.h). QEMU's q35 machine has an AHCI controller instead and
 * nothing answers at these ports: ata_init says so by name, and the kernel
 * runs without swap.
 *
 * Polled, not interrupt driven: nIEN is set (no IRQ 14), and each command
 * waits for BSY to clear, as the ATA/ATAPI-6 standard (T13 1410D) lets a
 * host do for PIO (its PIO data-in and data-out protocols). One CPU, no other user of
 * the channel: no lock. Every wait is bounded (ATA_WAIT_POLLS status reads):
 * a device that never answers is ATA_ERR_TIMEOUT, never a hang.
 *
 * Register offsets, status bits and opcodes are from ATA/ATAPI-6 (its
 * register and command descriptions, named where they are used); they live
 * here, next to the only code that uses them.
 */
#ifndef KERNEL_DEV_ATA_H
#define KERNEL_DEV_ATA_H

#include <stdbool.h>
#include <stdint.h>

/* The primary channel's command block and control block (the legacy ISA
 * addresses, which PCI IDE compatibility mode keeps). */
#define ATA_PRIMARY_IO          0x1F0
#define ATA_PRIMARY_CTRL        0x3F6

/* Command block registers, offsets from ATA_PRIMARY_IO (ATA/ATAPI-6, "Command Block registers"). */
#define ATA_REG_DATA            0
#define ATA_REG_ERROR           1       /* read */
#define ATA_REG_FEATURES        1       /* write */
#define ATA_REG_COUNT           2
#define ATA_REG_LBA_LO          3
#define ATA_REG_LBA_MID         4
#define ATA_REG_LBA_HI          5
#define ATA_REG_DEVICE          6
#define ATA_REG_STATUS          7       /* read */
#define ATA_REG_COMMAND         7       /* write */

/* Status register bits (ATA/ATAPI-6, "Status register"). */
#define ATA_SR_BSY              0x80
#define ATA_SR_DRDY             0x40
#define ATA_SR_DF               0x20    /* device fault */
#define ATA_SR_DRQ              0x08
#define ATA_SR_ERR              0x01
/* Device control register (ATA_PRIMARY_CTRL, write): nIEN, no interrupts. */
#define ATA_DC_NIEN             0x02
/* Device register: bit 6 selects LBA addressing, bit 4 the device (0:
 * master), bits 7 and 5 are obsolete and set (ATA/ATAPI-6, "Device register"). */
#define ATA_DEV_MASTER_LBA      0xE0
/* The same for a 48-bit command: LBA, master, no address bits in it. */
#define ATA_DEV_MASTER_LBA48    0x40
/* Sectors a 28-bit command reaches; past it, the EXT commands. */
#define ATA_LBA28_LIMIT         (1ULL << 28)

/* Commands (ATA/ATAPI-6, command descriptions, by these names). */
#define ATA_CMD_IDENTIFY        0xEC
#define ATA_CMD_READ            0x20    /* READ SECTORS, 28-bit LBA */
#define ATA_CMD_READ_EXT        0x24    /* READ SECTORS EXT, 48-bit LBA */
#define ATA_CMD_WRITE           0x30    /* WRITE SECTORS */
#define ATA_CMD_WRITE_EXT       0x34    /* WRITE SECTORS EXT */
#define ATA_CMD_FLUSH           0xE7    /* FLUSH CACHE */
#define ATA_CMD_FLUSH_EXT       0xEA    /* FLUSH CACHE EXT */

/* Status reads before a wait gives up: some milliseconds of port reads on
 * real hardware, far more than QEMU or Bochs take for a sector (they
 * answer at once). */
#define ATA_WAIT_POLLS          10000000u
/* Sectors per command: the 8-bit count register (0 would mean 256). */
#define ATA_MAX_SECTORS         255u

enum ata_status {
    ATA_OK = 0,
    ATA_ERR_NO_CONTROLLER,  /* the status register reads FFh: nothing at 1F0h */
    ATA_ERR_NO_DEVICE,      /* no master on the channel (status 0 after IDENTIFY) */
    ATA_ERR_NOT_ATA,        /* a packet (ATAPI) or SATA device answered IDENTIFY */
    ATA_ERR_TIMEOUT,        /* BSY did not clear, or DRQ did not come */
    ATA_ERR_DEVICE,         /* the device set ERR: ata_last_error() has why */
    ATA_ERR_FAULT,          /* the device set DF (device fault) */
    ATA_ERR_RANGE,          /* sectors past the device's end, or a count of 0 */
    ATA_ERR_NOT_READY,      /* ata_init has not found a device */
    ATA_STATUS_COUNT
};

struct ata_device {
    uint64_t sectors;       /* addressable 512-byte sectors (IDENTIFY) */
    bool lba48;             /* the 48-bit feature set (IDENTIFY word 83 bit 10) */
    char model[41];         /* IDENTIFY words 27-46, spaces trimmed */
};

/* Probes the primary master once (IDENTIFY DEVICE). ATA_OK: *out (may be
 * NULL) describes it and ata_read / ata_write work. Otherwise the reason;
 * every later call is ATA_ERR_NOT_READY. */
enum ata_status ata_init(struct ata_device *out);

/* count sectors (1 to ATA_MAX_SECTORS) from lba into buf / from buf to
 * lba, buf a kernel address of count * SECTOR_SIZE bytes. A write returns
 * after the device has flushed its cache (FLUSH CACHE), so a page written
 * to swap is on the medium before its frame is reused. */
enum ata_status ata_read(uint64_t lba, unsigned count, void *buf);
enum ata_status ata_write(uint64_t lba, unsigned count, const void *buf);

/* The error register after the last ATA_ERR_DEVICE (ATA/ATAPI-6, "Error register": e.g.
 * 04h ABRT, 40h UNC, 10h IDNF), 0 before any. */
uint8_t ata_last_error(void);

/* e.g. "no ATA controller at the legacy ports (1F0h reads FFh)". */
const char *ata_status_name(enum ata_status st);

#endif
