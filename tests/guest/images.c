/*
 * images.c - user images built into address spaces on the real CPU
 * (images.h): each boot module is loaded into a space of its own while the
 * kernel's is active, and then, through the MMU with that space in CR3,
 * its first code bytes are the file's, its code is not writable, the stack
 * and the guard page below its limit are unmapped; a copy-on-write fork
 * shares the data frames read-only with two references; bad files are
 * refused by name; and every
 * frame comes back. Ring 0 reads user pages here, so SMAP (if on) is
 * lifted with STAC around those reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include "images.h"
#include "console.h"
#include "result.h"
#include "cpu.h"
#include "elf.h"
#include "image.h"
#include "frame_meta.h"
#include "vm.h"
#include "layout.h"
#include "mem.h"
#include "modules.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"
#include "x86.h"

#define result(ok, name, ...) guest_result("images", ok, name, __VA_ARGS__)

static const struct boot_info *info;

static bool smap_on(void) { return read_cr4() & CR4_SMAP; }
static void user_open(void)
{
    if (smap_on())
        __asm__ volatile("stac" ::: "memory");
}
static void user_close(void)
{
    if (smap_on())
        __asm__ volatile("clac" ::: "memory");
}

/* What the selected space says of va: its prot, or ~0u when unmapped. */
static uint32_t prot_at(const struct pt_space *as, uint64_t va)
{
    struct pt_translation t;
    pt_space_select(as);
    enum pt_status st = pt_translate(vaddr(va), &t);
    pt_space_select(NULL);
    return st == PT_OK ? pt_tr_prot(&t) : ~0u;
}

