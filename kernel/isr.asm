; isr.asm - interrupt entry stubs: the exceptions (vectors 0-31) and the
; 8259's sixteen IRQs (vectors X86_IRQ_VECTOR_BASE on, kernel/cpu/pic.c).
;
; Each stub makes the stack look the same (Intel SDM Vol. 3A 6.14.2: the CPU
; pushes SS, RSP, RFLAGS, CS, RIP and, for some vectors, an error code):
; a dummy error code where the CPU pushes none, then the vector number. The
; common path saves the general registers as struct trap_frame
; (kernel/trap.h), calls trap_dispatch(frame) and returns with IRETQ, so a
; handler can resume elsewhere by editing frame->rip / frame->rsp.
; From ring 3 the CPU has switched to TSS.RSP0 first (SDM 6.14.4); nothing
; here differs (no SWAPGS: kernel/cpu/ring_entry.asm says why).
; isr_return is also the way into ring 3 for the first time (user_enter).

%include "x86.inc"

extern trap_dispatch
global isr_table, isr_return

%define IDT_VECTORS (X86_IRQ_VECTOR_BASE + X86_IRQ_COUNT)

section .text
bits 64
%assign v 0
%rep IDT_VECTORS
isr %+ v:
  %if v < X86_EXCEPTION_VECTORS && (X86_ERROR_CODE_VECTORS >> v) & 1
    push v                          ; the CPU pushed the error code
  %else
    push 0
    push v
  %endif
    jmp isr_common
%assign v v + 1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp                    ; struct trap_frame *; RSP is 16-byte aligned here
    push RFLAGS_CLEAR               ; DF = 0 for C, and AC = 0: ring 3 may have set AC
    popfq                           ; (POPF, SDM Vol. 2B), which would open SMAP's window
    call trap_dispatch
isr_return:                         ; RSP = a struct trap_frame
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                     ; vector and error code
    iretq

section .rodata
align 8
isr_table:
%assign i 0
%rep IDT_VECTORS
    dq isr %+ i
%assign i i + 1
%endrep
