/*
 * ata.c - ATA PIO on the primary channel's master (contract in ata.h).
 *
 * Every command is the same three steps: wait for BSY to clear, write the
 * task registers (device, count, LBA) and the command, then per sector
 * wait for DRQ (or ERR / DF) and move 256 words through the data port
 * with one REP INSW / REP OUTSW. LBA48 is used only when the sector lies
 * past 28 bits (the EXT commands write each task register twice: the high
 * bytes first, ATA/ATAPI-6 "48-bit Address feature set").
 */
#include "ata.h"
#include "io.h"
#include "layout.h"

static bool ready;
static struct ata_device dev;
static uint8_t last_error;

static inline uint8_t reg_in(unsigned reg) { return inb((uint16_t)(ATA_PRIMARY_IO + reg)); }
static inline void reg_out(unsigned reg, uint8_t v) { outb((uint16_t)(ATA_PRIMARY_IO + reg), v); }

/* The alternate status (ATA_PRIMARY_CTRL, read): the status without the
 * side effect of acknowledging an interrupt. */
static inline uint8_t alt_status(void) { return inb(ATA_PRIMARY_CTRL); }

/* After selecting the device or writing a command the status is not valid
 * for 400 ns (ATA/ATAPI-6, the device selection and command protocols):
 * four reads of the alternate status take at least that on an ISA-timed
 * port. */
static void delay_400ns(void)
{
    for (unsigned i = 0; i < 4; i++)
        (void)alt_status();
}

static void insw(void *buf, unsigned words)
{
    __asm__ volatile("cld; rep insw"
                     : "+D"(buf), "+c"(words)
                     : "d"((uint16_t)(ATA_PRIMARY_IO + ATA_REG_DATA))
                     : "memory");
}

static void outsw(const void *buf, unsigned words)
{
    __asm__ volatile("cld; rep outsw"
                     : "+S"(buf), "+c"(words)
                     : "d"((uint16_t)(ATA_PRIMARY_IO + ATA_REG_DATA))
                     : "memory");
}

/* BSY clear; *status gets the last status read. */
static enum ata_status wait_idle(uint8_t *status)
{
    for (unsigned i = 0; i < ATA_WAIT_POLLS; i++) {
        uint8_t s = reg_in(ATA_REG_STATUS);
        *status = s;
        if (!(s & ATA_SR_BSY))
            return ATA_OK;
    }
    return ATA_ERR_TIMEOUT;
}

/* BSY clear and no error reported (ERR: the error register kept, DF);
 * *status the last status read. */
static enum ata_status wait_done_status(uint8_t *status)
{
    enum ata_status st = wait_idle(status);
    if (st != ATA_OK)
        return st;
    if (*status & ATA_SR_ERR) {
        last_error = reg_in(ATA_REG_ERROR);
        return ATA_ERR_DEVICE;
    }
    return (*status & ATA_SR_DF) ? ATA_ERR_FAULT : ATA_OK;
}

/* After a command's last sector. */
static enum ata_status wait_done(void)
{
    uint8_t s;
    return wait_done_status(&s);
}

/* Before each sector: the same, and then DRQ set (data to move). */
static enum ata_status wait_data(void)
{
    uint8_t s;
    enum ata_status st = wait_done_status(&s);
    if (st != ATA_OK)
        return st;
    return (s & ATA_SR_DRQ) ? ATA_OK : ATA_ERR_TIMEOUT;
}

/* The IDENTIFY string words [first, first + n): two ASCII characters per
 * word, the first in the high byte (ATA/ATAPI-6, IDENTIFY DEVICE). */
static void ident_string(const uint16_t *id, unsigned first, unsigned n, char *out)
{
    unsigned len = 0;
    for (unsigned w = first; w < first + n; w++) {
        out[len++] = (char)(id[w] >> 8);
        out[len++] = (char)(id[w] & 0xFF);
    }
    while (len > 0 && out[len - 1] == ' ')
        len--;
    out[len] = '\0';
}

enum ata_status ata_init(struct ata_device *out)
{
    static uint16_t id[256];
    ready = false;
    /* a floating bus (no controller decodes the ports) reads all ones */
    if (reg_in(ATA_REG_STATUS) == 0xFF)
        return ATA_ERR_NO_CONTROLLER;
    outb(ATA_PRIMARY_CTRL, ATA_DC_NIEN);
    reg_out(ATA_REG_DEVICE, ATA_DEV_MASTER_LBA);
    delay_400ns();
    reg_out(ATA_REG_COUNT, 0);
    reg_out(ATA_REG_LBA_LO, 0);
    reg_out(ATA_REG_LBA_MID, 0);
    reg_out(ATA_REG_LBA_HI, 0);
    reg_out(ATA_REG_COMMAND, ATA_CMD_IDENTIFY);
    delay_400ns();
    uint8_t s = reg_in(ATA_REG_STATUS);
    if (s == 0)
        return ATA_ERR_NO_DEVICE;
    enum ata_status st = wait_idle(&s);
    if (st != ATA_OK)
        return st;
    /* a packet device aborts IDENTIFY DEVICE and leaves its signature in
     * LBA mid/high (14h EBh; SATA: 3Ch C3h) */
    if (reg_in(ATA_REG_LBA_MID) || reg_in(ATA_REG_LBA_HI))
        return ATA_ERR_NOT_ATA;
    st = wait_data();
    if (st != ATA_OK)
        return st;
    insw(id, 256);
    dev.lba48 = id[83] & (1u << 10);
    uint64_t lba28 = id[60] | ((uint64_t)id[61] << 16);
    uint64_t lba48 = id[100] | ((uint64_t)id[101] << 16) | ((uint64_t)id[102] << 32) |
                     ((uint64_t)id[103] << 48);
    dev.sectors = dev.lba48 && lba48 ? lba48 : lba28;
    ident_string(id, 27, 20, dev.model);
    if (dev.sectors == 0)
        return ATA_ERR_NOT_ATA;
    ready = true;
    if (out)
        *out = dev;
    return ATA_OK;
}

