/*
 * gdt.h - the kernel's GDT and TSS: the segment selectors of ring 0 and
 * ring 3, and the TSS's RSP0 (the stack the CPU switches to when an
 * interrupt or exception arrives from ring 3, SDM Vol. 3A 6.14.4).
 *
 * The order of the descriptors is SYSCALL's and SYSRET's, which compute
 * the selectors from one base each (SDM Vol. 2B SYSCALL, SYSRET; Vol. 3A
 * 5.8.8): SYSCALL loads CS = STAR[47:32] and SS = CS + 8, so kernel data
 * follows kernel code; 64-bit SYSRET loads SS = STAR[63:48] + 8 and
 * CS = STAR[63:48] + 16, both with RPL 3, so user data comes before user
 * code, right after kernel data (STAR[63:48] = GDT_KERNEL_DATA). The
 * 32-bit SYSRET (CS = STAR[63:48]) is never used: there is no
 * compatibility-mode user code.
 *
 *   0x00  null
 *   0x08  kernel code, 64-bit, DPL 0   (SYSCALL's CS)
 *   0x10  kernel data, DPL 0           (SYSCALL's SS; SYSRET's base)
 *   0x18  user data, DPL 3             (SYSRET's SS, selector 0x1B)
 *   0x20  user code, 64-bit, DPL 3     (SYSRET's CS, selector 0x23)
 *   0x28  64-bit TSS (two entries)
 */
#ifndef KERNEL_CPU_GDT_H
#define KERNEL_CPU_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CODE  0x08
#define GDT_KERNEL_DATA  0x10
#define GDT_USER_DATA    0x18
#define GDT_USER_CODE    0x20
#define GDT_TSS          0x28
#define SEL_RPL_USER     3            /* requested privilege level 3 (SDM 3.4.2) */
#define USER_CS          (GDT_USER_CODE | SEL_RPL_USER)
#define USER_SS          (GDT_USER_DATA | SEL_RPL_USER)
/* What SYSCALL and SYSRET compute from STAR (SDM Vol. 2B) */
#define STAR_SYSCALL_BASE GDT_KERNEL_CODE
#define STAR_SYSRET_BASE  GDT_KERNEL_DATA

_Static_assert(GDT_KERNEL_DATA == STAR_SYSCALL_BASE + 8, "SYSCALL: SS = CS + 8");
_Static_assert(GDT_USER_DATA == STAR_SYSRET_BASE + 8, "SYSRET: SS = STAR[63:48] + 8");
_Static_assert(GDT_USER_CODE == STAR_SYSRET_BASE + 16, "SYSRET: CS = STAR[63:48] + 16");

/* The double fault's IST slot (SDM 6.14.5): its own stack, so a kernel
 * stack overflow is reported instead of escalating to a triple fault. */
#define IST_DOUBLE_FAULT 1

/*
 * Loads the GDT above and the TSS (IST1 = double_fault_stack_top, RSP0 =
 * 0 until gdt_set_rsp0), reloads CS, DS, ES, FS, GS, SS with the kernel's
 * selectors (FS and GS bases become 0). Call once, interrupts off.
 */
void gdt_init(uint64_t double_fault_stack_top);

/*
 * The stack (its top, 16-byte aligned) the CPU loads into RSP when an
 * interrupt or exception moves it from ring 3 to ring 0 (TSS.RSP0). Takes
 * effect at the next such event; no flush or reload needed (the CPU reads
 * the TSS at each one).
 */
void gdt_set_rsp0(uint64_t stack_top);

#endif
