/*
 * test_fat.c - host unit tests for stage2/fat.c (read-only FAT12/16/32).
 *
 * Reads the images tests/host/mkfatimg.sh builds with mkfs.fat and mtools
 * (HOST_BUILD_DIR/fat/fat*.img) through a pread callback, and compares every
 * byte with the files they were filled from (HOST_BUILD_DIR/fat/src). The
 * damaged-image tests patch a copy of a good image; the FAT and directory
 * entries to patch are found with the small independent parser below, not
 * with the code under test.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fat.h"

#define FAT_DIR HOST_BUILD_DIR "/fat"
#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))
#define SECTOR 512u
#define RANDOM_READS 300
#define MAX_DIR_CLUSTERS 1000

/* ---- the disk: an image file read with pread ---- */

struct disk {
    int fd;
    uint64_t sectors;
    unsigned calls;        /* callback invocations */
    unsigned bulk_calls;   /* of which for more than one sector */
    bool fail;             /* make every read fail */
};

static int disk_read(void *ctx, uint64_t lba, uint32_t count, void *dst)
{
    struct disk *d = ctx;
    d->calls++;
    d->bulk_calls += count > 1;
    if (d->fail || lba + count > d->sectors)
        return -1;
    size_t bytes = (size_t)count * SECTOR;
    return pread(d->fd, dst, bytes, (off_t)(lba * SECTOR)) == (ssize_t)bytes ? 0 : -1;
}

static bool disk_open(struct disk *d, const char *path)
{
    struct stat st;
    memset(d, 0, sizeof(*d));
    d->fd = open(path, O_RDONLY);
    if (!CHECK(d->fd >= 0 && fstat(d->fd, &st) == 0,
               "cannot open %s (built by tests/host/mkfatimg.sh)", path))
        return false;
    d->sectors = (uint64_t)st.st_size / SECTOR;
    return true;
}

static void disk_close(struct disk *d)
{
    if (d->fd >= 0)
        close(d->fd);
}

/* Opens and mounts a whole-file image (partition at LBA 0). */
static bool mount_image(struct fat_volume *v, struct disk *d, const char *path)
{
    if (!disk_open(d, path))
        return false;
    int err = fat_mount(v, disk_read, d, 0, d->sectors);
    return CHECK(err == 0, "%s: mount: %s", path, fat_strerror(err));
}

/* The three good images and the type mkfs.fat was asked for. */
static const struct {
    const char *path;
    int type;
} images[] = {
    { FAT_DIR "/fat12.img", 12 },
    { FAT_DIR "/fat16.img", 16 },
    { FAT_DIR "/fat32.img", 32 },
};

enum { IMG12, IMG16, IMG32 };   /* indices into images[] */

/* ---- the host copy of a file ---- */

/* The host copy of an image's file (FAT_DIR/src + path). */
static uint8_t *src_load(const char *rel, uint32_t *len)
{
    char path[512];
    size_t size = 0;
    snprintf(path, sizeof(path), FAT_DIR "/src%s", rel);
    uint8_t *buf = check_read_file(path, &size);
    *len = (uint32_t)size;
    return buf;
}

/* Reads [off, off + len) of f and compares with want. */
static bool read_matches(struct fat_volume *v, struct fat_file *f, uint32_t off,
                         uint32_t len, const uint8_t *want, const char *what)
{
    uint8_t *got = malloc(len + 1);
    int err = fat_read(v, f, off, got, len);
    bool ok = CHECK(err == 0, "%s: read %u at %u: %s", what, len, off, fat_strerror(err)) &&
              CHECK(memcmp(got, want + off, len) == 0, "%s: bytes differ in [%u, %u)",
                    what, off, off + len);
    free(got);
    return ok;
}

/* Opens path on v and compares it with src/path: in one read, in odd
 * sequential pieces, and at random offsets and lengths. */
static void expect_same_as_src(struct fat_volume *v, const char *path,
                               const char *img)
{
    struct fat_file f;
    uint32_t len = 0;
    int err = fat_open(v, path, &f);
    if (!CHECK(err == 0, "%s: open %s: %s", img, path, fat_strerror(err)))
        return;
    uint8_t *want = src_load(path, &len);
    if (want == NULL || !CHECK_EQ(fat_file_size(&f), len)) {
        free(want);
        return;
    }
    bool ok = read_matches(v, &f, 0, len, want, img);
    for (uint32_t off = 0, step = 1; ok && off < len; off += step, step = step * 3 + 7) {
        uint32_t n = step < len - off ? step : len - off;
        ok = read_matches(v, &f, off, n, want, img);
    }
    for (int i = 0; ok && i < RANDOM_READS; i++) {
        uint32_t off = check_random(len + 1);
        ok = read_matches(v, &f, off, check_random(len - off + 1), want, img);
    }
    free(want);
}

/* Runs expect_same_as_src for path on every image. */
static void expect_same_on_all_images(const char *path)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        struct fat_volume v;
        struct disk d;
        if (mount_image(&v, &d, images[i].path))
            expect_same_as_src(&v, path, images[i].path);
        disk_close(&d);
    }
}

/* fat_open's result on every image must be want (0: success). */
static void expect_open_on_all_images(const char *path, int want)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        struct fat_volume v;
        struct disk d;
        struct fat_file f;
        if (mount_image(&v, &d, images[i].path)) {
            int got = fat_open(&v, path, &f);
            CHECK(got == want, "%s: open \"%s\": got %d (%s), want %d (%s)",
                  images[i].path, path, got, fat_strerror(got), want,
                  fat_strerror(want));
        }
        disk_close(&d);
    }
}

/* ---- an independent view of the on-disk format, to find and damage
 *      FAT entries (fatgen103 offsets) ---- */

struct image {
    uint8_t *bytes;
    size_t size;
    int type;
};

