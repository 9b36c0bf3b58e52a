; entry.asm - stage2's first instructions and its GDT.
;
; stage1 jumps here (STAGE2_ENTRY, real mode, CS=DS=ES=SS=0) with the boot
; drive in DL. We stamp the TSC, switch to 32-bit protected mode with flat
; segments, zero .bss, load stage2's exception IDT (pm_trap.asm) and call
; stage2_main(boot_drive) on a 64 KiB stack below STAGE2_STACK_TOP. C runs with interrupts off and paging off, so a
; pointer is a physical address; BIOS services go through bios_int
; (bios_thunk.asm), which drops back to real mode for each call.

%include "layout.inc"
%include "x86.inc"
%include "segments.inc"

extern stage2_main, pm_trap_install
extern __bss_start, __bss_end
global stage2_start, stage2_boot_drive, stage2_tsc, gdt_descriptor

section .header
    dd STAGE2_MAGIC                 ; stage1 checks this before jumping

bits 16
stage2_start:                       ; == STAGE2_ENTRY
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, STAGE1_ADDR
    mov [stage2_boot_drive], dl     ; before RDTSC, which overwrites EDX
    rdtsc
    mov [stage2_tsc], eax
    mov [stage2_tsc + 4], edx
    lgdt [gdt_descriptor]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:pm_entry   ; far jump loads CS: now 32-bit code

bits 32
pm_entry:
    LOAD_DATA_SEGMENTS SEL_DATA32
    mov esp, STAGE2_STACK_TOP
    cld
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    call pm_trap_install            ; from here on an exception is reported, not a reset
    movzx eax, byte [stage2_boot_drive]
    push eax
    call stage2_main                ; does not return
.halt:
    cli
    hlt
    jmp .halt

section .data16
align 8
; Flat descriptors (Intel SDM Vol. 3A 3.4.5). Accessed bits preset: the CPU
; would otherwise write them when a selector is loaded, and after paging is
; on this page is mapped read-only.
gdt:
    dq 0                            ; null
    dq 0x00CF9B000000FFFF           ; SEL_CODE32: base 0, 4 GiB, 32-bit, exec/read
    dq 0x00CF93000000FFFF           ; SEL_DATA32: base 0, 4 GiB, read/write
    dq 0x00009B000000FFFF           ; SEL_CODE16: base 0, 64 KiB, 16-bit (for the BIOS thunk)
    dq 0x000093000000FFFF           ; SEL_DATA16: base 0, 64 KiB (real-mode-like limits)
    dq 0x00AF9B000000FFFF           ; SEL_CODE64: L=1 (SDM 3.4.5.1: 64-bit code segment)
gdt_end:
gdt_descriptor:
    dw gdt_end - gdt - 1
    dd gdt
stage2_tsc:        dq 0             ; .data16, not .bss: written before .bss is zeroed
stage2_boot_drive: db 0
