#!/bin/sh
# mkfatimg.sh OUTDIR - build the FAT images test_fat reads, without root:
# mkfs.fat makes the file system in a plain file, mtools fills it.
#
# OUTDIR/src/      the files, as the host sees them (test_fat compares every
#                  byte it reads from an image with these)
# OUTDIR/fat12.img 4 MiB,  FAT12, 4 sectors per cluster (2036 clusters, so
#                  a 1.5 MiB file crosses the FAT12 entries that straddle
#                  FAT sectors: 341, 682, ...)
# OUTDIR/fat16.img 32 MiB, FAT16, 4 sectors per cluster
# OUTDIR/fat32.img 64 MiB, FAT32, 1 sector per cluster (directories and
#                  files span many clusters)
# OUTDIR/fat16-part.img  FAT16 starting 1 MiB into the file, like a
#                  partition: test_fat mounts it at LBA 2048
#
# /empty is an empty directory and /list a directory test_fat lists: files
# with an 8.3 lowercase name, an upper-case one, a long one, names of 254
# and 255 characters (the limit; not on fat32.img, see fill), a subdirectory and a deleted file among
# them.
# Each image holds the same tree, including a file made fragmented on
# purpose (checked here with mshowfat); fat32.img also holds high.bin,
# placed after a 34 MiB filler so that its first cluster is above 0xFFFF. Content is random: regenerating the
# images regenerates src/ with them.
set -eu

out=$1
src=$out/src
# The images have no real disk geometry; mtools must not insist on one.
export MTOOLS_SKIP_CHECK=1

LONG5="an extremely long file name that needs five or more long entries.bin"
EXACT26="exactly-26-characters-long"   # fills two long entries, no terminator
FILLER_MIB=34        # FAT32 only: pushes high.bin past cluster 65535
MANY_FILES=48        # x 3 directory entries each: several sectors/clusters
PAD_FILES=10
PAD_BYTES=8192
PART_OFFSET_SECTORS=2048
# 255 and 254 characters: the last long entry holds their final 8 and 7
NAME255="long255-$(printf '%0239d' 0)-end-255"
NAME254="long254-$(printf '%0238d' 0)-end-254"

make_content() {
    rm -rf "$out"
    mkdir -p "$src/boot" "$src/many" "$src/pad" "$src/list/sub"
    printf 'hello from the root directory\n' > "$src/hello.txt"
    : > "$src/empty.txt"
    head -c 102407 /dev/urandom > "$src/boot/kernel.elf"
    head -c 5000 /dev/urandom > "$src/boot/A Very Long Kernel Name.elf"
    head -c 3000 /dev/urandom > "$src/boot/$LONG5"
    head -c 700 /dev/urandom > "$src/boot/$EXACT26"
    head -c $((FILLER_MIB * 1024 * 1024)) /dev/zero > "$src/filler.bin"
    head -c 5000 /dev/urandom > "$src/high.bin"
    head -c 1573197 /dev/urandom > "$src/big.bin"      # 1.5 MiB + 333
    head -c 60000 /dev/urandom > "$src/frag.bin"
    printf 'lower\n' > "$src/list/hello"
    printf 'upper\n' > "$src/list/UPPER.TXT"
    printf 'gone\n' > "$src/list/gone.txt"
    printf 'mixed\n' > "$src/list/Mixed Case.txt"
    printf '255\n' > "$src/list/$NAME255"
    printf '254\n' > "$src/list/$NAME254"
    printf 'in a subdirectory\n' > "$src/list/sub/inner.txt"
    head -c 1234 /dev/urandom > "$src/list/last.bin"
    i=0
    while [ $i -lt $MANY_FILES ]; do
        printf 'entry %02d\n' $i > "$src/many/entry $(printf %02d $i) with a long name.txt"
        i=$((i + 1))
    done
    i=0
    while [ $i -lt $PAD_FILES ]; do
        head -c $PAD_BYTES /dev/urandom > "$src/pad/p$i"
        i=$((i + 1))
    done
}