static uint32_t le16_at(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32_at(const uint8_t *p)
{
    return le16_at(p) | le16_at(p + 2) << 16;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static bool image_load(struct image *im, uint32_t index)
{
    im->type = images[index].type;
    im->bytes = check_read_file(images[index].path, &im->size);
    return im->bytes != NULL;
}

/* Byte offset of FAT copy k (boot sector fields at fatgen103 offsets). */
static size_t image_fat_offset(const struct image *im, uint32_t k)
{
    uint32_t fat_size = le16_at(im->bytes + 22) ? le16_at(im->bytes + 22)
                                                : le32_at(im->bytes + 36);
    return (le16_at(im->bytes + 14) + (size_t)k * fat_size) * SECTOR;
}

static uint32_t image_get_fat(const struct image *im, uint32_t cluster)
{
    const uint8_t *fat = im->bytes + image_fat_offset(im, 0);
    if (im->type == 16)
        return le16_at(fat + cluster * 2);
    if (im->type == 32)
        return le32_at(fat + cluster * 4) & 0x0FFFFFFF;
    uint32_t pair = le16_at(fat + cluster + cluster / 2);
    return cluster & 1 ? pair >> 4 : pair & 0xFFF;
}

/* Writes value into FAT copy k. */
static void image_set_fat_copy(struct image *im, uint32_t k, uint32_t cluster,
                               uint32_t value)
{
    uint8_t *fat = im->bytes + image_fat_offset(im, k);
    if (im->type == 16) {
        put16(fat + cluster * 2, value);
    } else if (im->type == 32) {
        put32(fat + cluster * 4, value);
    } else {
        uint8_t *p = fat + cluster + cluster / 2;
        uint32_t pair = le16_at(p);
        pair = cluster & 1 ? (pair & 0x000F) | value << 4
                           : (pair & 0xF000) | (value & 0xFFF);
        put16(p, pair);
    }
}

/* Writes value into every FAT copy. */
static void image_set_fat(struct image *im, uint32_t cluster, uint32_t value)
{
    for (uint32_t k = 0; k < im->bytes[16]; k++)
        image_set_fat_copy(im, k, cluster, value);
}

/* Last cluster of the chain from first, following at most limit links. */
static uint32_t image_chain_last(const struct image *im, uint32_t first,
                                 uint32_t limit)
{
    uint32_t c = first;
    static const uint32_t eoc[] = { [12 / 4] = 0xFF8, [16 / 4] = 0xFFF8,
                                    [32 / 4] = 0x0FFFFFF8 };
    for (uint32_t i = 0; i < limit && image_get_fat(im, c) < eoc[im->type / 4]; i++)
        c = image_get_fat(im, c);
    return c;
}

/* Byte offset of a cluster's first sector: after the reserved sectors,
 * the FATs and the fixed root directory. */
static size_t image_cluster_offset(const struct image *im, uint32_t cluster)
{
    size_t root = image_fat_offset(im, im->bytes[16]);
    size_t root_bytes = (le16_at(im->bytes + 17) * 32 + SECTOR - 1) / SECTOR * SECTOR;
    return root + root_bytes + (size_t)(cluster - 2) * im->bytes[13] * SECTOR;
}

/* Number of runs of consecutive clusters in a chain of count clusters. */
static uint32_t image_chain_runs(const struct image *im, uint32_t first,
                                 uint32_t count)
{
    uint32_t runs = 1;
    for (uint32_t c = first, k = 0; k + 1 < count; k++) {
        uint32_t next = image_get_fat(im, c);
        runs += next != c + 1;
        c = next;
    }
    return runs;
}

/* A copy of a good image being damaged: patched_load, change im.bytes,
 * patched_mount, test, patched_done. */
struct patched {
    struct image im;
    struct fat_volume v;
    struct disk d;
};

static bool patched_load(struct patched *p, uint32_t index)
{
    memset(p, 0, sizeof(*p));
    p->d.fd = -1;
    return image_load(&p->im, index);
}

/* Writes the bytes to FAT_DIR/damaged-<name>.img and mounts that; returns
 * fat_mount's result (1 if the file could not be written). */
static int patched_mount(struct patched *p, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), FAT_DIR "/damaged-%s.img", name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(p->im.bytes, 1, p->im.size, f) == p->im.size;
    if (f)
        fclose(f);
    if (!CHECK(ok, "cannot write %s", path) || !disk_open(&p->d, path))
        return 1;
    return fat_mount(&p->v, disk_read, &p->d, 0, p->d.sectors);
}

static void patched_done(struct patched *p)
{
    disk_close(&p->d);
    free(p->im.bytes);
}

/* Opens path on a good image to learn its first cluster and cluster count. */
static bool file_clusters(uint32_t index, const char *path, uint32_t *first,
                          uint32_t *count)
{
    struct fat_volume v;
    struct disk d;
    struct fat_file f;
    bool ok = mount_image(&v, &d, images[index].path) &&
              CHECK_EQ(fat_open(&v, path, &f), 0);
    if (ok) {
        *first = f.first_cluster;
        *count = f.clusters;
    }
    disk_close(&d);
    return ok;
}

/* ---- good images ---- */

static void test_mkfs_images_mount_with_the_type_their_cluster_count_gives(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        struct fat_volume v;
        struct disk d;
        if (mount_image(&v, &d, images[i].path))
            CHECK(fat_type(&v) == images[i].type, "%s: type %d, want %d",
                  images[i].path, fat_type(&v), images[i].type);
        disk_close(&d);
    }
}

static void test_file_in_root_reads_back(void)
{
    expect_same_on_all_images("/hello.txt");
}

static void test_kernel_in_subdirectory_reads_back(void)
{
    expect_same_on_all_images("/boot/kernel.elf");
}

static void test_long_file_name_with_spaces_is_found(void)
{
    expect_same_on_all_images("/boot/A Very Long Kernel Name.elf");
}

static void test_name_needing_six_long_entries_is_found(void)
{
    expect_same_on_all_images(
        "/boot/an extremely long file name that needs five or more long entries.bin");
}

static void test_multi_cluster_file_matches_every_byte(void)
{
    /* On FAT12 it spans clusters 341 and 682, whose entries straddle
     * FAT sectors. */
    expect_same_on_all_images("/big.bin");
}

static void test_fragmented_file_matches_every_byte(void)
{
    expect_same_on_all_images("/frag.bin");
}

static void test_file_after_deleted_entries_is_found(void)
{
    expect_same_on_all_images("/pad/p9");
    expect_open_on_all_images("/pad/p0", FAT_ERR_NOT_FOUND);
}

static void test_directory_spanning_several_clusters_is_searched_to_its_end(void)
{
    expect_same_on_all_images("/many/entry 00 with a long name.txt");
    expect_same_on_all_images("/many/entry 47 with a long name.txt");
}

static void test_lookup_ignores_case_in_long_and_short_names(void)
{
    expect_open_on_all_images("/BOOT/KERNEL.ELF", 0);
    expect_open_on_all_images("/Boot/a very long kernel NAME.ELF", 0);
    expect_open_on_all_images("/BIG.bin", 0);
}

static void test_long_name_filling_whole_entries_matches_only_its_length(void)
{
    expect_same_on_all_images("/boot/exactly-26-characters-long");
    expect_open_on_all_images("/boot/exactly-26-characters-longer", FAT_ERR_NOT_FOUND);
    expect_open_on_all_images("/boot/exactly-26-characters-lon", FAT_ERR_NOT_FOUND);
}

static void test_fat32_first_cluster_above_0xffff_uses_the_high_word(void)
{
    struct fat_volume v;
    struct disk d;
    struct fat_file f;
    if (mount_image(&v, &d, images[IMG32].path) &&
        CHECK_EQ(fat_open(&v, "/high.bin", &f), 0)) {
        CHECK(f.first_cluster > 0xFFFF, "high.bin starts at cluster %u",
              f.first_cluster);
        expect_same_as_src(&v, "/high.bin", images[IMG32].path);
    }
    disk_close(&d);
}

