/*
 * fat.c - read-only FAT12/16/32 reader (see fat.h for the contracts).
 *
 * In order: little-endian field access and sector caching; the boot
 * sector (BPB) checks and the volume geometry; FAT entries and cluster
 * chains; directories, names and path lookup; file reads. On-disk offsets
 * and rules are from fatgen103 and are named as it names them.
 *
 * Every walk is bounded: chains are followed with Brent's cycle detection
 * (a loop is found after O(chain length) steps, whatever the cluster
 * count), directory and file walks stop at the end of their chain, file
 * reads never follow more links than the file size needs, and path lookup
 * is bounded by the path's length.
 */
#include <stdbool.h>

#include "fat.h"
#include "lib.h"

/* ---- fatgen103, "Boot Sector and BPB Structure": byte offsets ---- */
#define BPB_BYTS_PER_SEC   11   /* u16 */
#define BPB_SEC_PER_CLUS   13   /* u8 */
#define BPB_RSVD_SEC_CNT   14   /* u16 */
#define BPB_NUM_FATS       16   /* u8 */
#define BPB_ROOT_ENT_CNT   17   /* u16, 0 on FAT32 */
#define BPB_TOT_SEC16      19   /* u16, 0 if TotSec32 is used */
#define BPB_FAT_SZ16       22   /* u16, 0 on FAT32 */
#define BPB_TOT_SEC32      32   /* u32 */
#define BPB_FAT_SZ32       36   /* u32, FAT32 only */
#define BPB_EXT_FLAGS      40   /* u16, FAT32 only */
#define BPB_ROOT_CLUS      44   /* u32, FAT32 only */
#define BS_SIGNATURE       510  /* 0x55, 0xAA */
#define BS_SIGNATURE_0     0x55
#define BS_SIGNATURE_1     0xAA
#define BPB_MAX_SPC_SHIFT  7    /* at most 128 sectors per cluster */
/* BPB_ExtFlags: bit 7 set = only the FAT numbered in bits 0-3 is active */
#define EXT_FLAGS_NO_MIRROR 0x80
#define EXT_FLAGS_ACTIVE    0x0F

/* ---- fatgen103, "FAT Type Determination" ---- */
#define FAT12_MAX_CLUSTERS 4084   /* fewer than 4085 clusters: FAT12 */
#define FAT16_MAX_CLUSTERS 65524  /* fewer than 65525: FAT16, else FAT32 */
/* Highest cluster count whose numbers stay below the FAT32 bad mark. */
#define FAT32_MAX_CLUSTERS 0x0FFFFFF5
#define FAT_FIRST_CLUSTER  2      /* clusters 0 and 1 are reserved */

/* ---- fatgen103, "FAT Data Structure": entry values ---- */
#define FAT12_EOC_MIN      0xFF8
#define FAT16_EOC_MIN      0xFFF8
#define FAT32_EOC_MIN      0x0FFFFFF8
#define FAT12_ENTRY_MASK   0xFFF
#define FAT32_ENTRY_MASK   0x0FFFFFFF   /* the top 4 bits are reserved */
#define FAT12_ODD_SHIFT    4            /* odd FAT12 entries sit in the high 12 bits */

/* ---- fatgen103, "FAT Directory Structure" ---- */
#define DIR_ENTRY_SIZE     32
#define DIR_ENTRIES_PER_SECTOR (FAT_SECTOR_SIZE / DIR_ENTRY_SIZE)
#define DIR_NAME           0    /* 11 bytes, 8.3 padded with spaces */
#define DIR_ATTR           11
#define DIR_FST_CLUS_HI    20   /* u16, FAT32 only */
#define DIR_FST_CLUS_LO    26   /* u16 */
#define DIR_FILE_SIZE      28   /* u32 */
#define DIR_NAME_LEN       11
#define DIR_BASE_LEN       8
#define DIR_FREE_ALL       0x00 /* this and all later entries are free */
#define DIR_FREE           0xE5
#define DIR_KANJI_E5       0x05 /* stands for a real first byte 0xE5 */
#define ATTR_VOLUME_ID     0x08
#define ATTR_DIRECTORY     0x10
#define ATTR_LONG_NAME     0x0F /* RO | HIDDEN | SYSTEM | VOLUME_ID */
#define ATTR_LONG_NAME_MASK 0x3F

