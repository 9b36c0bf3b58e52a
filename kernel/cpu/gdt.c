/*
 * gdt.c - the kernel's GDT and 64-bit TSS (layout and contract: gdt.h).
 * Descriptor formats: Intel SDM Vol. 3A 3.4.5 (code and data), 8.2.3
 * (the 16-byte TSS descriptor of IA-32e mode), 8.7 (the 64-bit TSS).
 */
#include <stdint.h>
#include "gdt.h"

/* Code and data descriptors: base 0, limit 4 GiB (ignored in 64-bit mode
 * but kept for the data segments' sake), G = 1. Type/S/DPL/P byte
 * (bits 47:40) and flags (L, D/B, G in bits 55:52). */
#define DESC_FLAT        0x000F00000000FFFFULL   /* limit 0xFFFFF, base 0 */
#define DESC_P           (1ULL << 47)
#define DESC_DPL3        (3ULL << 45)
#define DESC_S           (1ULL << 44)            /* code or data (not system) */
#define DESC_CODE_RX     (0xAULL << 40)          /* execute/read, non-conforming */
#define DESC_DATA_RW     (0x2ULL << 40)          /* read/write, expand-up */
#define DESC_L           (1ULL << 53)            /* 64-bit code segment */
#define DESC_DB          (1ULL << 54)            /* 32-bit default size (data: "big") */
#define DESC_G           (1ULL << 55)            /* limit in 4 KiB units */
#define DESC_TSS_AVAIL   (0x9ULL << 40)          /* available 64-bit TSS */

#define DESC_KERNEL_CODE (DESC_FLAT | DESC_P | DESC_S | DESC_CODE_RX | DESC_L | DESC_G)
#define DESC_KERNEL_DATA (DESC_FLAT | DESC_P | DESC_S | DESC_DATA_RW | DESC_DB | DESC_G)
#define DESC_USER_CODE   (DESC_KERNEL_CODE | DESC_DPL3)
#define DESC_USER_DATA   (DESC_KERNEL_DATA | DESC_DPL3)

#define GDT_ENTRIES      (GDT_TSS / 8 + 2)

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];            /* rsp[0]: ring 3 -> 0 (RSP1, RSP2 unused) */
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct table_register {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static uint64_t gdt[GDT_ENTRIES];
static struct tss tss;

static void tss_descriptor(uint64_t *d)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    d[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | DESC_TSS_AVAIL | DESC_P |
           (((base >> 24) & 0xFF) << 56);
    d[1] = base >> 32;
}

void gdt_init(uint64_t double_fault_stack_top)
{
    tss.ist[IST_DOUBLE_FAULT - 1] = double_fault_stack_top;
    tss.iomap_base = sizeof(tss);        /* no I/O bitmap: ring 3 gets no port (IOPL 0) */
    gdt[GDT_KERNEL_CODE / 8] = DESC_KERNEL_CODE;
    gdt[GDT_KERNEL_DATA / 8] = DESC_KERNEL_DATA;
    gdt[GDT_USER_DATA / 8] = DESC_USER_DATA;
    gdt[GDT_USER_CODE / 8] = DESC_USER_CODE;
    tss_descriptor(&gdt[GDT_TSS / 8]);
    struct table_register r = { sizeof(gdt) - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"                           /* reload CS */
                     "1: movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%ss\n\t"
                     "movw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
                     "ltr %w3"
                     : : "m"(r), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
                     : "rax", "memory");
}

void gdt_set_rsp0(uint64_t stack_top)
{
    tss.rsp[0] = stack_top;
}