static void test_short_alias_of_a_long_name_is_found(void)
{
    expect_open_on_all_images("/boot/AVERYL~1.ELF", 0);
    expect_open_on_all_images("/boot/averyl~1.elf", 0);
}

static void test_dot_and_dotdot_components_resolve(void)
{
    expect_open_on_all_images("/boot/../hello.txt", 0);
    expect_open_on_all_images("/boot/./kernel.elf", 0);
    expect_open_on_all_images("//boot//kernel.elf", 0);
}

static void test_empty_file_has_size_zero_and_reads_nothing(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        struct fat_volume v;
        struct disk d;
        struct fat_file f;
        uint8_t byte;
        if (mount_image(&v, &d, images[i].path) &&
            CHECK_EQ(fat_open(&v, "/empty.txt", &f), 0)) {
            CHECK_EQ(fat_file_size(&f), 0);
            CHECK_EQ(fat_read(&v, &f, 0, &byte, 0), 0);
            CHECK_EQ(fat_read(&v, &f, 0, &byte, 1), FAT_ERR_EOF);
        }
        disk_close(&d);
    }
}

static void test_missing_file_is_not_found(void)
{
    expect_open_on_all_images("/nope.txt", FAT_ERR_NOT_FOUND);
    expect_open_on_all_images("/boot/kernel.el", FAT_ERR_NOT_FOUND);
    expect_open_on_all_images("/boot/kernel.elf2", FAT_ERR_NOT_FOUND);
    expect_open_on_all_images("/boot/A Very Long Kernel Name", FAT_ERR_NOT_FOUND);
    expect_open_on_all_images("/nodir/kernel.elf", FAT_ERR_NOT_FOUND);
    expect_open_on_all_images("/PAGELAB", FAT_ERR_NOT_FOUND);   /* volume label */
}

static void test_path_through_a_file_is_not_a_directory(void)
{
    expect_open_on_all_images("/hello.txt/kernel.elf", FAT_ERR_NOT_DIR);
    expect_open_on_all_images("/boot/kernel.elf/", FAT_ERR_NOT_DIR);
}

static void test_directory_as_target_is_refused(void)
{
    expect_open_on_all_images("/boot", FAT_ERR_IS_DIR);
    expect_open_on_all_images("/boot/", FAT_ERR_IS_DIR);
    expect_open_on_all_images("/", FAT_ERR_IS_DIR);
}

static void test_relative_or_overlong_path_is_refused(void)
{
    char name[300];
    memset(name, 'a', sizeof(name));
    name[0] = '/';
    name[sizeof(name) - 1] = '\0';
    expect_open_on_all_images("boot/kernel.elf", FAT_ERR_BAD_PATH);
    expect_open_on_all_images("", FAT_ERR_BAD_PATH);
    expect_open_on_all_images(name, FAT_ERR_BAD_PATH);
}

static void test_reading_past_end_of_file_is_refused(void)
{
    struct fat_volume v;
    struct disk d;
    struct fat_file f;
    uint8_t buf[64];
    if (mount_image(&v, &d, images[1].path) &&
        CHECK_EQ(fat_open(&v, "/hello.txt", &f), 0)) {
        uint32_t size = fat_file_size(&f);
        CHECK_EQ(fat_read(&v, &f, size, buf, 0), 0);
        CHECK_EQ(fat_read(&v, &f, size - 1, buf, 1), 0);
        CHECK_EQ(fat_read(&v, &f, size - 1, buf, 2), FAT_ERR_EOF);
        CHECK_EQ(fat_read(&v, &f, size + 1, buf, 0), FAT_ERR_EOF);
        CHECK_EQ(fat_read(&v, &f, 0, buf, size + 1), FAT_ERR_EOF);
        CHECK_EQ(fat_read(&v, &f, 10, buf, UINT32_MAX), FAT_ERR_EOF);
    }
    disk_close(&d);
}

/* Reads a whole file after open and counts multi-sector callbacks. */
static unsigned bulk_calls_for_whole_read(const char *img, const char *path)
{
    struct fat_volume v;
    struct disk d;
    struct fat_file f;
    unsigned calls = 0;
    if (mount_image(&v, &d, img) && CHECK_EQ(fat_open(&v, path, &f), 0)) {
        uint8_t *buf = malloc(fat_file_size(&f));
        d.bulk_calls = 0;
        CHECK_EQ(fat_read(&v, &f, 0, buf, fat_file_size(&f)), 0);
        calls = d.bulk_calls;
        free(buf);
    }
    disk_close(&d);
    return calls;
}

static void test_contiguous_runs_are_read_in_one_callback_each(void)
{
    static const char *const paths[] = { "/big.bin", "/frag.bin", "/boot/kernel.elf" };
    for (uint32_t i = 0; i < COUNT(images); i++) {
        for (uint32_t k = 0; k < COUNT(paths); k++) {
            struct image im = { NULL, 0, 0 };
            uint32_t first, count;
            if (file_clusters(i, paths[k], &first, &count) && image_load(&im, i)) {
                unsigned calls = bulk_calls_for_whole_read(images[i].path, paths[k]);
                uint32_t runs = image_chain_runs(&im, first, count);
                CHECK(calls == runs, "%s %s: %u multi-sector callbacks for %u runs",
                      images[i].path, paths[k], calls, runs);
            }
            free(im.bytes);
        }
    }
}

static void test_sequential_sector_reads_cost_one_callback_each_plus_the_fat(void)
{
    /* Reading sector by sector must follow the chain from the cursor:
     * one data callback per sector, and each FAT sector read about once
     * (a walk from the first cluster every time would reread them). */
    struct fat_volume v;
    struct disk d;
    struct fat_file f;
    uint8_t sector[SECTOR];
    if (mount_image(&v, &d, images[IMG32].path) &&
        CHECK_EQ(fat_open(&v, "/big.bin", &f), 0)) {
        uint32_t size = fat_file_size(&f), sectors = size / SECTOR;
        uint32_t fat_sectors = f.clusters * 4 / SECTOR + 2;
        d.calls = 0;
        for (uint32_t s = 0; s < sectors; s++)
            if (!CHECK_EQ(fat_read(&v, &f, s * SECTOR, sector, SECTOR), 0))
                break;
        CHECK(d.calls <= sectors + fat_sectors, "%u callbacks for %u sectors",
              d.calls, sectors);
    }
    disk_close(&d);
}