/* The first PF_X segment's file offset and address, from the file. */
static bool text_of(const uint8_t *elf, uint64_t size, uint64_t *off, uint64_t *va, uint64_t *len)
{
    uint64_t phoff, entry;
    uint32_t phnum, n;
    struct elf_segment segs[IMAGE_MAX_SEGMENTS];
    if (elf_check_header(elf, (uint32_t)size, size, &phoff, &phnum, &entry) ||
        elf_collect_segments(elf + phoff, phnum, size, 0, 0, segs, IMAGE_MAX_SEGMENTS, &n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (segs[i].flags & PF_X) {
            *off = segs[i].offset, *va = segs[i].vaddr, *len = segs[i].filesz;
            return true;
        }
    return false;
}

static void test_module(const char *name)
{
    uint64_t size, before = guest_frames_but_records();
    const uint8_t *elf = module_bytes(name, &size);
    static struct pt_space as, child;
    struct image img;
    int elf_err;
    if (pt_space_create(&as) != PT_OK) {
        result(0, name, "no frame for a PML4");
        return;
    }
    enum image_status st = image_load(&as, elf, size, &img, &elf_err);
    uint64_t off = 0, tva = 0, tlen = 0;
    bool have_text = text_of(elf, size, &off, &tva, &tlen);
    uint32_t code = prot_at(&as, tva), stack = prot_at(&as, USER_STACK_TOP - PAGE_SIZE),
             guard = prot_at(&as, img.stack_guard), below = prot_at(&as, USER_BASE - PAGE_SIZE);
    /* without NX (EFER.NXE off) every page is executable (SDM Vol. 3A 4.6.1) */
    uint32_t no_nx_exec = BOOT_CPU_HAS(info, CPU_NX) ? 0 : PT_PROT_EXEC;
    /* through the MMU */
    unsigned same = 0;
    uint64_t n = tlen < 64 ? tlen : 64;
    if (st == IMAGE_OK && have_text) {
        pt_space_activate(&as);
        user_open();
        for (uint64_t i = 0; i < n; i++)
            same += *(volatile uint8_t *)(uintptr_t)(tva + i) == elf[off + i];
        user_close();
        pt_space_activate(NULL);
    }
    (void)no_nx_exec;
    /* the stack is a region with no frame until its first touch */
    result(st == IMAGE_OK && have_text && same == n && n > 0 &&
               code == (PT_PROT_USER | PT_PROT_EXEC) && stack == ~0u && guard == ~0u &&
               below == ~0u,
           name,
           "%s (elf %d); text %d, %u/%lu bytes as in the file; prot code 0x%x stack 0x%x guard "
           "0x%x below USER_BASE 0x%x",
           image_status_name(st), elf_err, have_text, same, n, code, stack, guard, below);

    /* fork's copy-on-write: the child maps the parent's frames, a writable
     * page read-only in both, with one reference more (kernel/proc/vm.h) */
    static struct vm pv, cv;
    vm_reset(&pv, &as);
    vm_reset(&cv, &child);
    bool regions = st == IMAGE_OK && vm_image_regions(&pv, &img);
    uint64_t data = 0;
    for (uint32_t i = 0; i < img.nseg; i++)
        if (img.seg[i].prot & PT_PROT_WRITE)
            data = img.seg[i].start;
    long fs = -1;
    if (regions && pt_space_create(&child) == PT_OK) {
        pt_space_select(&as);
        fs = vm_fork(&cv, &child, &pv, &as);
        pt_space_select(NULL);
    }
    struct pt_translation tp, tc;
    pt_space_select(&as);
    enum pt_status sp = pt_translate(vaddr(data), &tp);
    pt_space_select(&child);
    enum pt_status sc = pt_translate(vaddr(data), &tc);
    pt_space_select(NULL);
    bool same_frame = sp == PT_OK && sc == PT_OK && tp.pa.pa == tc.pa.pa;
    uint32_t wp = sp == PT_OK ? pt_tr_prot(&tp) & PT_PROT_WRITE : 1,
             wc = sc == PT_OK ? pt_tr_prot(&tc) & PT_PROT_WRITE : 1;
    uint32_t refs = sp == PT_OK ? frame_refs(pt_tr_frame(&tp)) : 0;
    result(fs == 0 && data && same_frame && !wp && !wc && refs == 2,
           "fork's copy-on-write: a data page's one frame in both, read-only, two references",
           "fork %ld; data page 0x%lx; frames 0x%lx 0x%lx; W %u %u; refs %u", fs, data, tp.pa.pa,
           tc.pa.pa, wp, wc, refs);
    vm_destroy(&cv, &child);
    vm_destroy(&pv, &as);
    uint64_t after = guest_frames_but_records();
    result(after == before && (sp != PT_OK || frame_refs(pt_tr_frame(&tp)) == 0),
           "both spaces destroyed: every frame back, no reference left",
           "%lu free before, %lu after", before, after);
}

/* A file the checker refuses, and one placed below USER_BASE: named, and
 * nothing is left behind. */
static void test_refusals(void)
{
    static uint8_t bad[64 * 1024];
    uint64_t size, before = guest_frames_but_records();
    const uint8_t *elf = module_count() ? module_bytes(module_name(0), &size) : NULL;
    if (!elf || size > sizeof(bad)) {
        result(0, "refusals", "no module of at most %u bytes to damage", (unsigned)sizeof(bad));
        return;
    }
    static struct pt_space as;
    struct image img;
    int elf_err;
    memcpy(bad, elf, size);
    bad[0] = 0;                                   /* no \x7FELF */
    pt_space_create(&as);
    enum image_status magic = image_load(&as, bad, size, &img, &elf_err);
    int magic_err = elf_err;
    memcpy(bad, elf, size);
    Elf64_Ehdr eh;
    memcpy(&eh, bad, sizeof(eh));
    for (unsigned i = 0; i < eh.e_phnum; i++) {   /* every segment one page below USER_BASE's slot */
        Elf64_Phdr ph;
        memcpy(&ph, bad + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        ph.p_vaddr -= USER_BASE - PAGE_SIZE * 16;
        ph.p_paddr = ph.p_vaddr;
        memcpy(bad + eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
    }
    eh.e_entry -= USER_BASE - PAGE_SIZE * 16;
    memcpy(bad, &eh, sizeof(eh));
    enum image_status place = image_load(&as, bad, size, &img, &elf_err);
    pt_space_destroy(&as, vm_drop_leaf, NULL);
    result(magic == IMAGE_ERR_ELF && magic_err == ELF_ERR_MAGIC && place == IMAGE_ERR_PLACE &&
               guest_frames_but_records() == before,
           "a damaged file and one below USER_BASE are refused by name, nothing left",
           "%s (%s); %s; %lu free before, %lu after", image_status_name(magic),
           elf_strerror(magic_err), image_status_name(place), before, guest_frames_but_records());
}

void images_run(const struct boot_info *bi)
{
    info = bi;
    for (uint32_t i = 0; i < module_count(); i++)
        test_module(module_name(i));
    result(module_count() > 0, "there were modules to load", "%u", module_count());
    test_refusals();
}
