/*
 * uaccess.c - checking and copying user memory (contract in uaccess.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include "uaccess.h"
#include "cpu.h"
#include "layout.h"
#include "lib.h"
#include "pt.h"
#include "proc.h"

static bool smap;

void uaccess_init(const struct boot_info *bi)
{
    smap = BOOT_CPU_HAS(bi, CPU_SMAP);
}

bool uaccess_ok(uint64_t va, uint64_t len, enum uaccess_need need)
{
    if (va >= USER_END || len > USER_END - va)
        return false;
    /* a process's pages may not have their frames yet (demand paging):
     * resolve them as the CPU's faults would be, then check */
    proc_user_touch(va, len, need == UACCESS_WRITE);
    uint32_t want = PT_PROT_USER | (need == UACCESS_WRITE ? PT_PROT_WRITE : 0);
    uint64_t end = va + len;
    while (va < end) {
        struct pt_translation t;
        if (pt_translate(vaddr(va), &t) != PT_OK || (pt_tr_prot(&t) & want) != want)
            return false;
        va = ALIGN_DOWN(va, pt_tr_page_size(&t)) + pt_tr_page_size(&t);  /* the next page */
    }
    return true;
}

void uaccess_copy_to(uint64_t dst, const void *src, uint64_t len)
{
    if (smap)
        stac();
    memcpy((void *)(uintptr_t)dst, src, len);
    if (smap)
        clac();
}

void uaccess_copy_from(void *dst, uint64_t src, uint64_t len)
{
    if (smap)
        stac();
    memcpy(dst, (const void *)(uintptr_t)src, len);
    if (smap)
        clac();
}

void uaccess_zero_page(uint64_t dst)
{
    if (smap)
        stac();
    page_zero((void *)(uintptr_t)dst);
    if (smap)
        clac();
}

void uaccess_copy_page_from(void *dst, uint64_t src)
{
    if (smap)
        stac();
    page_copy(dst, (const void *)(uintptr_t)src);
    if (smap)
        clac();
}