static void test_small_reads_in_one_sector_reuse_the_sector_buffer(void)
{
    struct fat_volume v;
    struct disk d;
    struct fat_file f;
    uint8_t byte;
    if (mount_image(&v, &d, images[IMG16].path) &&
        CHECK_EQ(fat_open(&v, "/hello.txt", &f), 0)) {
        d.calls = 0;
        for (uint32_t i = 0; i < fat_file_size(&f); i++)
            CHECK_EQ(fat_read(&v, &f, i, &byte, 1), 0);
        CHECK_EQ(d.calls, 1);
    }
    disk_close(&d);
}

static void test_volume_at_a_partition_offset_reads_back(void)
{
    struct fat_volume v;
    struct disk d;
    const uint64_t part_lba = 2048, part_sectors = 32 * 2048;
    if (disk_open(&d, FAT_DIR "/fat16-part.img")) {
        int err = fat_mount(&v, disk_read, &d, part_lba, part_sectors);
        if (CHECK(err == 0, "mount: %s", fat_strerror(err)))
            expect_same_as_src(&v, "/boot/kernel.elf", "fat16-part.img");
        CHECK_EQ(fat_mount(&v, disk_read, &d, part_lba, part_sectors - 1),
                 FAT_ERR_TOTAL_SECTORS);
        CHECK_EQ(fat_mount(&v, disk_read, &d, 0, d.sectors), FAT_ERR_SIGNATURE);
    }
    disk_close(&d);
}

static void test_callback_failure_is_an_io_error(void)
{
    struct fat_volume v;
    struct disk d;
    struct fat_file f;
    uint8_t buf[SECTOR];
    if (mount_image(&v, &d, images[0].path) &&
        CHECK_EQ(fat_open(&v, "/big.bin", &f), 0)) {
        d.fail = true;
        CHECK_EQ(fat_read(&v, &f, 100000, buf, sizeof(buf)), FAT_ERR_IO);
        CHECK_EQ(fat_open(&v, "/boot/kernel.elf", &f), FAT_ERR_IO);
        CHECK_EQ(fat_mount(&v, disk_read, &d, 0, d.sectors), FAT_ERR_IO);
    }
    disk_close(&d);
}

/* ---- damaged images ---- */

/* One damaged boot-sector field and the mount error it must give. */
struct boot_patch {
    uint32_t image;    /* IMG12, IMG16 or IMG32 */
    uint32_t offset;   /* fatgen103 field offset */
    uint32_t width;    /* bytes, little-endian */
    uint32_t value;
    int want;
};

static void expect_boot_patch(const void *arg)
{
    const struct boot_patch *b = arg;
    struct patched p;
    if (patched_load(&p, b->image)) {
        for (uint32_t i = 0; i < b->width; i++)
            p.im.bytes[b->offset + i] = (uint8_t)(b->value >> (8 * i));
        int got = patched_mount(&p, "boot-patch");
        CHECK(got == b->want, "got %d (%s), want %d (%s)", got, fat_strerror(got),
              b->want, fat_strerror(b->want));
    }
    patched_done(&p);
}

static const struct boot_patch
    patch_signature = { IMG16, 510, 1, 0x00, FAT_ERR_SIGNATURE },
    patch_signature_hi = { IMG32, 511, 1, 0x55, FAT_ERR_SIGNATURE },
    patch_bps_1024 = { IMG16, 11, 2, 1024, FAT_ERR_SECTOR_SIZE },      /* BytsPerSec */
    patch_spc_3 = { IMG16, 13, 1, 3, FAT_ERR_CLUSTER_SIZE },           /* SecPerClus */
    patch_spc_0 = { IMG12, 13, 1, 0, FAT_ERR_CLUSTER_SIZE },
    patch_rsvd_0 = { IMG16, 14, 2, 0, FAT_ERR_RESERVED },              /* RsvdSecCnt */
    patch_nfats_0 = { IMG16, 16, 1, 0, FAT_ERR_NUM_FATS },             /* NumFATs */
    patch_totsec_big = { IMG12, 19, 2, 0x4000, FAT_ERR_TOTAL_SECTORS },/* TotSec16 */
    patch_fatsz32_0 = { IMG32, 36, 4, 0, FAT_ERR_FAT_SIZE },           /* FATSz32 */
    /* a FAT of 1 sector (256 entries) cannot map ~16000 clusters */
    patch_fatsz16_1 = { IMG16, 22, 2, 1, FAT_ERR_CLUSTER_COUNT },      /* FATSz16 */
    patch_rootent_0 = { IMG16, 17, 2, 0, FAT_ERR_ROOT },               /* RootEntCnt */
    patch_fat32_rootent = { IMG32, 17, 2, 512, FAT_ERR_ROOT },
    patch_rootclus_0 = { IMG32, 44, 4, 0, FAT_ERR_ROOT };              /* RootClus */

static void test_fat_type_comes_from_cluster_count_only(void)
{
    /* 64 sectors per cluster leaves ~1000 clusters: FAT12, whatever the
     * BS_FilSysType label ("FAT16   ") and mkfs.fat said. */
    struct patched p;
    if (patched_load(&p, IMG16)) {
        p.im.bytes[13] = 64;
        if (CHECK_EQ(patched_mount(&p, "spc64"), 0))
            CHECK_EQ(fat_type(&p.v), 12);
    }
    patched_done(&p);
}

/* Lets patch() damage the chain of path in a copy of image index, and
 * expects fat_open(path) on the result to fail with want. */
static void expect_chain_patch_error(uint32_t index, const char *path,
                                     void (*patch)(struct image *, uint32_t, uint32_t),
                                     int want, const char *name)
{
    struct patched p;
    struct fat_file f;
    uint32_t first, count;
    if (patched_load(&p, index) && file_clusters(index, path, &first, &count)) {
        patch(&p.im, first, count);
        if (CHECK_EQ(patched_mount(&p, name), 0)) {
            int got = fat_open(&p.v, path, &f);
            CHECK(got == want, "%s (FAT%d): got %d (%s), want %d (%s)", name,
                  p.im.type, got, fat_strerror(got), want, fat_strerror(want));
        }
    }
    patched_done(&p);
}

/* End-of-chain and bad-cluster marks per FAT width (fatgen103). */
static uint32_t mark_eoc(const struct image *im)
{
    return im->type == 12 ? 0xFFF : im->type == 16 ? 0xFFFF : 0x0FFFFFFF;
}

static uint32_t mark_bad(const struct image *im)
{
    return mark_eoc(im) - 8;
}

static void patch_last_links_to_first(struct image *im, uint32_t first, uint32_t count)
{
    image_set_fat(im, image_chain_last(im, first, count), first);
}

static void patch_first_links_to_itself(struct image *im, uint32_t first, uint32_t count)
{
    (void)count;
    image_set_fat(im, first, first);
}

static void patch_first_links_past_cluster_count(struct image *im, uint32_t first,
                                                 uint32_t count)
{
    (void)count;
    image_set_fat(im, first, mark_eoc(im) - 0xF);   /* below the marks, past the end */
}

