/*
 * x86.h - architectural register bits used by more than one stage.
 * Intel SDM Vol. 3A, 2.5 "Control Registers" and 2.2.1 "Extended Feature
 * Enable Register". Plain #defines only: NASM includes the generated
 * build/gen/x86.inc.
 */
#ifndef PAGELAB_X86_H
#define PAGELAB_X86_H

#define CR0_PE          0x00000001  /* protection enable */
#define CR0_MP          0x00000002  /* monitor coprocessor: WAIT honours TS (SDM 13.1) */
#define CR0_EM          0x00000004  /* emulation: x87/SSE instructions fault (#NM / #UD) */
#define CR0_TS          0x00000008  /* task switched: next x87/SSE use faults (#NM) */
#define CR0_WP          0x00010000  /* write protect: supervisor honours R/W (SDM 4.6) */
#define CR0_PG          0x80000000  /* paging */
#define CR4_TSD         0x00000004  /* time stamp disable: RDTSC faults outside ring 0 */
#define CR4_PSE         0x00000010
#define CR4_PAE         0x00000020  /* required for long mode (SDM 10.8.5) */
#define CR4_PGE         0x00000080  /* global pages */
#define CR4_OSFXSR      0x00000200  /* OS saves SSE state with FXSAVE: SSE allowed (SDM 13.1.3) */
#define CR4_OSXMMEXCPT  0x00000400  /* SIMD floating-point errors raise #XM, not #UD */
#define CR4_SMEP        0x00100000
#define CR4_SMAP        0x00200000
#define MSR_EFER        0xC0000080
#define EFER_SCE        0x00000001  /* SYSCALL/SYSRET enable (SDM Vol. 3A 5.8.8) */
#define EFER_LME        0x00000100  /* long mode enable */
#define EFER_LMA        0x00000400  /* long mode active (read only) */
#define EFER_NXE        0x00000800  /* execute-disable bit enable */
/* SYSCALL's MSRs (SDM Vol. 3A 5.8.8, Vol. 4 table 2-2): STAR holds the
 * selector bases (bits 47:32 for SYSCALL, 63:48 for SYSRET), LSTAR the
 * 64-bit entry point, FMASK the RFLAGS bits SYSCALL clears. */
#define MSR_STAR        0xC0000081
#define MSR_LSTAR       0xC0000082
#define MSR_FMASK       0xC0000084
/* RFLAGS bits (SDM Vol. 1, 3.4.3; Vol. 3A 2.3) */
#define RFLAGS_TF       0x00000100  /* trap flag: single-step */
#define RFLAGS_IF       0x00000200  /* maskable interrupts enabled */
#define RFLAGS_DF       0x00000400  /* string instructions count down */
#define RFLAGS_IOPL     0x00003000  /* I/O privilege level: 0 keeps ring 3 off the ports */
#define RFLAGS_NT       0x00004000  /* nested task */
#define RFLAGS_RF       0x00010000  /* resume: set in the RFLAGS a fault pushes (SDM 3B 17.3.1.1) */
#define RFLAGS_AC       0x00040000  /* alignment check; with CR4.SMAP: supervisor may touch user pages */
/* MXCSR after reset: every SIMD exception masked, round to nearest (SDM
 * Vol. 1, 10.2.3; Vol. 2, LDMXCSR). stage2 leaves it so (longmode.asm);
 * tests/robustness.py checks the kernel sees it. */
#define MXCSR_DEFAULT   0x1F80
/* RFLAGS with every flag clear: bit 1 is reserved and reads 1 (SDM Vol. 1,
 * 3.4.3); IF = 0, DF = 0, AC = 0. */
#define RFLAGS_CLEAR    0x2

/* The one-byte near RET (SDM Vol. 2B, RET): what the tests put in a page
 * to fetch from it and come back. */
#define X86_OPCODE_RET  0xC3

/* Exceptions that push an error code, one bit per vector: 8 (#DF), 10-14
 * (#TS #NP #SS #GP #PF), 17 (#AC), 21 (#CP), 29 (#VC), 30 (#SX) (SDM Vol. 3A
 * 6.15, table 6-1). Every exception stub (stage2/pm_trap.asm,
 * stage2/early_trap.asm, kernel/isr.asm) pushes a dummy where the CPU
 * pushes none. */
#define X86_ERROR_CODE_VECTORS 0x60227D00
#define X86_EXCEPTION_VECTORS  32
#define X86_VECTOR_DB          1    /* debug: the single-step trap (RFLAGS.TF) among others */
#define X86_VECTOR_DF          8    /* double fault */
#define X86_VECTOR_GP          13   /* general protection */
#define X86_VECTOR_PF          14   /* page fault: CR2 holds the address */
/* The kernel's IDT puts the two 8259 PICs' 16 IRQs right above the
 * exceptions (vectors 32-47; at reset the master's sit on 8-15, on top of
 * the exceptions): kernel/cpu/pic.c programs them so, kernel/isr.asm has a
 * stub for each. */
#define X86_IRQ_VECTOR_BASE    32
#define X86_IRQ_COUNT          16

/* stage2 GDT selectors (stage2/entry.asm builds the table) */
#define SEL_CODE32      0x08
#define SEL_DATA32      0x10
#define SEL_CODE16      0x18
#define SEL_DATA16      0x20
#define SEL_CODE64      0x28

#endif
