/*
 * cpu.c - CPUID checks. Long mode and PAE are required; NX, 1 GiB pages,
 * PGE, LA57, SMEP and SMAP are recorded in BootInfo and used only where
 * present. Leaves and bits: Intel SDM Vol. 2A, CPUID, tables 3-8 to 3-20.
 */
#include <stdint.h>
#include "cpu.h"
#include "panic.h"

#define CPUID_BASIC_FEATURES  0x1
#define CPUID_EXT_FEATURES    0x7
#define CPUID_EXT_MAX         0x80000000
#define CPUID_EXT_INFO        0x80000001
#define CPUID_ADDR_SIZES      0x80000008
#define EFLAGS_ID             0x00200000  /* writable only when CPUID exists */

struct cpuid_regs { uint32_t a, b, c, d; };

static struct cpuid_regs cpuid(uint32_t leaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(0));
    return r;
}

static int has_cpuid(void)
{
    uint32_t before, after;
    __asm__ volatile("pushfl; pushfl; xorl %2, (%%esp); popfl; pushfl; popl %0; popl %1; pushl %1; popfl"
                     : "=&r"(after), "=&r"(before) : "i"(EFLAGS_ID));
    return ((before ^ after) & EFLAGS_ID) != 0;
}

static void set_if(struct boot_info *bi, enum cpu_feature_bit f, int present)
{
    if (present)
        bi->cpu_features |= 1u << f;
}

void cpu_detect(struct boot_info *bi)
{
    if (!has_cpuid())
        die("this CPU has no CPUID instruction: it cannot run 64-bit code");
    uint32_t max_basic = cpuid(0).a;
    struct cpuid_regs basic = cpuid(CPUID_BASIC_FEATURES);
    set_if(bi, CPU_PAE, basic.d & (1u << 6));
    set_if(bi, CPU_TSC, basic.d & (1u << 4));
    set_if(bi, CPU_PGE, basic.d & (1u << 13));
    if (max_basic >= CPUID_EXT_FEATURES) {
        struct cpuid_regs ext = cpuid(CPUID_EXT_FEATURES);
        set_if(bi, CPU_SMEP, ext.b & (1u << 7));
        set_if(bi, CPU_SMAP, ext.b & (1u << 20));
        set_if(bi, CPU_LA57, ext.c & (1u << 16));
    }
    uint32_t max_ext = cpuid(CPUID_EXT_MAX).a;
    if (max_ext >= CPUID_EXT_INFO) {
        struct cpuid_regs info = cpuid(CPUID_EXT_INFO);
        set_if(bi, CPU_NX, info.d & (1u << 20));
        set_if(bi, CPU_PAGE1GB, info.d & (1u << 26));
        set_if(bi, CPU_LM, info.d & (1u << 29));
    }
    bi->phys_addr_bits = 36;              /* SDM: the default without leaf 80000008h */
    bi->linear_addr_bits = 48;
    if (max_ext >= CPUID_ADDR_SIZES) {
        struct cpuid_regs sizes = cpuid(CPUID_ADDR_SIZES);
        bi->phys_addr_bits = sizes.a & 0xFF;
        bi->linear_addr_bits = (sizes.a >> 8) & 0xFF;
    }
    if (!BOOT_CPU_HAS(bi, CPU_LM))
        die("this CPU cannot run 64-bit code (CPUID 80000001h: no long mode)");
    if (!BOOT_CPU_HAS(bi, CPU_PAE))
        die("this CPU has no PAE (CPUID 01h EDX bit 6): 64-bit paging needs it");
    progress("CPU: long mode, PAE%s%s%s%s%s%s",
             BOOT_CPU_HAS(bi, CPU_NX) ? ", NX" : ", no NX",
             BOOT_CPU_HAS(bi, CPU_PAGE1GB) ? ", 1 GiB pages" : ", no 1 GiB pages",
             BOOT_CPU_HAS(bi, CPU_PGE) ? ", PGE" : "",
             BOOT_CPU_HAS(bi, CPU_LA57) ? ", LA57" : "",
             BOOT_CPU_HAS(bi, CPU_SMEP) ? ", SMEP" : "",
             BOOT_CPU_HAS(bi, CPU_SMAP) ? ", SMAP" : "");
    progress("CPU: %u-bit physical, %u-bit linear addresses", bi->phys_addr_bits,
             bi->linear_addr_bits);
}
