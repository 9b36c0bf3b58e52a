; bios_thunk.asm - call a BIOS interrupt from 32-bit protected mode.
;
; bios_int(vector): the registers to pass are in `bios_regs` (struct
; bios_regs, stage2/bios.h); on return it holds what the BIOS left, with
; EFLAGS (so the caller sees CF). The thunk goes PM32 -> PM16 (64 KiB
; segments, so the hidden limits are real-mode-like) -> real mode, runs
; INT n on its own stack below 0x7C00 with the BIOS's IVT, and comes back.
; Lives in .text16 so that it sits below 64 KiB (real-mode IP).
; Clobbers nothing the C ABI cares about (pushad/popad); interrupts stay off
; in protected mode, where stage2's IDT (pm_trap.asm) only takes exceptions.

%include "layout.inc"
%include "x86.inc"
%include "segments.inc"

extern gdt_descriptor, pm_idtr
global bios_int, bios_regs

%define RM_STACK_TOP STAGE1_ADDR    ; stage1 is finished with its stack

; struct bios_regs offsets
%define R_EAX 0
%define R_EBX 4
%define R_ECX 8
%define R_EDX 12
%define R_ESI 16
%define R_EDI 20
%define R_EBP 24
%define R_EFLAGS 28
%define R_DS 32
%define R_ES 34

section .text16
bits 32
bios_int:
    pushad
    mov eax, [esp + 36]             ; vector (after the 8 saved registers + return address)
    mov [int_vector], al            ; patch the INT instruction below
    mov [saved_esp], esp
    jmp SEL_CODE16:.pm16
bits 16
.pm16:
    LOAD_DATA_SEGMENTS SEL_DATA16
    mov eax, cr0
    and eax, ~CR0_PE
    mov cr0, eax
    jmp 0:.real                     ; reload CS with a real-mode segment
.real:
    xor ax, ax
    mov ss, ax
    mov sp, RM_STACK_TOP
    mov ds, ax
    lidt [real_idt]
    mov ax, [bios_regs + R_ES]
    mov es, ax
    mov eax, [bios_regs + R_EAX]
    mov ebx, [bios_regs + R_EBX]
    mov ecx, [bios_regs + R_ECX]
    mov edx, [bios_regs + R_EDX]
    mov esi, [bios_regs + R_ESI]
    mov edi, [bios_regs + R_EDI]
    mov ebp, [bios_regs + R_EBP]
    push word [bios_regs + R_DS]
    pop ds
    sti
    db 0xCD                         ; INT imm8
int_vector:
    db 0
    cli
    mov [cs:bios_regs + R_EAX], eax ; CS = 0 here, and writable in real mode
    mov [cs:bios_regs + R_EBX], ebx
    mov [cs:bios_regs + R_ECX], ecx
    mov [cs:bios_regs + R_EDX], edx
    mov [cs:bios_regs + R_ESI], esi
    mov [cs:bios_regs + R_EDI], edi
    mov [cs:bios_regs + R_EBP], ebp
    pushfd
    pop dword [cs:bios_regs + R_EFLAGS]
    mov [cs:bios_regs + R_DS], ds
    mov [cs:bios_regs + R_ES], es
    xor ax, ax
    mov ds, ax
    lgdt [gdt_descriptor]           ; a BIOS may have loaded its own
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:.back
bits 32
.back:
    LOAD_DATA_SEGMENTS SEL_DATA32
    lidt [pm_idtr]                  ; stage2's exception IDT again (pm_trap.asm)
    mov esp, [saved_esp]
    popad
    ret

section .data16
align 4
bios_regs:  times 36 db 0
saved_esp:  dd 0
real_idt:   dw 0x3FF                ; the real-mode IVT: 256 vectors at 0
            dd 0
