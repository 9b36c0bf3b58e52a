/*
 * fat.h - read-only FAT12/16/32 file reader for stage2.
 *
 * stage2 mounts the FAT partition found in the MBR, opens the kernel by
 * path and reads the parts of it it needs. Sectors come from a caller's
 * callback (BIOS INT 13h in stage2, pread on an image file in the host
 * tests). All state lives in the caller's structs: no globals, no
 * allocation, no recursion, and every loop is bounded, so a damaged disk
 * gives an error code, never a hang.
 *
 * Reference: Microsoft "FAT: General Overview of On-Disk Format" (fatgen103,
 * 2000), cited below as fatgen103 with its section names. Only 512-byte
 * sectors are supported (what BIOS disks and the image builder use).
 */
#ifndef STAGE2_FAT_H
#define STAGE2_FAT_H

#include <stdint.h>

#include "layout.h"

#define FAT_SECTOR_SIZE SECTOR_SIZE

/*
 * Reads count sectors starting at absolute lba into dst; returns 0 on
 * success, anything else on failure. count may be large (a whole file's
 * contiguous run): the callback splits the transfer as its hardware needs.
 */
typedef int (*fat_read_sectors_fn)(void *ctx, uint64_t lba, uint32_t count,
                                   void *dst);

/* A mounted volume. Fill with fat_mount; the fields are private. */
struct fat_volume {
    fat_read_sectors_fn read;
    void *ctx;
    uint64_t part_lba;        /* absolute LBA of the boot sector */
    uint32_t type;            /* 12, 16 or 32 */
    uint32_t spc_shift;       /* log2(sectors per cluster) */
    uint32_t cluster_shift;   /* log2(bytes per cluster) */
    uint32_t cluster_count;   /* data clusters: valid numbers are 2..count+1 */
    uint32_t fat_start;       /* first sector of the FAT in use (partition relative) */
    uint32_t root_start;      /* FAT12/16: first sector of the root directory */
    uint32_t root_sectors;    /* FAT12/16: its length; 0 on FAT32 */
    uint32_t root_cluster;    /* FAT32: first cluster of the root directory */
    uint32_t data_start;      /* first sector of cluster 2 (partition relative) */
    uint64_t buf_lba;         /* absolute LBA held in buf, or FAT_NO_SECTOR */
    uint64_t fat_cache_lba;   /* absolute LBA held in fat_cache, or FAT_NO_SECTOR */
    uint8_t buf[FAT_SECTOR_SIZE];        /* directory sectors, partial reads */
    uint8_t fat_cache[FAT_SECTOR_SIZE];  /* one sector of the FAT */
};

#define FAT_NO_SECTOR UINT64_MAX

/* An open file. Fill with fat_open; the fields are private. */
struct fat_file {
    uint32_t first_cluster;
    uint32_t size;            /* bytes */
    uint32_t clusters;        /* clusters that size needs */
    uint32_t cursor_index;    /* index in the chain of cursor_cluster */
    uint32_t cursor_cluster;  /* last cluster reached, so reading on is O(1) */
};

/* The longest long name FAT holds (fatgen103, "FAT Long Directory
 * Entries": 255 characters, without a terminator). */
#define FAT_NAME_MAX 255

/* A cluster-chain walk (private to fat.c; here so that a listing can live
 * in the caller's memory). */
struct fat_chain {
    uint32_t cluster;
    uint32_t mark;
    uint32_t power;
    uint32_t lambda;
};

/* A directory being read sector by sector (private). cluster 0 is the
 * fixed root region of FAT12/16. */
struct fat_dir {
    uint32_t cluster;
    uint32_t sector;   /* in the cluster, or in the fixed root region */
    struct fat_chain chain;
};

/* LDIR_MAX_ORD (20) long entries of 13 characters: the most a long name's
 * entries can carry, 5 more than FAT_NAME_MAX. */
#define FAT_LFN_CHARS_MAX 260

/* A directory listing in progress: fill with fat_list_open, then call
 * fat_list_next until it returns 0. The fields are private. */
struct fat_list {
    struct fat_dir dir;
    uint64_t lba;             /* the sector being read (reloaded each call) */
    uint32_t entry;           /* next entry in it; DIR_ENTRIES_PER_SECTOR: read the next sector */
    uint32_t done;            /* the end mark or the end of the chain was met */
    uint32_t lfn_active;      /* a well-formed long-name sequence is in progress */
    uint32_t lfn_next_ord;
    uint32_t lfn_checksum;
    uint32_t lfn_len;         /* its length, known from its last entry (read first) */
    char lfn[FAT_LFN_CHARS_MAX];
};

/* One regular file of a listing. */
struct fat_dirent {
    char name[FAT_NAME_MAX + 1];  /* NUL-terminated: the long name, non-ASCII as '?',
                                   * or the 8.3 name as text */
    uint32_t name_len;
    uint32_t size;                /* bytes */
    uint32_t first_cluster;
};

