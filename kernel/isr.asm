; isr.asm - exception entry stubs (vectors 0-31).
;
; Each stub makes the stack look the same (Intel SDM Vol. 3A 6.14.2: the CPU
; pushes SS, RSP, RFLAGS, CS, RIP and, for some vectors, an error code):
; a dummy error code where the CPU pushes none, then the vector number. The
; common path saves the general registers as struct trap_frame
; (kernel/trap.h), calls trap_dispatch(frame) and returns with IRETQ, so a
; handler can resume elsewhere by editing frame->rip / frame->rsp.

extern trap_dispatch
global isr_table

%macro ISR_NOERR 1
isr%1:
    push 0
    push %1
    jmp isr_common
%endmacro
%macro ISR_ERR 1
isr%1:
    push %1
    jmp isr_common
%endmacro

section .text
bits 64
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31

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
    cld
    call trap_dispatch
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
%rep 32
    dq isr %+ i
%assign i i + 1
%endrep