/* ---- fatgen103, "FAT Long Directory Entries" ---- */
#define LDIR_ORD           0
#define LDIR_CHKSUM        13
#define LDIR_LAST_LONG_ENTRY 0x40
#define LDIR_ORD_MASK      0x1F
#define LDIR_CHARS         13   /* UCS-2 characters per entry */
#define LDIR_MAX_ORD       20   /* 20 * 13 >= 255 characters */
#define LFN_MAX_LEN        255
#define LFN_END            0x0000
#define LFN_PAD            0xFFFF
/* Byte offsets of the 13 characters: LDIR_Name1, LDIR_Name2, LDIR_Name3. */
static const uint8_t ldir_char_offset[LDIR_CHARS] = {
    1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30,
};

#define SECTOR_SHIFT 9   /* log2(FAT_SECTOR_SIZE) */
#define SECTOR_MASK  (FAT_SECTOR_SIZE - 1)
_Static_assert(FAT_SECTOR_SIZE == 1 << SECTOR_SHIFT, "sector shift");

/* =================== bytes and sectors =================== */

static uint32_t fat_le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t fat_le32(const uint8_t *p)
{
    return fat_le16(p) | fat_le16(p + 2) << 16;
}

/* Makes the one-sector cache (data, *held) hold absolute sector lba; on
 * failure the cache holds nothing. */
static int fat_cache_sector(struct fat_volume *v, uint8_t *data, uint64_t *held,
                            uint64_t lba)
{
    if (*held == lba)
        return 0;
    *held = FAT_NO_SECTOR;
    if (v->read(v->ctx, lba, 1, data) != 0)
        return FAT_ERR_IO;
    *held = lba;
    return 0;
}

/* Makes v->buf hold absolute sector lba. */
static int fat_load_buf(struct fat_volume *v, uint64_t lba)
{
    return fat_cache_sector(v, v->buf, &v->buf_lba, lba);
}

/* Byte `offset` of the FAT in use, through the one-sector FAT cache. */
static int fat_table_byte(struct fat_volume *v, uint32_t offset, uint8_t *byte)
{
    uint64_t lba = v->part_lba + v->fat_start + (offset >> SECTOR_SHIFT);
    int err = fat_cache_sector(v, v->fat_cache, &v->fat_cache_lba, lba);
    if (err < 0)
        return err;
    *byte = v->fat_cache[offset & SECTOR_MASK];
    return 0;
}

/* =================== boot sector and geometry =================== */

/* Checks that need no arithmetic: signature and the basic BPB fields. */
static int fat_check_bpb_fields(const uint8_t *bs)
{
    if (bs[BS_SIGNATURE] != BS_SIGNATURE_0 || bs[BS_SIGNATURE + 1] != BS_SIGNATURE_1)
        return FAT_ERR_SIGNATURE;
    if (fat_le16(bs + BPB_BYTS_PER_SEC) != FAT_SECTOR_SIZE)
        return FAT_ERR_SECTOR_SIZE;
    uint32_t spc = bs[BPB_SEC_PER_CLUS];
    if (spc == 0 || (spc & (spc - 1)) != 0)
        return FAT_ERR_CLUSTER_SIZE;
    if (fat_le16(bs + BPB_RSVD_SEC_CNT) == 0)
        return FAT_ERR_RESERVED;
    if (bs[BPB_NUM_FATS] == 0)
        return FAT_ERR_NUM_FATS;
    return 0;
}

static uint32_t fat_log2(uint32_t power_of_two)
{
    uint32_t shift = 0;
    while (shift < BPB_MAX_SPC_SHIFT && (1u << shift) != power_of_two)
        shift++;
    return shift;
}

/* The FAT type by cluster count alone (fatgen103: the only correct way). */
static uint32_t fat_type_of(uint32_t cluster_count)
{
    if (cluster_count <= FAT12_MAX_CLUSTERS)
        return 12;
    if (cluster_count <= FAT16_MAX_CLUSTERS)
        return 16;
    return 32;
}

static bool fat_cluster_valid(const struct fat_volume *v, uint32_t cluster)
{
    return cluster >= FAT_FIRST_CLUSTER &&
           cluster - FAT_FIRST_CLUSTER < v->cluster_count;
}

/* Region sizes (fatgen103, "FAT Data Structure"): where the data starts,
 * how many clusters there are, and whether the FAT can map them all. */
