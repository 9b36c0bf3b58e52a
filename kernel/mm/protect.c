/*
 * protect.c - what the kernel enforces, not only teaches (see protect.h):
 *   CR0.WP    supervisor writes honour read-only pages (Intel SDM Vol. 3A 4.6.1);
 *   EFER.NXE  bit 63 of an entry means no-execute (without it the bit is
 *             reserved, SDM 4.5.4);
 *   CR4.SMEP  supervisor instruction fetches from user pages fault (SDM 4.6.1);
 *   CR4.SMAP  supervisor data accesses to user pages fault unless RFLAGS.AC
 *             is set (SDM 4.6.1); AC is cleared here and never set;
 *   page 0 and the guard pages below the kernel stack and the double-fault
 *   stack are unmapped, so a NULL dereference or a stack overflow faults.
 * stage2 already sets CR0.WP and EFER.NXE (stage2/longmode.asm); they are
 * set again here only if missing, so the kernel does not depend on it.
 */
#include <stdint.h>
#include "protect.h"
#include "console.h"
#include "cpu.h"
#include "layout.h"
#include "pt.h"
#include "trap.h"
#include "x86.h"

static void enable_wp_nxe(const struct boot_info *bi)
{
    if (!(read_cr0() & CR0_WP))
        write_cr0(read_cr0() | CR0_WP);
    uint64_t efer = rdmsr(MSR_EFER);
    if (BOOT_CPU_HAS(bi, CPU_NX) && !(efer & EFER_NXE))
        wrmsr(MSR_EFER, efer | EFER_NXE);
}

/* SMEP and SMAP only where CPUID 07h EBX has them: setting an unsupported
 * CR4 bit is a #GP (SDM 2.5). */
static void enable_smep_smap(const struct boot_info *bi)
{
    uint64_t cr4 = read_cr4();
    if (BOOT_CPU_HAS(bi, CPU_SMEP))
        cr4 |= CR4_SMEP;
    if (BOOT_CPU_HAS(bi, CPU_SMAP))
        cr4 |= CR4_SMAP;
    write_cr4(cr4);
    if (BOOT_CPU_HAS(bi, CPU_SMAP))
        clac();
}

static void require_unmapped(uint64_t va, const char *what)
{
    struct pt_translation t;
    enum pt_status st = pt_translate(vaddr(va), &t);
    if (st != PT_ERR_UNMAPPED)
        kpanic("protect_init: %s at 0x%llx is mapped (%s): the loader broke its contract",
               what, (unsigned long long)va, pt_status_name(st));
}

static const char *state(uint64_t reg, uint64_t bit, int present)
{
    return !present ? "absent" : (reg & bit) ? "on" : "OFF";
}

void protect_init(const struct boot_info *bi)
{
    enable_wp_nxe(bi);
    enable_smep_smap(bi);
    require_unmapped(0, "page 0");
    require_unmapped(bi->stack_bottom - PAGE_SIZE, "the kernel stack's guard page");
    /* The page is part of the kernel's bss: unmapping leaves its frame
     * unused but allocated (the kernel image is never freed). */
    enum pt_status st = pt_unmap(vaddr(trap_df_guard_page()), 0, 0);
    if (st != PT_OK)
        kpanic("protect_init: double-fault stack guard page: %s", pt_status_name(st));
    uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);
    kprintf("protections: CR0.WP %s, EFER.NXE %s, SMEP %s, SMAP %s; page 0 unmapped\n",
            state(cr0, CR0_WP, 1), state(efer, EFER_NXE, BOOT_CPU_HAS(bi, CPU_NX)),
            state(cr4, CR4_SMEP, BOOT_CPU_HAS(bi, CPU_SMEP)), state(cr4, CR4_SMAP, BOOT_CPU_HAS(bi, CPU_SMAP)));
    kprintf("  guard pages below the kernel and double-fault stacks (0x%llx)\n",
            (unsigned long long)trap_df_guard_page());
}