static void patch_first_is_bad_cluster(struct image *im, uint32_t first, uint32_t count)
{
    (void)count;
    image_set_fat(im, first, mark_bad(im));
}

static void patch_first_is_free(struct image *im, uint32_t first, uint32_t count)
{
    (void)count;
    image_set_fat(im, first, 0);
}

static void patch_first_ends_chain(struct image *im, uint32_t first, uint32_t count)
{
    (void)count;
    image_set_fat(im, first, mark_eoc(im));
}

static void test_chain_looping_back_is_a_loop_error(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        expect_chain_patch_error(i, "/big.bin", patch_last_links_to_first,
                                 FAT_ERR_LOOP, "loop-to-first");
        expect_chain_patch_error(i, "/frag.bin", patch_last_links_to_first,
                                 FAT_ERR_LOOP, "frag-loop");
        expect_chain_patch_error(i, "/boot/kernel.elf", patch_first_links_to_itself,
                                 FAT_ERR_LOOP, "self-loop");
    }
}

static void test_chain_pointing_outside_is_reported_as_outside(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        expect_chain_patch_error(i, "/big.bin", patch_first_links_past_cluster_count,
                                 FAT_ERR_CLUSTER_RANGE, "past-end");
        expect_chain_patch_error(i, "/big.bin", patch_first_is_bad_cluster,
                                 FAT_ERR_CLUSTER_RANGE, "bad-cluster");
        expect_chain_patch_error(i, "/big.bin", patch_first_is_free,
                                 FAT_ERR_CLUSTER_RANGE, "free-cluster");
    }
}

static void test_chain_ending_before_the_size_is_short(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++)
        expect_chain_patch_error(i, "/big.bin", patch_first_ends_chain,
                                 FAT_ERR_CHAIN_SHORT, "short");
}

/* The 32-byte entry with short name name11 in the first cluster of
 * directory `dir` (0: the fixed FAT12/16 root), or NULL. */
static uint8_t *image_dir_entry(const struct image *im, uint32_t dir,
                                const char *name11)
{
    const uint8_t *bs = im->bytes;
    uint8_t *e = im->bytes + (dir ? image_cluster_offset(im, dir)
                                  : image_fat_offset(im, bs[16]));
    uint32_t entries = dir ? bs[13] * SECTOR / 32 : le16_at(bs + 17);
    for (uint32_t i = 0; i < entries; i++, e += 32)
        if (memcmp(e, name11, 11) == 0)
            return e;
    return NULL;
}

/* First cluster of a FAT12/16 root directory entry, or 0. */
static uint32_t image_root_entry_cluster(const struct image *im, const char *name11)
{
    const uint8_t *e = image_dir_entry(im, 0, name11);
    return e ? le16_at(e + 26) : 0;
}

/* An entry of /boot (FAT12/16), or NULL. */
static uint8_t *image_boot_entry(const struct image *im, const char *name11)
{
    uint32_t boot = image_root_entry_cluster(im, "BOOT       ");
    return boot >= 2 ? image_dir_entry(im, boot, name11) : NULL;
}

static void test_directory_chain_loop_ends_the_lookup_with_a_loop_error(void)
{
    for (uint32_t i = IMG12; i <= IMG16; i++) {   /* fixed root directory */
        struct patched p;
        struct fat_file f;
        uint32_t first = 0;
        if (patched_load(&p, i))
            first = image_root_entry_cluster(&p.im, "MANY       ");
        if (CHECK(first >= 2, "no /many in %s", images[i].path)) {
            /* Free entries instead of the end mark, so the lookup must
             * follow the last cluster's link, which now loops. */
            uint32_t last = image_chain_last(&p.im, first, MAX_DIR_CLUSTERS);
            uint8_t *e = p.im.bytes + image_cluster_offset(&p.im, last);
            for (uint32_t k = 0; k < p.im.bytes[13] * SECTOR / 32; k++)
                if (e[k * 32] == 0x00)
                    e[k * 32] = 0xE5;
            image_set_fat(&p.im, last, first);
            if (CHECK_EQ(patched_mount(&p, "dirloop"), 0))
                CHECK_EQ(fat_open(&p.v, "/many/absent.txt", &f), FAT_ERR_LOOP);
        }
        patched_done(&p);
    }
}

static void test_long_name_whose_checksum_mismatches_is_ignored(void)
{
    /* Renaming the short entry breaks the long entries' checksum: the
     * long name must no longer be found, the new short name must. */
    struct patched p;
    struct fat_file f;
    uint8_t *e = patched_load(&p, IMG16) ? image_boot_entry(&p.im, "AVERYL~1ELF") : NULL;
    if (CHECK(e != NULL, "no AVERYL~1.ELF in /boot")) {
        e[7] = '2';
        if (CHECK_EQ(patched_mount(&p, "lfn-checksum"), 0)) {
            CHECK_EQ(fat_open(&p.v, "/boot/A Very Long Kernel Name.elf", &f),
                     FAT_ERR_NOT_FOUND);
            CHECK_EQ(fat_open(&p.v, "/boot/AVERYL~2.ELF", &f), 0);
            CHECK_EQ(fat_open(&p.v, "/boot/an extremely long file name that needs "
                              "five or more long entries.bin", &f), 0);
        }
    }
    patched_done(&p);
}

static void test_short_name_starting_with_0x05_stands_for_0xe5(void)
{
    struct patched p;
    struct fat_file f;
    uint8_t *e = patched_load(&p, IMG16) ? image_boot_entry(&p.im, "KERNEL  ELF") : NULL;
    if (CHECK(e != NULL, "no KERNEL.ELF in /boot")) {
        e[0] = 0x05;   /* fatgen103: DIR_Name[0] == 0x05 means 0xE5 */
        if (CHECK_EQ(patched_mount(&p, "kanji"), 0))
            CHECK_EQ(fat_open(&p.v, "/boot/\xE5" "ERNEL.ELF", &f), 0);
    }
    patched_done(&p);
}

/* Sets FAT32 BPB_ExtFlags of a copy of fat32.img, breaks big.bin's chain
 * in FAT copy `broken`, and returns fat_open's result for /big.bin. */
static int open_with_ext_flags(uint32_t ext_flags, uint32_t broken, const char *name)
{
    struct patched p;
    struct fat_file f;
    uint32_t first, count;
    int result = 1;
    if (patched_load(&p, IMG32) && file_clusters(IMG32, "/big.bin", &first, &count)) {
        put16(p.im.bytes + 40, ext_flags);
        image_set_fat_copy(&p.im, broken, first, first);
        result = patched_mount(&p, name);
        if (result == 0)
            result = fat_open(&p.v, "/big.bin", &f);
    }
    patched_done(&p);
    return result;
}

