; longmode.asm - the jump from 32-bit protected mode into the 64-bit kernel.
;
; enter_long_mode(const struct lm_handoff *h), never returns. Follows Intel
; SDM Vol. 3A 10.8.5 "Initializing IA-32e Mode": CR4.PAE (+ OSFXSR,
; OSXMMEXCPT), CR3, EFER.LME (+NXE), then CR0.PG (with CR0.WP) activates
; IA-32e mode; a far jump to a 64-bit code segment leaves compatibility
; mode. SSE is enabled as SDM Vol. 3A 13.1 asks (CR0.EM = 0, CR0.MP = 1,
; CR4.OSFXSR, CR4.OSXMMEXCPT; CR0.TS = 0), x87 reset (FNINIT), because a
; C kernel built without -mgeneral-regs-only uses SSE from its first
; function. The kernel is entered with RDI = BootInfo, RSP = its stack top
; (16-byte aligned), RBP = 0, RFLAGS = 0x2 (IF = 0, DF = 0), CS = the
; 64-bit code selector, DS = ES = FS = GS = SS = the flat data selector;
; IDTR points to early_trap.asm's last-resort IDT. README.md, "Kernel entry
; state", lists it all for kernel authors.
; This code lives in its own page (.trampoline): the only stage2 page the
; page tables map executable, as it runs after paging is on. Debug images
; stop in Bochs right before the jump to the kernel (PAGELAB_BREAK).

%include "x86.inc"
%include "debug.inc"

global enter_long_mode
extern early_trap_install

; struct lm_handoff offsets (stage2/longmode.h)
%define H_CR3 0
%define H_CR4 4
%define H_EFER 8
%define H_ENTRY 16
%define H_STACK 24
%define H_BOOTINFO 32

section .trampoline progbits alloc exec nowrite
bits 32
enter_long_mode:
    mov esi, [esp + 4]
    mov eax, [esi + H_CR4]
    mov cr4, eax
    mov eax, [esi + H_CR3]
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, [esi + H_EFER]
    wrmsr
    mov eax, cr0
    and eax, ~(CR0_EM | CR0_TS)     ; x87/SSE execute instead of faulting
    or eax, CR0_PG | CR0_WP | CR0_MP
    mov cr0, eax                    ; IA-32e mode active, compatibility mode
    jmp SEL_CODE64:.long
bits 64
.long:
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esi, esi                    ; upper halves are undefined after the switch (SDM 10.8.5.4)
    mov rdi, [rsi + H_BOOTINFO]
    mov rsp, [rsi + H_STACK]
    fninit                          ; x87 in its initial state, whatever the BIOS left
    ; MXCSR keeps its reset value, 0x1F80 (SDM Vol. 2, LDMXCSR: "The default
    ; MXCSR value at reset is 1F80H"; no BIOS call uses SSE): no LDMXCSR here,
    ; because a nested KVM still emulating the code after the mode switch
    ; has no LDMXCSR in its instruction emulator and stops the guest
    ; ("KVM internal error", make test KVM=1). robustness.py checks it.
    call early_trap_install         ; until the kernel's lidt: a message, not a reset
    mov rax, [rsi + H_ENTRY]
    xor ebp, ebp
    push qword RFLAGS_CLEAR
    popfq                           ; IF = 0, DF = 0 (the SysV ABI's at a call), AC = 0
    PAGELAB_BREAK "stage2: long mode is on", \
        {"`creg`: CR0.PG=1, EFER.LMA=1, CR3 = the PML4 - this is 64-bit code in stage2's", \
         " trampoline page, the only one the loader maps executable", 13, 10, \
         "  look: `page rip` (identity-mapped, r-x), `page rax` (the kernel entry), `page rsp-8`", \
         " (the kernel stack); `info tab` lists everything the loader mapped"}
    jmp rax