static int fat_compute_layout(struct fat_volume *v, const uint8_t *bs,
                              uint64_t part_sectors)
{
    uint32_t total = fat_le16(bs + BPB_TOT_SEC16);
    if (total == 0)
        total = fat_le32(bs + BPB_TOT_SEC32);
    if (total == 0 || total > part_sectors)
        return FAT_ERR_TOTAL_SECTORS;
    uint32_t fat_size = fat_le16(bs + BPB_FAT_SZ16);
    if (fat_size == 0)
        fat_size = fat_le32(bs + BPB_FAT_SZ32);
    if (fat_size == 0)
        return FAT_ERR_FAT_SIZE;
    uint32_t root_bytes = fat_le16(bs + BPB_ROOT_ENT_CNT) * DIR_ENTRY_SIZE;
    v->root_sectors = (root_bytes + SECTOR_MASK) >> SECTOR_SHIFT;
    uint32_t reserved = fat_le16(bs + BPB_RSVD_SEC_CNT);
    uint64_t meta = reserved + (uint64_t)bs[BPB_NUM_FATS] * fat_size + v->root_sectors;
    if (meta >= total)
        return FAT_ERR_CLUSTER_COUNT;
    v->fat_start = reserved;
    v->root_start = reserved + bs[BPB_NUM_FATS] * fat_size;
    v->data_start = (uint32_t)meta;
    v->cluster_count = (total - (uint32_t)meta) >> v->spc_shift;
    v->type = fat_type_of(v->cluster_count);
    uint64_t fat_bits = (uint64_t)(v->cluster_count + FAT_FIRST_CLUSTER) * v->type;
    if (v->cluster_count == 0 || v->cluster_count > FAT32_MAX_CLUSTERS ||
        fat_bits > (uint64_t)fat_size * FAT_SECTOR_SIZE * 8)
        return FAT_ERR_CLUSTER_COUNT;
    return 0;
}

/* FAT32 keeps the root in a cluster chain and may have one active FAT;
 * FAT12/16 have a fixed root region (fatgen103, BPB_RootEntCnt,
 * BPB_FATSz16, BPB_ExtFlags, BPB_RootClus). */
static int fat_setup_root(struct fat_volume *v, const uint8_t *bs)
{
    if (v->type != 32)
        return v->root_sectors == 0 ? FAT_ERR_ROOT : 0;
    if (v->root_sectors != 0 || fat_le16(bs + BPB_FAT_SZ16) != 0)
        return FAT_ERR_ROOT;
    uint32_t flags = fat_le16(bs + BPB_EXT_FLAGS);
    if (flags & EXT_FLAGS_NO_MIRROR) {
        uint32_t active = flags & EXT_FLAGS_ACTIVE;
        if (active >= bs[BPB_NUM_FATS])
            return FAT_ERR_NUM_FATS;
        v->fat_start += active * fat_le32(bs + BPB_FAT_SZ32);
    }
    v->root_cluster = fat_le32(bs + BPB_ROOT_CLUS);
    return fat_cluster_valid(v, v->root_cluster) ? 0 : FAT_ERR_ROOT;
}

int fat_mount(struct fat_volume *v, fat_read_sectors_fn read, void *ctx,
              uint64_t part_lba, uint64_t part_sectors)
{
    memset(v, 0, sizeof(*v));
    v->read = read;
    v->ctx = ctx;
    v->part_lba = part_lba;
    v->buf_lba = FAT_NO_SECTOR;
    v->fat_cache_lba = FAT_NO_SECTOR;
    int err = fat_load_buf(v, part_lba);
    if (err == 0)
        err = fat_check_bpb_fields(v->buf);
    if (err < 0)
        return err;
    v->spc_shift = fat_log2(v->buf[BPB_SEC_PER_CLUS]);
    v->cluster_shift = v->spc_shift + SECTOR_SHIFT;
    err = fat_compute_layout(v, v->buf, part_sectors);
    return err < 0 ? err : fat_setup_root(v, v->buf);
}

int fat_type(const struct fat_volume *v)
{
    return (int)v->type;
}

/* =================== FAT entries and chains =================== */

/* The FAT entry of cluster (a valid cluster number). FAT12 entries are
 * 12 bits at byte n + n/2 and may straddle two sectors, so each byte goes
 * through the cache on its own (fatgen103, "FAT12 entries"). */
static int fat_entry(struct fat_volume *v, uint32_t cluster, uint32_t *value)
{
    uint32_t width = v->type == 12 ? 2 : v->type >> 3;
    uint32_t offset = v->type == 12 ? cluster + (cluster >> 1) : cluster * width;
    uint32_t raw = 0;
    for (uint32_t i = 0; i < width; i++) {
        uint8_t byte;
        int err = fat_table_byte(v, offset + i, &byte);
        if (err < 0)
            return err;
        raw |= (uint32_t)byte << (8 * i);
    }
    if (v->type == 12)
        raw = (cluster & 1 ? raw >> FAT12_ODD_SHIFT : raw) & FAT12_ENTRY_MASK;
    else if (v->type == 32)
        raw &= FAT32_ENTRY_MASK;
    *value = raw;
    return 0;
}