static void test_fat32_reads_the_active_fat_when_mirroring_is_off(void)
{
    /* BPB_ExtFlags bit 7: only the FAT numbered in bits 0-3 is in use. */
    CHECK_EQ(open_with_ext_flags(0x81, 0, "active-fat1"), 0);
    CHECK_EQ(open_with_ext_flags(0x80, 1, "active-fat0"), 0);
    CHECK_EQ(open_with_ext_flags(0x00, 0, "mirrored"), FAT_ERR_LOOP);
    CHECK_EQ(open_with_ext_flags(0x82, 0, "active-fat2"), FAT_ERR_NUM_FATS);
}

static void test_fat32_ignores_the_top_four_bits_of_entries(void)
{
    struct patched p;
    uint32_t first, count;
    if (patched_load(&p, IMG32) && file_clusters(IMG32, "/big.bin", &first, &count)) {
        for (uint32_t c = first, k = 0; k + 1 < count; k++, c = image_get_fat(&p.im, c))
            image_set_fat(&p.im, c, image_get_fat(&p.im, c) | 0xF0000000);
        if (CHECK_EQ(patched_mount(&p, "fat32-top-bits"), 0))
            expect_same_as_src(&p.v, "/big.bin", "fat32-top-bits");
    }
    patched_done(&p);
}

static void test_every_error_has_its_own_message(void)
{
    check_distinct_messages(fat_strerror, FAT_ERR_EOF, FAT_ERR_IO, "unknown error");
    CHECK(strcmp(fat_strerror(FAT_ERR_SECTOR_SIZE),
                 "only 512-byte sectors supported") == 0, "sector size message");
    CHECK(strcmp(fat_strerror(FAT_ERR_CLUSTER_RANGE),
                 "cluster chain points outside the partition") == 0, "range message");
}

/* ---- boundaries ---- */

/* Whether FAT copy 0 of im has an entry for cluster c (fatgen103: the FAT
 * is whole sectors, usually with room past the last cluster's entry). */
static bool image_fat_has_entry(const struct image *im, uint32_t c)
{
    uint32_t fat_size = le16_at(im->bytes + 22) ? le16_at(im->bytes + 22)
                                                : le32_at(im->bytes + 36);
    uint64_t end = im->type == 12 ? c + c / 2 + 2 : (uint64_t)(c + 1) * (im->type / 8);
    return end <= (uint64_t)fat_size * SECTOR;
}

/* /big.bin's first cluster links to `target`, whose FAT entry continues
 * the chain where the first cluster's did: only the range check on the
 * link itself can stop the walk. Returns fat_open's result, or 1 when the
 * image's FAT has no entry for target. */
static int open_with_first_link_to(uint32_t index, uint32_t past_last, const char *name)
{
    struct patched p;
    struct fat_file f;
    struct fat_volume good;
    struct disk d;
    uint32_t first, count;
    int result = 1;
    bool known = mount_image(&good, &d, images[index].path);
    disk_close(&d);
    if (known && patched_load(&p, index) && file_clusters(index, "/big.bin", &first, &count)) {
        /* valid cluster numbers: 2 .. cluster_count + 1 */
        uint32_t target = good.cluster_count + 1 + past_last;
        if (image_fat_has_entry(&p.im, target)) {
            image_set_fat(&p.im, target, image_get_fat(&p.im, first));
            image_set_fat(&p.im, first, target);
            result = patched_mount(&p, name);
            if (result == 0)
                result = fat_open(&p.v, "/big.bin", &f);
        }
    }
    patched_done(&p);
    return result;
}

/* A link to cluster_count + 1 (the last cluster) is followed; one to
 * cluster_count + 2 is outside the partition. */
static void test_a_link_to_cluster_count_plus_2_is_outside_and_plus_1_is_not(void)
{
    unsigned tried = 0;
    for (uint32_t i = 0; i < COUNT(images); i++) {
        int last = open_with_first_link_to(i, 0, "link-last");
        int past = open_with_first_link_to(i, 1, "link-past");
        if (last == 1 || past == 1)
            continue;                  /* no FAT entry there to make the test bite */
        tried++;
        CHECK(last == 0, "FAT%d: link to the last cluster: %d (%s)", images[i].type, last,
              fat_strerror(last));
        CHECK(past == FAT_ERR_CLUSTER_RANGE, "FAT%d: link past it: %d (%s)", images[i].type,
              past, fat_strerror(past));
    }
    CHECK(tried >= 2, "only %u images have FAT room past the last cluster", tried);
}

static uint32_t loop_target_index;   /* chain index the last cluster links back to */

static void patch_last_links_to_index(struct image *im, uint32_t first, uint32_t count)
{
    image_set_fat(im, image_chain_last(im, first, count),
                  image_chain_last(im, first, loop_target_index));
}

/* A loop that does not come back to the first cluster: the last cluster
 * links to the second one, to the middle of the chain, or to itself. */
static void test_chain_looping_into_its_middle_is_a_loop_error(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        uint32_t first, count;
        if (!file_clusters(i, "/big.bin", &first, &count))
            continue;
        const uint32_t targets[] = { 1, count / 2, count - 1 };
        for (uint32_t t = 0; t < COUNT(targets); t++) {
            loop_target_index = targets[t];
            expect_chain_patch_error(i, "/big.bin", patch_last_links_to_index, FAT_ERR_LOOP,
                                     "loop-to-middle");
        }
    }
}

/* A one-character base name stored as 0x05 (fatgen103: it stands for
 * 0xE5, which would mark the entry free) is found under 0xE5, with and
 * without an extension, as is a two-character one; the raw 0x05 is not
 * its name. */
static void test_one_character_name_stored_as_0x05_is_found_as_0xe5(void)
{
    static const struct { const char *stored, *path; int want; } cases[] = {
        { "\x05       ELF", "/boot/\xE5.ELF", 0 },
        { "\x05          ", "/boot/\xE5", 0 },
        { "\x05K      ELF", "/boot/\xE5K.ELF", 0 },
        { "\x05       ELF", "/boot/\x05.ELF", FAT_ERR_NOT_FOUND },
    };
    for (uint32_t i = 0; i < COUNT(cases); i++) {
        struct patched p;
        struct fat_file f;
        uint8_t *e = patched_load(&p, IMG16) ? image_boot_entry(&p.im, "KERNEL  ELF") : NULL;
        if (CHECK(e != NULL, "no KERNEL.ELF in /boot")) {
            memcpy(e, cases[i].stored, 11);
            if (CHECK_EQ(patched_mount(&p, "kanji-short"), 0)) {
                int got = fat_open(&p.v, cases[i].path, &f);
                CHECK(got == cases[i].want, "case %u: got %d (%s), want %d", i, got,
                      fat_strerror(got), cases[i].want);
            }
        }
        patched_done(&p);
    }
}

static void test_fat_strerror_outside_its_codes_is_unknown(void)
{
    check_unknown_outside(fat_strerror, FAT_ERR_EOF, FAT_ERR_IO, "unknown error");
}


