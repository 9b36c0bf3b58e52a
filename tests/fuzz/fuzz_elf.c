/*
 * fuzz_elf.c - libFuzzer harness for common/elf.c (the kernel ELF checks),
 * built by tests/fuzz/fuzz.mk with ASan and UBSan.
 *
 * Input: a whole kernel file. The harness does what stage2/load.c does -
 * elf_check_header on the first 64 bytes, the program headers read from
 * the file, elf_collect_segments with the loader's memory below 1 MiB
 * forbidden, elf_check_entry - and when the file is accepted checks that
 * every promise stage2 relies on holds: each segment's bytes inside the
 * file, filesz <= memsz, no wrap-around, vaddr congruent to paddr, virtual
 * pages canonical, no two segments sharing a page (physical or virtual),
 * nothing below 1 MiB, the entry inside an executable segment.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "elf.h"
#include "layout.h"

#define HEADER_READ 64
#define MAX_PHDRS 64          /* stage2/load.c */
#define MAX_SEGMENTS 16
#define PAGE ((uint64_t)PAGE_SIZE)

typedef unsigned __int128 u128;

static void fail(const char *why)
{
    (void)why;
    __builtin_trap();
}

static u128 page_start(uint64_t a) { return a & ~(PAGE - 1); }
static u128 page_end(uint64_t a, uint64_t size)
{
    return ((u128)a + size + PAGE - 1) & ~(u128)(PAGE - 1);
}

static bool canonical(u128 a)
{
    uint64_t top = (uint64_t)(a >> 47);
    return top == 0 || top == 0x1FFFF;
}

static bool overlap(u128 a0, u128 a1, u128 b0, u128 b1)
{
    return a0 < b1 && b0 < a1;
}

static void check_segment(const struct elf_segment *s, uint64_t file_size)
{
    if (s->memsz == 0 || s->filesz > s->memsz)
        fail("empty segment or filesz > memsz");
    if ((u128)s->offset + s->filesz > file_size)
        fail("segment bytes outside the file");
    if (page_end(s->paddr, s->memsz) > ((u128)1 << 64) - PAGE ||
        page_end(s->vaddr, s->memsz) > ((u128)1 << 64) - PAGE)
        fail("segment wraps");
    if ((s->vaddr ^ s->paddr) & (PAGE - 1))
        fail("vaddr and paddr not congruent");
    if (!canonical(page_start(s->vaddr)) || !canonical(page_end(s->vaddr, s->memsz) - 1) ||
        (page_start(s->vaddr) >> 47) != ((page_end(s->vaddr, s->memsz) - 1) >> 47))
        fail("virtual pages not canonical");
    if (page_start(s->paddr) < LOW_MEMORY_END)
        fail("segment on loader memory");
}

static void check_accepted(const struct elf_segment *segs, uint32_t n, uint64_t file_size,
                           uint64_t entry)
{
    bool entry_ok = false;
    if (n == 0 || n > MAX_SEGMENTS)
        fail("segment count");
    for (uint32_t i = 0; i < n; i++) {
        const struct elf_segment *s = &segs[i];
        check_segment(s, file_size);
        entry_ok |= (s->flags & PF_X) && entry >= s->vaddr && entry - s->vaddr < s->memsz;
        for (uint32_t j = 0; j < i; j++) {
            const struct elf_segment *t = &segs[j];
            if (overlap(page_start(s->paddr), page_end(s->paddr, s->memsz),
                        page_start(t->paddr), page_end(t->paddr, t->memsz)) ||
                overlap(page_start(s->vaddr), page_end(s->vaddr, s->memsz),
                        page_start(t->vaddr), page_end(t->vaddr, t->memsz)))
                fail("segments share a page");
        }
    }
    if (!entry_ok)
        fail("entry not in an executable segment");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct elf_range loader[] = { { 0, LOW_MEMORY_END } };
    struct elf_segment segs[MAX_SEGMENTS];
    uint64_t phoff, entry;
    uint32_t phnum, n;
    uint32_t head = size < HEADER_READ ? (uint32_t)size : HEADER_READ;
    /* the input as the bytes of one PT_NOTE: a found description lies inside */
    for (uint64_t align = 4; align <= 8; align += 4) {
        struct elf_note note;
        int r = elf_find_note(data, size, align, "pagelab", 1, &note);
        if (r == 1 && (note.desc < data || note.descsz > size ||
                       (size_t)(note.desc - data) > size - note.descsz))
            fail("a note's description outside its PT_NOTE accepted");
        if (r != 0 && r != 1 && r != ELF_ERR_NOTE_TRUNCATED)
            fail("elf_find_note: a result it does not document");
    }
    int err = elf_check_header(data, head, size, &phoff, &phnum, &entry);
    if (err < 0 || phnum > MAX_PHDRS)
        return 0;
    if (phoff + (uint64_t)phnum * sizeof(Elf64_Phdr) > size)
        fail("program headers outside the file accepted");
    err = elf_collect_segments(data + phoff, phnum, size, loader, 1, segs, MAX_SEGMENTS, &n);
    if (err == 0)
        err = elf_check_entry(segs, n, entry);
    if (err == 0)
        check_accepted(segs, n, size, entry);
    else if (strcmp(elf_strerror(err), "unknown error") == 0)
        fail("an error without a message");
    return 0;
}