/* Error codes (negative); fat_strerror gives the message. */
enum fat_error {
    FAT_ERR_IO = -1,             /* the read callback failed */
    FAT_ERR_SIGNATURE = -2,      /* no 0x55AA at boot sector offset 510 */
    FAT_ERR_SECTOR_SIZE = -3,    /* BPB_BytsPerSec != 512 */
    FAT_ERR_CLUSTER_SIZE = -4,   /* BPB_SecPerClus not a power of two */
    FAT_ERR_RESERVED = -5,       /* BPB_RsvdSecCnt == 0 */
    FAT_ERR_NUM_FATS = -6,       /* BPB_NumFATs == 0, or active FAT missing */
    FAT_ERR_TOTAL_SECTORS = -7,  /* 0, or more than the partition holds */
    FAT_ERR_FAT_SIZE = -8,       /* FAT size 0 */
    FAT_ERR_CLUSTER_COUNT = -9,  /* no data clusters, or more than the FAT maps */
    FAT_ERR_ROOT = -10,          /* root directory fields wrong for the type */
    FAT_ERR_BAD_PATH = -11,      /* not absolute, or a name over 255 chars */
    FAT_ERR_NOT_FOUND = -12,
    FAT_ERR_NOT_DIR = -13,       /* a path component is a file */
    FAT_ERR_IS_DIR = -14,        /* the target is a directory */
    FAT_ERR_LOOP = -15,          /* a cluster chain loops */
    FAT_ERR_CLUSTER_RANGE = -16, /* chain points outside the partition */
    FAT_ERR_CHAIN_SHORT = -17,   /* chain ends before the file size */
    FAT_ERR_EOF = -18,           /* read beyond end of file */
};

/*
 * fat_mount - read and check the boot sector at part_lba and prepare v.
 *
 * part_sectors is the partition's length; the volume must fit in it. The
 * FAT type comes strictly from the cluster count (fatgen103, "FAT Type
 * Determination"). read is called with ctx for every disk access, now and
 * by the other functions. Returns 0 or a FAT_ERR_* code (FAT_ERR_IO, or one
 * of the boot-sector checks). Nothing is cached across volumes; v may be
 * mounted again.
 */
int fat_mount(struct fat_volume *v, fat_read_sectors_fn read, void *ctx,
              uint64_t part_lba, uint64_t part_sectors);

/*
 * fat_open - find the regular file at path and prepare f for reading.
 *
 * path is absolute and '/'-separated ("/boot/kernel.elf"); repeated slashes
 * are allowed, a trailing slash requires a directory. Each component
 * matches a VFAT long name (checksum-verified; ASCII compared without case,
 * other characters must be equal) or the 8.3 name, case-insensitively.
 * Walks the file's whole cluster chain once, so later reads cannot loop:
 * FAT_ERR_LOOP, FAT_ERR_CLUSTER_RANGE or FAT_ERR_CHAIN_SHORT when it is
 * damaged. Other errors: FAT_ERR_BAD_PATH, FAT_ERR_NOT_FOUND,
 * FAT_ERR_NOT_DIR, FAT_ERR_IS_DIR, FAT_ERR_IO. Uses v->buf.
 */
int fat_open(struct fat_volume *v, const char *path, struct fat_file *f);

/*
 * fat_read - copy exactly len bytes at byte offset of f into dst.
 *
 * Returns 0, or FAT_ERR_EOF when offset + len exceeds the file size
 * (nothing is read then), or a chain/IO error. Whole sectors of runs of
 * consecutive clusters go straight into dst in one callback; partial
 * sectors go through v->buf. dst needs no alignment. Sequential reads
 * follow the chain from f's cursor (O(1) per cluster); reading backwards
 * restarts from the first cluster.
 */
int fat_read(struct fat_volume *v, struct fat_file *f, uint32_t offset,
             void *dst, uint32_t len);

/*
 * fat_list_open - start listing the directory at path ("/bin"; "/" is the
 * root), resolved as fat_open resolves its directories. Errors:
 * FAT_ERR_BAD_PATH, FAT_ERR_NOT_FOUND, FAT_ERR_NOT_DIR (path names a file
 * or goes through one), FAT_ERR_CLUSTER_RANGE, FAT_ERR_IO. Uses v->buf.
 */
int fat_list_open(struct fat_volume *v, const char *path, struct fat_list *l);

/*
 * fat_list_next - the next regular file of l, in directory order: 1 with
 * *out filled, 0 at the end, or an error (FAT_ERR_IO, FAT_ERR_LOOP,
 * FAT_ERR_CLUSTER_RANGE; the listing is over then). Skipped: volume
 * labels, subdirectories (so "." and ".." too), deleted entries and
 * long-name entries (they name the short entry that follows them). The
 * name is the long name when its entries are whole and their checksum
 * matches (fatgen103, "FAT Long Directory Entries"), else the 8.3 name,
 * lowercased where DIR_NTRes says so (bits 3 and 4: the Windows NT
 * convention mtools and Linux's vfat write for names like "hello"). A long
 * name over FAT_NAME_MAX characters is not a valid one: the 8.3 name is
 * given. Reading files between two calls is fine: the sector is read again
 * when fat_read took v->buf.
 */
int fat_list_next(struct fat_volume *v, struct fat_list *l, struct fat_dirent *out);

/*
 * fat_open_dirent - open a file fat_list_next returned, with the checks of
 * fat_open (its whole chain is walked once) but no second lookup.
 */
int fat_open_dirent(struct fat_volume *v, const struct fat_dirent *e, struct fat_file *f);

/* Size in bytes of an open file. */
uint32_t fat_file_size(const struct fat_file *f);

/* 12, 16 or 32 for a mounted volume. */
int fat_type(const struct fat_volume *v);

/* Message for a FAT_ERR_* code ("unknown error" for anything else). */
const char *fat_strerror(int err);

#endif
