/*
 * trap.h - interrupts and exceptions: the IDT, the register frame the stubs
 * in isr.asm build, and probes (accesses that may fault on purpose and come
 * back). The GDT and TSS: kernel/cpu/gdt.h.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;       /* pushed by the CPU */
};

/* Load the kernel's GDT with a TSS (gdt_init; IST1 = double-fault stack)
 * and an IDT covering the exceptions and the 8259's IRQs (vectors 0-47).
 * Interrupts stay off. */
void trap_init(void);

/* Virtual address of the page right below the double-fault stack, for
 * kernel/mm/protect.c to unmap (a guard page; trap.c does not unmap it). */
uint64_t trap_df_guard_page(void);

/* What the last probe that faulted saw. */
struct probe_fault {
    uint64_t vector;      /* 14 page fault, 13 general protection */
    uint64_t error_code;
    uint64_t cr2;         /* faulting address (page faults) */
    uint64_t rip;
};

/* Access addr; returns 0 when it worked, 1 when it faulted (details in
 * probe_last_fault()). probe_exec calls addr, which must hold a RET. */
int probe_read(const volatile void *addr);
int probe_write(volatile void *addr, uint8_t value);
int probe_exec(const void *addr);
const struct probe_fault *probe_last_fault(void);

/* Page-fault error code bits (Intel SDM Vol. 3A 4.7, figure 4-12). */
#define PF_ERR_PRESENT  0x01   /* 0: not-present page, 1: protection violation */
#define PF_ERR_WRITE    0x02
#define PF_ERR_USER     0x04
#define PF_ERR_RSVD     0x08   /* a reserved bit was set in an entry */
#define PF_ERR_FETCH    0x10   /* instruction fetch */
#define PF_ERR_PK       0x20
#define PF_ERR_SS       0x40

/* "protection violation, write, supervisor" etc. into buf. */
void pf_decode(uint64_t error_code, char *buf, unsigned len);

#endif