/* ---- directory listings (fat_list_open, fat_list_next) ---- */

#define LIST_MAX 64
#define NAME255 "long255-" ZEROS239 "-end-255"
#define NAME254 "long254-" ZEROS238 "-end-254"
#define ZEROS10 "0000000000"
#define ZEROS238 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 \
                 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 \
                 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 "00000000"
#define ZEROS239 ZEROS238 "0"

/* Lists path on v into names (up to LIST_MAX); returns the count, or the
 * error fat_list_open or fat_list_next gave. */
static int list_dir(struct fat_volume *v, const char *path, struct fat_dirent *out)
{
    struct fat_list l;
    int err = fat_list_open(v, path, &l), n = 0, r;
    if (err < 0)
        return err;
    while (n < LIST_MAX && (r = fat_list_next(v, &l, &out[n])) == 1)
        n++;
    return n == LIST_MAX ? n : r < 0 ? r : n;
}

/* Lists path on image i and compares the names, in order, with want[]. */
static void expect_listing(uint32_t i, const char *path, const char *const *want,
                           uint32_t count)
{
    struct fat_volume v;
    struct disk d;
    static struct fat_dirent got[LIST_MAX];
    if (mount_image(&v, &d, images[i].path)) {
        int n = list_dir(&v, path, got);
        if (CHECK(n == (int)count, "%s: %s: %d entries, want %u", images[i].path, path, n,
                  count))
            for (uint32_t k = 0; k < count; k++)
                CHECK(strcmp(got[k].name, want[k]) == 0 &&
                      got[k].name_len == strlen(want[k]), "%s: %s: entry %u is \"%s\" (%u), "
                      "want \"%s\"", images[i].path, path, k, got[k].name, got[k].name_len,
                      want[k]);
    }
    disk_close(&d);
}

static void test_listing_an_empty_directory_gives_nothing(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++)
        expect_listing(i, "/empty", NULL, 0);
}

static void test_listing_skips_deleted_entries_subdirectories_and_dot_entries(void)
{
    static const char *const fat1216[] = { "hello", "UPPER.TXT", "Mixed Case.txt",
                                           NAME255, NAME254, "last.bin" };
    static const char *const fat32[] = { "hello", "UPPER.TXT", "Mixed Case.txt", "last.bin" };
    expect_listing(IMG12, "/list", fat1216, COUNT(fat1216));
    expect_listing(IMG16, "/list", fat1216, COUNT(fat1216));
    expect_listing(IMG32, "/list/", fat32, COUNT(fat32));
}

static void test_listing_the_root_skips_the_volume_label(void)
{
    static const char *const want[] = { "hello.txt", "empty.txt", "big.bin", "frag.bin" };
    static const char *const want32[] = { "hello.txt", "empty.txt", "big.bin", "frag.bin",
                                          "filler.bin", "high.bin" };
    expect_listing(IMG12, "/", want, COUNT(want));
    expect_listing(IMG16, "//", want, COUNT(want));
    expect_listing(IMG32, "/", want32, COUNT(want32));
}

static void test_listing_a_directory_of_several_clusters_gives_every_entry_in_order(void)
{
    static char names[48][40];
    static const char *want[48];
    for (uint32_t k = 0; k < 48; k++) {
        snprintf(names[k], sizeof(names[k]), "entry %02u with a long name.txt", k);
        want[k] = names[k];
    }
    for (uint32_t i = 0; i < COUNT(images); i++)
        expect_listing(i, "/many", want, 48);
}

static void test_listed_files_open_and_read_back_while_the_listing_goes_on(void)
{
    /* fat_read takes v->buf between two fat_list_next calls */
    for (uint32_t i = 0; i < COUNT(images); i++) {
        struct fat_volume v;
        struct disk d;
        struct fat_list l;
        struct fat_dirent e;
        uint32_t files = 0;
        if (!mount_image(&v, &d, images[i].path) || !CHECK_EQ(fat_list_open(&v, "/list", &l), 0)) {
            disk_close(&d);
            continue;
        }
        while (fat_list_next(&v, &l, &e) == 1) {
            struct fat_file f;
            char rel[300];
            uint32_t len = 0;
            snprintf(rel, sizeof(rel), "/list/%s", e.name);
            uint8_t *want = src_load(rel, &len);
            if (want && CHECK_EQ(fat_open_dirent(&v, &e, &f), 0) && CHECK_EQ(e.size, len))
                read_matches(&v, &f, 0, len, want, rel);
            free(want);
            files++;
        }
        CHECK(files >= 4, "%s: %u files listed", images[i].path, files);
        disk_close(&d);
    }
}

static void test_listing_a_file_or_a_missing_directory_is_refused(void)
{
    for (uint32_t i = 0; i < COUNT(images); i++) {
        struct fat_volume v;
        struct disk d;
        struct fat_list l;
        if (mount_image(&v, &d, images[i].path)) {
            CHECK_EQ(fat_list_open(&v, "/hello.txt", &l), FAT_ERR_NOT_DIR);
            CHECK_EQ(fat_list_open(&v, "/bin", &l), FAT_ERR_NOT_FOUND);
            CHECK_EQ(fat_list_open(&v, "/boot/kernel.elf/", &l), FAT_ERR_NOT_DIR);
            CHECK_EQ(fat_list_open(&v, "list", &l), FAT_ERR_BAD_PATH);
        }
        disk_close(&d);
    }
}

/* The offset in im of the last long entry (ordinal 20|0x40) whose first
 * five characters are tail[0..5): the one holding the 255-character
 * name's final 8 characters and its terminator. 0 when there is none. */
static size_t image_find_last_lfn(const struct image *im, const char *tail)
{
    static const uint8_t first5[] = { 1, 3, 5, 7, 9 };
    for (size_t off = 0; off + 32 <= im->size; off += 32) {
        const uint8_t *e = im->bytes + off;
        bool same = e[0] == (0x40 | 20) && e[11] == 0x0F;
        for (uint32_t k = 0; same && k < 5; k++)
            same = le16_at(e + first5[k]) == (uint8_t)tail[k];
        if (same)
            return off;
    }
    return 0;
}

static void test_a_long_name_of_256_characters_is_invalid_and_gives_the_short_name(void)
{
    /* 255 characters is the limit (listed whole by the listing test);
     * one more, made by overwriting the terminator of a 255-character
     * name with a character, is not a long name: the 8.3 alias is given */
    for (uint32_t i = IMG12; i <= IMG16; i++) {
        struct patched p;
        static struct fat_dirent got[LIST_MAX];
        if (!patched_load(&p, i))
            continue;
        size_t off = image_find_last_lfn(&p.im, "-end-");
        if (CHECK(off != 0, "%s: no long entry of " NAME255, images[i].path)) {
            CHECK_EQ(le16_at(p.im.bytes + off + 20), 0);   /* character 9: the terminator */
            put16(p.im.bytes + off + 20, 'X');
            if (CHECK_EQ(patched_mount(&p, i == IMG12 ? "lfn256-12" : "lfn256-16"), 0)) {
                int n = list_dir(&p.v, "/list", got);
                CHECK(n == 6 && strcmp(got[3].name, "LONG25~1") == 0 &&
                      strcmp(got[4].name, NAME254) == 0, "%s: %d entries, the fourth \"%s\"",
                      images[i].path, n, n > 3 ? got[3].name : "");
            }
        }
        patched_done(&p);
    }
}