static bool fat_is_eoc(const struct fat_volume *v, uint32_t value)
{
    if (v->type == 12)
        return value >= FAT12_EOC_MIN;
    if (v->type == 16)
        return value >= FAT16_EOC_MIN;
    return value >= FAT32_EOC_MIN;
}

/* The cluster after `cluster`: 1 with *next set, 0 at end of chain, or an
 * error. Free (0), reserved (1), bad (xFF7) and too-large values are all
 * outside 2..cluster_count+1 and give FAT_ERR_CLUSTER_RANGE. */
static int fat_link(struct fat_volume *v, uint32_t cluster, uint32_t *next)
{
    uint32_t value;
    int err = fat_entry(v, cluster, &value);
    if (err < 0)
        return err;
    if (fat_is_eoc(v, value))
        return 0;
    if (!fat_cluster_valid(v, value))
        return FAT_ERR_CLUSTER_RANGE;
    *next = value;
    return 1;
}

/* A chain walk with Brent's cycle detection (struct fat_chain, fat.h):
 * `mark` is a cluster seen at the last power-of-two step; meeting it again
 * means a loop. */

static void fat_chain_start(struct fat_chain *c, uint32_t first)
{
    c->cluster = first;
    c->mark = first;
    c->power = 1;
    c->lambda = 0;
}

/* Moves to the next cluster: 1, 0 at end of chain, or an error. */
static int fat_chain_next(struct fat_volume *v, struct fat_chain *c)
{
    uint32_t next;
    int r = fat_link(v, c->cluster, &next);
    if (r <= 0)
        return r;
    if (next == c->mark)
        return FAT_ERR_LOOP;
    if (++c->lambda == c->power) {
        c->mark = next;
        c->power <<= 1;
        c->lambda = 0;
    }
    c->cluster = next;
    return 1;
}

/* Absolute LBA of the first sector of a valid cluster. */
static uint64_t fat_cluster_lba(const struct fat_volume *v, uint32_t cluster)
{
    return v->part_lba + v->data_start +
           ((uint64_t)(cluster - FAT_FIRST_CLUSTER) << v->spc_shift);
}

/* =================== directories and names =================== */

/* What a lookup found. */
struct fat_node {
    bool is_dir;
    uint32_t cluster;
    uint32_t size;
};

static struct fat_node fat_root(const struct fat_volume *v)
{
    struct fat_node root = { true, v->type == 32 ? v->root_cluster : 0, 0 };
    return root;
}

static int fat_dir_open(const struct fat_volume *v, const struct fat_node *n,
                        struct fat_dir *d)
{
    /* ".." of a first-level directory says cluster 0: the root. */
    uint32_t cluster = n->cluster == 0 ? fat_root(v).cluster : n->cluster;
    if (cluster != 0 && !fat_cluster_valid(v, cluster))
        return FAT_ERR_CLUSTER_RANGE;
    d->cluster = cluster;
    d->sector = 0;
    fat_chain_start(&d->chain, cluster);
    return 0;
}

/* The next sector of d: 1 with *lba set, 0 at the end, or an error. */
static int fat_dir_next_sector(struct fat_volume *v, struct fat_dir *d,
                               uint64_t *lba)
{
    if (d->cluster == 0) {
        if (d->sector == v->root_sectors)
            return 0;
        *lba = v->part_lba + v->root_start + d->sector++;
        return 1;
    }
    if (d->sector == 1u << v->spc_shift) {
        int r = fat_chain_next(v, &d->chain);
        if (r <= 0)
            return r;
        d->sector = 0;
    }
    *lba = fat_cluster_lba(v, d->chain.cluster) + d->sector++;
    return 1;
}

