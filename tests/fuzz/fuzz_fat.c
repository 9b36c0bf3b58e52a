/*
 * fuzz_fat.c - libFuzzer harness for stage2/fat.c (the FAT12/16/32
 * reader), built by tests/fuzz/fuzz.mk with ASan and UBSan.
 *
 * Input: a sparse disk, as records of a little-endian u32 sector number
 * followed by 512 bytes of that sector (a short last record is padded with
 * zeros; a later record of the same sector wins); every other sector of
 * the DISK_SECTORS-sector disk reads as zeros. So a seed of a real
 * mkfs.fat volume needs only its non-zero sectors, and the fuzzer can move
 * or rewrite any of them. The volume is the whole disk (partition at LBA
 * 0). The harness mounts it, opens a few paths and reads each file it
 * finds, in pieces, from the start, the end and past the end, checking the
 * contracts of fat.h: a mount gives type 12, 16 or 32; a read inside the
 * file either works or fails with a named error; a read past the end is
 * FAT_ERR_EOF; no sector outside the disk is ever asked for; every error
 * has a message. Hangs are the fuzzer's -timeout.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fat.h"

#define DISK_SECTORS (1u << 17)      /* 64 MiB: room for a FAT32 volume of 1-sector clusters */
#define RECORD (4 + FAT_SECTOR_SIZE)
#define MAX_RECORDS 512
#define READ_MAX (64u * 1024)        /* bytes read from each end of a file */
#define PIECE 1500                   /* not a multiple of a sector: partial sectors too */

struct sparse_disk {
    const uint8_t *data;
    size_t records;
    size_t last_len;                 /* bytes of sector data in the last record */
};

static uint8_t file_buf[READ_MAX];

static void fail(const char *why)
{
    (void)why;
    __builtin_trap();
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void read_sector(const struct sparse_disk *d, uint32_t lba, uint8_t *dst)
{
    memset(dst, 0, FAT_SECTOR_SIZE);
    for (size_t i = d->records; i-- > 0;) {
        const uint8_t *r = d->data + i * RECORD;
        if (le32(r) % DISK_SECTORS != lba)
            continue;
        memcpy(dst, r + 4, i + 1 == d->records ? d->last_len : FAT_SECTOR_SIZE);
        return;
    }
}

static int disk_read(void *ctx, uint64_t lba, uint32_t count, void *dst)
{
    const struct sparse_disk *d = ctx;
    if (count == 0 || lba >= DISK_SECTORS || count > DISK_SECTORS - lba)
        fail("a read outside the disk");   /* the mount promised the volume fits */
    for (uint32_t i = 0; i < count; i++)
        read_sector(d, (uint32_t)(lba + i), (uint8_t *)dst + (size_t)i * FAT_SECTOR_SIZE);
    return 0;
}

static void check_error(int err)
{
    if (err > 0 || (err < 0 && strcmp(fat_strerror(err), "unknown error") == 0))
        fail("an error code without a message");
}

/* Reads [offset, offset + len) in pieces of PIECE bytes. */
static int read_pieces(struct fat_volume *v, struct fat_file *f, uint32_t offset, uint32_t len)
{
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < PIECE ? len - done : PIECE;
        int err = fat_read(v, f, offset + done, file_buf + done, n);
        if (err) {
            check_error(err);
            if (err == FAT_ERR_EOF)
                fail("EOF inside the file");
            return err;
        }
        done += n;
    }
    return 0;
}

static void read_file(struct fat_volume *v, struct fat_file *f)
{
    uint32_t size = fat_file_size(f);
    uint32_t head = size < READ_MAX ? size : READ_MAX;
    if (read_pieces(v, f, 0, head) != 0)
        return;
    if (size > READ_MAX && read_pieces(v, f, size - READ_MAX, READ_MAX) != 0)
        return;
    uint8_t byte;
    if (fat_read(v, f, size, &byte, 1) != FAT_ERR_EOF)
        fail("a read past the end is not FAT_ERR_EOF");
    if (size && fat_read(v, f, size - 1, &byte, 2) != FAT_ERR_EOF)
        fail("a read across the end is not FAT_ERR_EOF");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {
        "/boot/kernel.elf", "/A Very Long Directory Name/file with a long name.txt",
        "/BOOT/KERNEL.ELF", "/boot/", "//boot//../boot/kernel.elf",
    };
    static struct fat_volume v;
    struct sparse_disk d = { data, (size + RECORD - 5) / RECORD, 0 };
    if (d.records == 0 || d.records > MAX_RECORDS)
        return 0;
    d.last_len = size - (d.records - 1) * RECORD - 4;
    if (d.last_len > FAT_SECTOR_SIZE)
        d.last_len = FAT_SECTOR_SIZE;
    int err = fat_mount(&v, disk_read, &d, 0, DISK_SECTORS);
    check_error(err);
    if (err)
        return 0;
    if (fat_type(&v) != 12 && fat_type(&v) != 16 && fat_type(&v) != 32)
        fail("mounted with a type that is not 12, 16 or 32");
    for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct fat_file f;
        err = fat_open(&v, paths[i], &f);
        check_error(err);
        if (err == 0)
            read_file(&v, &f);
    }
    return 0;
}