static void test_lowercase_8_3_names_come_back_lowercase(void)
{
    /* mtools stores "hello" as HELLO with DIR_NTRes bit 3 (no long name) */
    static const char *const want[] = { "hello" };
    for (uint32_t i = 0; i < COUNT(images); i++) {
        struct fat_volume v;
        struct disk d;
        static struct fat_dirent got[LIST_MAX];
        if (mount_image(&v, &d, images[i].path) && list_dir(&v, "/list", got) > 0)
            CHECK(strcmp(got[0].name, want[0]) == 0, "%s: \"%s\"", images[i].path,
                  got[0].name);
        disk_close(&d);
    }
}

static const struct check_test tests[] = {
    CHECK_TEST(test_mkfs_images_mount_with_the_type_their_cluster_count_gives),
    CHECK_TEST(test_file_in_root_reads_back),
    CHECK_TEST(test_kernel_in_subdirectory_reads_back),
    CHECK_TEST(test_long_file_name_with_spaces_is_found),
    CHECK_TEST(test_name_needing_six_long_entries_is_found),
    CHECK_TEST(test_multi_cluster_file_matches_every_byte),
    CHECK_TEST(test_fragmented_file_matches_every_byte),
    CHECK_TEST(test_file_after_deleted_entries_is_found),
    CHECK_TEST(test_directory_spanning_several_clusters_is_searched_to_its_end),
    CHECK_TEST(test_lookup_ignores_case_in_long_and_short_names),
    CHECK_TEST(test_long_name_filling_whole_entries_matches_only_its_length),
    CHECK_TEST(test_fat32_first_cluster_above_0xffff_uses_the_high_word),
    CHECK_TEST(test_short_alias_of_a_long_name_is_found),
    CHECK_TEST(test_dot_and_dotdot_components_resolve),
    CHECK_TEST(test_empty_file_has_size_zero_and_reads_nothing),
    CHECK_TEST(test_missing_file_is_not_found),
    CHECK_TEST(test_path_through_a_file_is_not_a_directory),
    CHECK_TEST(test_directory_as_target_is_refused),
    CHECK_TEST(test_relative_or_overlong_path_is_refused),
    CHECK_TEST(test_reading_past_end_of_file_is_refused),
    CHECK_TEST(test_contiguous_runs_are_read_in_one_callback_each),
    CHECK_TEST(test_sequential_sector_reads_cost_one_callback_each_plus_the_fat),
    CHECK_TEST(test_small_reads_in_one_sector_reuse_the_sector_buffer),
    CHECK_TEST(test_volume_at_a_partition_offset_reads_back),
    CHECK_TEST(test_callback_failure_is_an_io_error),
    CHECK_CASE("missing_0x55aa_signature_is_refused", expect_boot_patch, &patch_signature),
    CHECK_CASE("half_a_signature_is_refused", expect_boot_patch, &patch_signature_hi),
    CHECK_CASE("1024_byte_sectors_are_refused", expect_boot_patch, &patch_bps_1024),
    CHECK_CASE("three_sectors_per_cluster_is_refused", expect_boot_patch, &patch_spc_3),
    CHECK_CASE("zero_sectors_per_cluster_is_refused", expect_boot_patch, &patch_spc_0),
    CHECK_CASE("zero_reserved_sectors_is_refused", expect_boot_patch, &patch_rsvd_0),
    CHECK_CASE("zero_fats_is_refused", expect_boot_patch, &patch_nfats_0),
    CHECK_CASE("volume_larger_than_the_partition_is_refused", expect_boot_patch,
               &patch_totsec_big),
    CHECK_CASE("fat_size_zero_is_refused", expect_boot_patch, &patch_fatsz32_0),
    CHECK_CASE("fat_too_small_for_the_cluster_count_is_refused", expect_boot_patch,
               &patch_fatsz16_1),
    CHECK_CASE("fat16_without_root_entries_is_refused", expect_boot_patch,
               &patch_rootent_0),
    CHECK_CASE("fat32_with_fixed_root_entries_is_refused", expect_boot_patch,
               &patch_fat32_rootent),
    CHECK_CASE("fat32_root_cluster_zero_is_refused", expect_boot_patch, &patch_rootclus_0),
    CHECK_TEST(test_fat_type_comes_from_cluster_count_only),
    CHECK_TEST(test_chain_looping_back_is_a_loop_error),
    CHECK_TEST(test_chain_pointing_outside_is_reported_as_outside),
    CHECK_TEST(test_chain_ending_before_the_size_is_short),
    CHECK_TEST(test_directory_chain_loop_ends_the_lookup_with_a_loop_error),
    CHECK_TEST(test_long_name_whose_checksum_mismatches_is_ignored),
    CHECK_TEST(test_short_name_starting_with_0x05_stands_for_0xe5),
    CHECK_TEST(test_fat32_reads_the_active_fat_when_mirroring_is_off),
    CHECK_TEST(test_fat32_ignores_the_top_four_bits_of_entries),
    CHECK_TEST(test_every_error_has_its_own_message),
    CHECK_TEST(test_a_link_to_cluster_count_plus_2_is_outside_and_plus_1_is_not),
    CHECK_TEST(test_chain_looping_into_its_middle_is_a_loop_error),
    CHECK_TEST(test_one_character_name_stored_as_0x05_is_found_as_0xe5),
    CHECK_TEST(test_fat_strerror_outside_its_codes_is_unknown),
    CHECK_TEST(test_listing_an_empty_directory_gives_nothing),
    CHECK_TEST(test_listing_skips_deleted_entries_subdirectories_and_dot_entries),
    CHECK_TEST(test_listing_the_root_skips_the_volume_label),
    CHECK_TEST(test_listing_a_directory_of_several_clusters_gives_every_entry_in_order),
    CHECK_TEST(test_listed_files_open_and_read_back_while_the_listing_goes_on),
    CHECK_TEST(test_listing_a_file_or_a_missing_directory_is_refused),
    CHECK_TEST(test_a_long_name_of_256_characters_is_invalid_and_gives_the_short_name),
    CHECK_TEST(test_lowercase_8_3_names_come_back_lowercase),
};

int main(void)
{
    return check_main("fat", tests, CHECK_COUNT(tests));
}