static uint32_t fat_upper(uint32_t c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* fatgen103, "FAT Long Directory Entries": ChkSum of the 11-byte name. */
static uint8_t fat_sfn_checksum(const uint8_t *name)
{
    uint8_t sum = 0;
    for (int i = 0; i < DIR_NAME_LEN; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name[i]);
    return sum;
}

/* Writes the 8.3 name of a directory entry as text ("KERNEL  ELF" ->
 * "KERNEL.ELF", "README     " -> "README"); returns its length (<= 12). */
static uint32_t fat_sfn_text(const uint8_t *entry, char *text)
{
    uint32_t n = 0, base_end = DIR_BASE_LEN, ext_end = DIR_NAME_LEN;
    while (base_end > 0 && entry[base_end - 1] == ' ')
        base_end--;
    while (ext_end > DIR_BASE_LEN && entry[ext_end - 1] == ' ')
        ext_end--;
    for (uint32_t i = 0; i < base_end; i++)
        text[n++] = (char)entry[i];
    if (n > 0 && (uint8_t)text[0] == DIR_KANJI_E5)
        text[0] = (char)DIR_FREE;
    if (ext_end > DIR_BASE_LEN)
        text[n++] = '.';
    for (uint32_t i = DIR_BASE_LEN; i < ext_end; i++)
        text[n++] = (char)entry[i];
    return n;
}

/* Does the 8.3 name match name[0..len), ignoring ASCII case? */
static bool fat_sfn_matches(const uint8_t *entry, const char *name, uint32_t len)
{
    char text[DIR_NAME_LEN + 1];
    if (fat_sfn_text(entry, text) != len)
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (fat_upper((uint8_t)text[i]) != fat_upper((uint8_t)name[i]))
            return false;
    return true;
}

/* A long name being matched entry by entry, against one path component.
 * The entries come last-part-first, numbered N|0x40, N-1, ..., 1. */
struct fat_lfn {
    bool active;       /* a well-formed sequence is in progress */
    bool matches;      /* every character so far equals the component */
    uint8_t next_ord;  /* ordinal the next entry must have */
    uint8_t checksum;  /* of the short entry the sequence belongs to */
};

/* Compares the 13 characters of one long entry with the component. */
static bool fat_lfn_chars_match(const uint8_t *entry, uint32_t ord,
                                bool last, const char *name, uint32_t len)
{
    uint32_t pos = (ord - 1) * LDIR_CHARS;
    for (uint32_t k = 0; k < LDIR_CHARS; k++, pos++) {
        uint32_t c = fat_le16(entry + ldir_char_offset[k]);
        if (c == LFN_END)
            return pos == len;          /* the rest is LFN_PAD */
        if (pos >= len || fat_upper(c) != fat_upper((uint8_t)name[pos]))
            return false;
    }
    /* A name that fills its last entry has no terminator. */
    return !last || pos == len;
}

static void fat_lfn_feed(struct fat_lfn *l, const uint8_t *entry,
                         const char *name, uint32_t len)
{
    uint32_t ord = entry[LDIR_ORD] & LDIR_ORD_MASK;
    bool last = (entry[LDIR_ORD] & LDIR_LAST_LONG_ENTRY) != 0;
    if (last) {
        l->active = true;
        l->matches = true;
        l->next_ord = (uint8_t)ord;
        l->checksum = entry[LDIR_CHKSUM];
    }
    if (!l->active || ord == 0 || ord > LDIR_MAX_ORD || ord != l->next_ord ||
        entry[LDIR_CHKSUM] != l->checksum) {
        l->active = false;
        return;
    }
    l->matches = l->matches && fat_lfn_chars_match(entry, ord, last, name, len);
    l->next_ord--;
}

/* Does the short entry, with the long entries before it, match? */
static bool fat_entry_matches(struct fat_lfn *l, const uint8_t *entry,
                              const char *name, uint32_t len)
{
    bool long_ok = l->active && l->next_ord == 0 &&
                   l->checksum == fat_sfn_checksum(entry + DIR_NAME);
    l->active = false;
    return (long_ok && l->matches) || fat_sfn_matches(entry, name, len);
}

static struct fat_node fat_node_of(const struct fat_volume *v,
                                   const uint8_t *entry)
{
    struct fat_node n;
    n.is_dir = (entry[DIR_ATTR] & ATTR_DIRECTORY) != 0;
    n.cluster = fat_le16(entry + DIR_FST_CLUS_LO);
    if (v->type == 32)   /* the high word means something else on FAT12/16 */
        n.cluster |= fat_le16(entry + DIR_FST_CLUS_HI) << 16;
    n.size = fat_le32(entry + DIR_FILE_SIZE);
    return n;
}

/* Outcome of scanning one directory sector. */
enum fat_scan {
    FAT_SCAN_MORE,    /* not in this sector: read the next one */
    FAT_SCAN_FOUND,
    FAT_SCAN_END,     /* end-of-directory mark: not in this directory */
};

/* Scans the directory sector in v->buf for name[0..len). */
static enum fat_scan fat_scan_sector(struct fat_volume *v, struct fat_lfn *l,
                           const char *name, uint32_t len, struct fat_node *out)
{
    for (uint32_t i = 0; i < DIR_ENTRIES_PER_SECTOR; i++) {
        const uint8_t *e = v->buf + i * DIR_ENTRY_SIZE;
        uint8_t attr = e[DIR_ATTR];
        if (e[DIR_NAME] == DIR_FREE_ALL)
            return FAT_SCAN_END;
        if (e[DIR_NAME] == DIR_FREE)
            l->active = false;
        else if ((attr & ATTR_LONG_NAME_MASK) == ATTR_LONG_NAME)
            fat_lfn_feed(l, e, name, len);
        else if (attr & ATTR_VOLUME_ID)
            l->active = false;
        else if (fat_entry_matches(l, e, name, len)) {
            *out = fat_node_of(v, e);
            return FAT_SCAN_FOUND;
        }
    }
    return FAT_SCAN_MORE;
}

/* Looks name[0..len) up in directory *dir; replaces *dir with the result.
 * Ends: the directory's chain ends or loops, or its end mark is met. */
static int fat_lookup(struct fat_volume *v, struct fat_node *dir,
                      const char *name, uint32_t len)
{
    struct fat_dir d;
    struct fat_lfn l = { false, false, 0, 0 };
    int err = fat_dir_open(v, dir, &d);
    if (err < 0)
        return err;
    for (;;) {
        uint64_t lba;
        int r = fat_dir_next_sector(v, &d, &lba);
        if (r <= 0)
            return r < 0 ? r : FAT_ERR_NOT_FOUND;
        if ((err = fat_load_buf(v, lba)) < 0)
            return err;
        enum fat_scan scan = fat_scan_sector(v, &l, name, len, dir);
        if (scan != FAT_SCAN_MORE)
            return scan == FAT_SCAN_FOUND ? 0 : FAT_ERR_NOT_FOUND;
    }
}

/* =================== files =================== */

/* Sets up f and walks its whole chain once (see fat_open). */
static int fat_file_init(struct fat_volume *v, const struct fat_node *n,
                         struct fat_file *f)
{
    uint32_t cluster_mask = (1u << v->cluster_shift) - 1;
    f->first_cluster = n->cluster;
    f->size = n->size;
    f->clusters = (n->size >> v->cluster_shift) + ((n->size & cluster_mask) != 0);
    f->cursor_index = 0;
    f->cursor_cluster = n->cluster;
    if (f->size == 0)
        return 0;
    if (!fat_cluster_valid(v, n->cluster))
        return FAT_ERR_CLUSTER_RANGE;
    struct fat_chain c;
    uint32_t length = 1;
    int r;
    fat_chain_start(&c, n->cluster);
    while ((r = fat_chain_next(v, &c)) == 1)
        length++;   /* cannot wrap: Brent stops any loop, clusters < 2^28 */
    if (r < 0)
        return r;
    /* A longer chain is tolerated: only size bytes are ever read. */
    return length < f->clusters ? FAT_ERR_CHAIN_SHORT : 0;
}

/* Resolves an absolute path to the node it names (see fat_open). */
static int fat_resolve(struct fat_volume *v, const char *path, struct fat_node *node)
{
    if (path[0] != '/')
        return FAT_ERR_BAD_PATH;
    *node = fat_root(v);
    const char *p = path;
    while (*p != '\0') {
        if (*p == '/') {
            if (!node->is_dir)
                return FAT_ERR_NOT_DIR;
            p++;
            continue;
        }
        uint32_t len = 0;
        while (p[len] != '\0' && p[len] != '/' && len <= LFN_MAX_LEN)
            len++;
        if (len > LFN_MAX_LEN)
            return FAT_ERR_BAD_PATH;
        int err = fat_lookup(v, node, p, len);
        if (err < 0)
            return err;
        p += len;
    }
    return 0;
}

int fat_open(struct fat_volume *v, const char *path, struct fat_file *f)
{
    struct fat_node node;
    int err = fat_resolve(v, path, &node);
    if (err < 0)
        return err;
    if (node.is_dir)
        return FAT_ERR_IS_DIR;
    return fat_file_init(v, &node, f);
}

/* =================== directory listings =================== */

int fat_list_open(struct fat_volume *v, const char *path, struct fat_list *l)
{
    struct fat_node node;
    int err = fat_resolve(v, path, &node);
    if (err < 0)
        return err;
    if (!node.is_dir)
        return FAT_ERR_NOT_DIR;
    l->entry = DIR_ENTRIES_PER_SECTOR;
    l->done = 0;
    l->lfn_active = 0;
    return fat_dir_open(v, &node, &l->dir);
}

/* A character of a long name as stage2 prints it: ASCII, else '?'. */
static char fat_lfn_ascii(uint32_t c)
{
    return c >= 0x20 && c < 0x7F ? (char)c : '?';
}

/* Stores the 13 characters of one long entry at their place in l->lfn;
 * false when the entry is malformed: a terminator in an entry that is
 * not the last, or a last entry that makes the name longer than
 * FAT_NAME_MAX (not a valid long name: the short name is used). */
static bool fat_lfn_store(struct fat_list *l, const uint8_t *entry, uint32_t ord, bool last)
{
    uint32_t pos = (ord - 1) * LDIR_CHARS;
    for (uint32_t k = 0; k < LDIR_CHARS; k++, pos++) {
        uint32_t c = fat_le16(entry + ldir_char_offset[k]);
        if (c == LFN_END || c == LFN_PAD) {
            if (!last)
                return false;
            break;
        }
        l->lfn[pos] = fat_lfn_ascii(c);
    }
    if (last)
        l->lfn_len = pos;
    return l->lfn_len <= FAT_NAME_MAX;
}

/* One long entry into the listing's name being assembled (the entries come
 * last-part-first, numbered N|0x40, N-1, ..., 1; fat_lfn_feed's rules). */
static void fat_list_feed_lfn(struct fat_list *l, const uint8_t *entry)
{
    uint32_t ord = entry[LDIR_ORD] & LDIR_ORD_MASK;
    bool last = (entry[LDIR_ORD] & LDIR_LAST_LONG_ENTRY) != 0;
    if (last) {
        l->lfn_active = 1;
        l->lfn_next_ord = ord;
        l->lfn_checksum = entry[LDIR_CHKSUM];
    }
    if (!l->lfn_active || ord == 0 || ord > LDIR_MAX_ORD || ord != l->lfn_next_ord ||
        entry[LDIR_CHKSUM] != l->lfn_checksum || !fat_lfn_store(l, entry, ord, last)) {
        l->lfn_active = 0;
        return;
    }
    l->lfn_next_ord--;
}

/* DIR_NTRes (offset 12): the case of an 8.3 name stored in upper case. */
#define DIR_NT_RES         12
#define NT_RES_LOWER_BASE  0x08
#define NT_RES_LOWER_EXT   0x10

static char fat_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The name of the short entry e: its long name when the sequence before
 * it is whole and belongs to it, else its 8.3 text. */
static void fat_list_name(struct fat_list *l, const uint8_t *e, struct fat_dirent *out)
{
    if (l->lfn_active && l->lfn_next_ord == 0 &&
        l->lfn_checksum == fat_sfn_checksum(e + DIR_NAME)) {
        memcpy(out->name, l->lfn, l->lfn_len);
        out->name_len = l->lfn_len;
    } else {
        out->name_len = fat_sfn_text(e, out->name);
        bool ext = false;
        for (uint32_t i = 0; i < out->name_len; i++) {
            ext = ext || out->name[i] == '.';
            if (e[DIR_NT_RES] & (ext ? NT_RES_LOWER_EXT : NT_RES_LOWER_BASE))
                out->name[i] = fat_lower(out->name[i]);
        }
    }
    out->name[out->name_len] = '\0';
    l->lfn_active = 0;
}

/* Looks at entry e: true when it is a regular file (then *out is filled). */
static bool fat_list_entry(struct fat_volume *v, struct fat_list *l, const uint8_t *e,
                           struct fat_dirent *out)
{
    uint8_t attr = e[DIR_ATTR];
    if (e[DIR_NAME] == DIR_FREE) {
        l->lfn_active = 0;
        return false;
    }
    if ((attr & ATTR_LONG_NAME_MASK) == ATTR_LONG_NAME) {
        fat_list_feed_lfn(l, e);
        return false;
    }
    if (attr & (ATTR_VOLUME_ID | ATTR_DIRECTORY)) {
        l->lfn_active = 0;
        return false;
    }
    struct fat_node n = fat_node_of(v, e);
    fat_list_name(l, e, out);
    out->size = n.size;
    out->first_cluster = n.cluster;
    return true;
}

int fat_list_next(struct fat_volume *v, struct fat_list *l, struct fat_dirent *out)
{
    while (!l->done) {
        if (l->entry == DIR_ENTRIES_PER_SECTOR) {
            int r = fat_dir_next_sector(v, &l->dir, &l->lba);
            if (r <= 0) {
                l->done = 1;
                return r;
            }
            l->entry = 0;
        }
        int err = fat_load_buf(v, l->lba);   /* a no-op unless fat_read took buf */
        if (err < 0) {
            l->done = 1;
            return err;
        }
        const uint8_t *e = v->buf + l->entry++ * DIR_ENTRY_SIZE;
        if (e[DIR_NAME] == DIR_FREE_ALL)
            l->done = 1;
        else if (fat_list_entry(v, l, e, out))
            return 1;
    }
    return 0;
}

int fat_open_dirent(struct fat_volume *v, const struct fat_dirent *e, struct fat_file *f)
{
    struct fat_node n = { false, e->first_cluster, e->size };
    return fat_file_init(v, &n, f);
}

uint32_t fat_file_size(const struct fat_file *f)
{
    return f->size;
}

/* Moves f's cursor to chain index idx (< f->clusters), forward from the
 * cursor or from the start. At most f->clusters links. */
static int fat_seek(struct fat_volume *v, struct fat_file *f, uint32_t idx)
{
    if (idx < f->cursor_index) {
        f->cursor_index = 0;
        f->cursor_cluster = f->first_cluster;
    }
    while (f->cursor_index < idx) {
        uint32_t next;
        int r = fat_link(v, f->cursor_cluster, &next);
        if (r <= 0)
            return r < 0 ? r : FAT_ERR_CHAIN_SHORT;
        f->cursor_cluster = next;
        f->cursor_index++;
    }
    return 0;
}

/* From file position pos: the LBA of its sector and how many bytes (at
 * most max) follow on disk without a gap. Leaves the cursor on the last
 * cluster of that run. */
static int fat_run(struct fat_volume *v, struct fat_file *f, uint32_t pos,
                   uint32_t max, uint64_t *lba, uint32_t *bytes)
{
    uint32_t cluster_bytes = 1u << v->cluster_shift;
    uint32_t in_cluster = pos & (cluster_bytes - 1);
    int err = fat_seek(v, f, pos >> v->cluster_shift);
    if (err < 0)
        return err;
    *lba = fat_cluster_lba(v, f->cursor_cluster) + (in_cluster >> SECTOR_SHIFT);
    uint32_t run = cluster_bytes - in_cluster;
    while (run < max && f->cursor_index + 1 < f->clusters) {
        uint32_t next;
        int r = fat_link(v, f->cursor_cluster, &next);
        if (r <= 0)
            return r < 0 ? r : FAT_ERR_CHAIN_SHORT;
        if (next != f->cursor_cluster + 1)
            break;
        f->cursor_cluster = next;
        f->cursor_index++;
        run = max - run > cluster_bytes ? run + cluster_bytes : max;
    }
    *bytes = run < max ? run : max;
    return 0;
}

int fat_read(struct fat_volume *v, struct fat_file *f, uint32_t offset,
             void *dst, uint32_t len)
{
    uint8_t *out = dst;
    if (offset > f->size || len > f->size - offset)
        return FAT_ERR_EOF;
    while (len > 0) {
        uint64_t lba;
        uint32_t run, n, in_sector = offset & SECTOR_MASK;
        int err = fat_run(v, f, offset, len, &lba, &run);
        if (err < 0)
            return err;
        if (in_sector == 0 && run >= FAT_SECTOR_SIZE) {
            n = run & ~(uint32_t)SECTOR_MASK;
            if (v->read(v->ctx, lba, n >> SECTOR_SHIFT, out) != 0)
                return FAT_ERR_IO;
        } else {
            err = fat_load_buf(v, lba);
            if (err < 0)
                return err;
            n = FAT_SECTOR_SIZE - in_sector < run ? FAT_SECTOR_SIZE - in_sector : run;
            memcpy(out, v->buf + in_sector, n);
        }
        out += n;
        offset += n;
        len -= n;
    }
    return 0;
}

const char *fat_strerror(int err)
{
    switch (err) {
    case FAT_ERR_IO: return "disk read error";
    case FAT_ERR_SIGNATURE: return "no boot sector signature 0x55AA";
    case FAT_ERR_SECTOR_SIZE: return "only 512-byte sectors supported";
    case FAT_ERR_CLUSTER_SIZE: return "sectors per cluster is not a power of two";
    case FAT_ERR_RESERVED: return "reserved sector count is 0";
    case FAT_ERR_NUM_FATS: return "number of FATs is 0 or the active FAT does not exist";
    case FAT_ERR_TOTAL_SECTORS: return "total sectors is 0 or exceeds the partition";
    case FAT_ERR_FAT_SIZE: return "FAT size is 0";
    case FAT_ERR_CLUSTER_COUNT: return "cluster count does not fit the volume or the FAT";
    case FAT_ERR_ROOT: return "root directory fields do not match the FAT type";
    case FAT_ERR_BAD_PATH: return "path is not absolute or has a name over 255 characters";
    case FAT_ERR_NOT_FOUND: return "file not found";
    case FAT_ERR_NOT_DIR: return "a path component is not a directory";
    case FAT_ERR_IS_DIR: return "path names a directory, not a file";
    case FAT_ERR_LOOP: return "cluster chain loops";
    case FAT_ERR_CLUSTER_RANGE: return "cluster chain points outside the partition";
    case FAT_ERR_CHAIN_SHORT: return "cluster chain ends before the file size";
    case FAT_ERR_EOF: return "read beyond end of file";
    default: return "unknown error";
    }
}