# forget_next_free IMAGE: on FAT32, mtools allocates after FSInfo's
# FSI_Nxt_Free hint (fatgen103, "FAT32 FSInfo Sector Structure") and would
# never reuse the holes; point the hint back at cluster 2.
forget_next_free() {
    fsinfo=$(od -An -tu2 -j 48 -N 2 "$1" | tr -d ' ')   # BPB_FSInfo
    printf '\002\000\000\000' |
        dd of="$1" bs=1 seek=$((fsinfo * 512 + 492)) conv=notrunc 2>/dev/null
}

# fill IMAGE_SPEC FAT_BITS: copy the tree in; pad files are written, the
# even ones deleted, then frag.bin is written into the holes they leave.
fill() {
    img=$1
    mmd -i "$img" ::/boot ::/many ::/pad
    mcopy -i "$img" "$src/hello.txt" "$src/empty.txt" "$src/big.bin" ::/
    mcopy -i "$img" "$src/boot/kernel.elf" "$src/boot/A Very Long Kernel Name.elf" \
        "$src/boot/$LONG5" "$src/boot/$EXACT26" ::/boot/
    for f in "$src"/many/*; do
        mcopy -i "$img" "$f" ::/many/
    done
    i=0
    while [ $i -lt $PAD_FILES ]; do
        mcopy -i "$img" "$src/pad/p$i" ::/pad/
        i=$((i + 1))
    done
    i=0
    while [ $i -lt $PAD_FILES ]; do
        mdel -i "$img" ::/pad/p$i
        i=$((i + 2))
    done
    if [ "$2" = 32 ]; then
        forget_next_free "$img"
    fi
    mcopy -i "$img" "$src/frag.bin" ::/
    runs=$(mshowfat -i "$img" ::/frag.bin | grep -o '<' | wc -l)
    if [ "$runs" -lt 2 ]; then
        echo "mkfatimg.sh: frag.bin in $img is not fragmented" >&2
        exit 1
    fi
    # after frag.bin, so that the clusters before it stay as they were
    mmd -i "$img" ::/empty ::/list
    # in this order (the listing's), gone.txt deleted below, sub/ among them
    mcopy -i "$img" "$src/list/hello" "$src/list/UPPER.TXT" "$src/list/gone.txt" ::/list/
    mmd -i "$img" ::/list/sub
    mcopy -i "$img" "$src/list/sub/inner.txt" ::/list/sub/
    mcopy -i "$img" "$src/list/Mixed Case.txt" ::/list/
    # 21 entries each: more than a 512-byte cluster, which mtools cannot
    # write (No directory slots), so not on fat32.img
    if [ "$2" != 32 ]; then
        mcopy -i "$img" "$src/list/$NAME255" "$src/list/$NAME254" ::/list/
    fi
    mcopy -i "$img" "$src/list/last.bin" ::/list/
    mdel -i "$img" ::/list/gone.txt
}

# image NAME FAT_BITS SIZE_MIB SECTORS_PER_CLUSTER
image() {
    img=$out/$1
    mkfs.fat -C -F "$2" -S 512 -s "$4" -n PAGELAB "$img" $(($3 * 1024)) >/dev/null
    fill "$img" "$2"
    if [ "$2" = 32 ]; then
        # a first cluster above 0xFFFF needs DIR_FstClusHI
        mcopy -i "$img" "$src/filler.bin" "$src/high.bin" ::/
    fi
    fsck.fat -n "$img" >/dev/null
}

# A FAT16 volume 1 MiB into the file, as a partition would be.
part_image() {
    img=$out/fat16-part.img
    truncate -s $((32 * 1024 * 1024 + PART_OFFSET_SECTORS * 512)) "$img"
    mkfs.fat -F 16 -S 512 -s 4 --offset $PART_OFFSET_SECTORS "$img" $((32 * 1024)) >/dev/null
    fill "$img@@$((PART_OFFSET_SECTORS * 512))" 16
}

make_content
image fat12.img 12 4 4
image fat16.img 16 32 4
image fat32.img 32 64 1
part_image