/* The task registers and the command for count sectors at lba. */
static void command(uint64_t lba, unsigned count, uint8_t cmd28, uint8_t cmd48)
{
    bool ext = lba + count > ATA_LBA28_LIMIT;
    if (ext) {
        reg_out(ATA_REG_DEVICE, ATA_DEV_MASTER_LBA48);
        reg_out(ATA_REG_COUNT, 0);              /* count's high byte */
        reg_out(ATA_REG_LBA_LO, (uint8_t)(lba >> 24));
        reg_out(ATA_REG_LBA_MID, (uint8_t)(lba >> 32));
        reg_out(ATA_REG_LBA_HI, (uint8_t)(lba >> 40));
    } else {
        reg_out(ATA_REG_DEVICE, (uint8_t)(ATA_DEV_MASTER_LBA | ((lba >> 24) & 0x0F)));
    }
    reg_out(ATA_REG_COUNT, (uint8_t)count);
    reg_out(ATA_REG_LBA_LO, (uint8_t)lba);
    reg_out(ATA_REG_LBA_MID, (uint8_t)(lba >> 8));
    reg_out(ATA_REG_LBA_HI, (uint8_t)(lba >> 16));
    reg_out(ATA_REG_COMMAND, ext ? cmd48 : cmd28);
    delay_400ns();
}

static enum ata_status check(uint64_t lba, unsigned count)
{
    if (!ready)
        return ATA_ERR_NOT_READY;
    if (count == 0 || count > ATA_MAX_SECTORS || lba >= dev.sectors ||
        count > dev.sectors - lba)
        return ATA_ERR_RANGE;
    if (lba + count > ATA_LBA28_LIMIT && !dev.lba48)
        return ATA_ERR_RANGE;
    uint8_t s;
    return wait_idle(&s);
}

enum ata_status ata_read(uint64_t lba, unsigned count, void *buf)
{
    enum ata_status st = check(lba, count);
    if (st != ATA_OK)
        return st;
    command(lba, count, ATA_CMD_READ, ATA_CMD_READ_EXT);
    uint8_t *p = buf;
    for (unsigned i = 0; i < count; i++, p += SECTOR_SIZE) {
        st = wait_data();
        if (st != ATA_OK)
            return st;
        insw(p, SECTOR_SIZE / 2);
    }
    return wait_done();
}

enum ata_status ata_write(uint64_t lba, unsigned count, const void *buf)
{
    enum ata_status st = check(lba, count);
    if (st != ATA_OK)
        return st;
    command(lba, count, ATA_CMD_WRITE, ATA_CMD_WRITE_EXT);
    const uint8_t *p = buf;
    for (unsigned i = 0; i < count; i++, p += SECTOR_SIZE) {
        st = wait_data();
        if (st != ATA_OK)
            return st;
        outsw(p, SECTOR_SIZE / 2);
    }
    st = wait_done();
    if (st != ATA_OK)
        return st;
    /* on the medium before the caller reuses what it wrote from */
    reg_out(ATA_REG_DEVICE, ATA_DEV_MASTER_LBA);
    reg_out(ATA_REG_COMMAND, lba + count > ATA_LBA28_LIMIT ? ATA_CMD_FLUSH_EXT : ATA_CMD_FLUSH);
    delay_400ns();
    return wait_done();
}

uint8_t ata_last_error(void) { return last_error; }

const char *ata_status_name(enum ata_status st)
{
    static const char *const names[ATA_STATUS_COUNT] = {
        [ATA_OK] = "ok",
        [ATA_ERR_NO_CONTROLLER] = "no ATA controller at the legacy ports (1F0h reads FFh)",
        [ATA_ERR_NO_DEVICE] = "no device on the primary channel's master",
        [ATA_ERR_NOT_ATA] = "the primary master is not an ATA disk (a packet or SATA device)",
        [ATA_ERR_TIMEOUT] = "the device did not answer in time",
        [ATA_ERR_DEVICE] = "the device reported an error",
        [ATA_ERR_FAULT] = "the device reported a device fault",
        [ATA_ERR_RANGE] = "sectors outside the device (or a count of 0 or above 255)",
        [ATA_ERR_NOT_READY] = "no ATA device was found at boot",
    };
    return (unsigned)st < ATA_STATUS_COUNT && names[st] ? names[st] : "?";
}
