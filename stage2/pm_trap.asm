; pm_trap.asm - stage2's IDT for its own 32-bit protected-mode code.
;
; Without one, any CPU exception in stage2 (a bug, or a machine that
; surprises it) would find no IDT, then no double-fault handler either:
; a triple fault and a reset, with nothing on the screen. Each vector's
; stub makes the stack the same (a dummy error code where the CPU pushes
; none, Intel SDM Vol. 3A 6.13 and table 6-1, then the vector) and calls
; stage2_trap (stage2/trap.c), which names the exception on VGA and COM1
; and halts. entry.asm loads this IDT before stage2_main; the BIOS thunk
; loads the real-mode IVT for each INT and this IDT again on the way back
; (bios_thunk.asm); enter_long_mode replaces it with early_trap.asm's.
; Interrupts stay off throughout: only exceptions arrive here.

%include "x86.inc"

extern stage2_trap
global pm_trap_install, pm_idtr

%define STUB_SIZE      16
%define GATE_SIZE      8
%define GATE_INTERRUPT 0x8E00        ; present, DPL 0, type 0xE: 32-bit interrupt gate (SDM 6.11)

section .text
bits 32

; pm_trap_install - fill pm_idt with one gate per stub and load it.
; In: nothing (32-bit protected mode, .bss zeroed). Clobbers EAX, ECX, EDX, EDI.
pm_trap_install:
    mov edi, pm_idt
    mov edx, pm_stubs
    xor ecx, ecx
.gate:
    mov eax, edx
    mov [edi], ax                    ; offset 15:0
    mov word [edi + 2], SEL_CODE32
    mov word [edi + 4], GATE_INTERRUPT
    shr eax, 16
    mov [edi + 6], ax                ; offset 31:16
    add edi, GATE_SIZE
    add edx, STUB_SIZE
    inc ecx
    cmp ecx, X86_EXCEPTION_VECTORS
    jb .gate
    lidt [pm_idtr]
    ret

align STUB_SIZE
pm_stubs:
%assign v 0
%rep X86_EXCEPTION_VECTORS
    align STUB_SIZE
  %if (X86_ERROR_CODE_VECTORS >> v) & 1
    push dword v                     ; the CPU pushed the error code
  %else
    push dword 0
    push dword v
  %endif
    jmp pm_trap_common
%assign v v + 1
%endrep

; Stack: vector, error code, EIP, CS, EFLAGS (no privilege change, so no
; ESP/SS). stage2_trap(frame) does not return.
pm_trap_common:
    cld
    mov eax, esp
    push eax
    call stage2_trap
.halt:
    cli
    hlt
    jmp .halt

section .data
align 4
pm_idtr:
    dw X86_EXCEPTION_VECTORS * GATE_SIZE - 1
    dd pm_idt

section .bss
align 8
pm_idt: resb X86_EXCEPTION_VECTORS * GATE_SIZE
