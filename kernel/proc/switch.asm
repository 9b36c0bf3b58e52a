; switch.asm - the one thing the process layer cannot write in C: moving
; from one kernel stack to another (kernel/proc/proc.c).
;
; proc_switch(uint64_t *save, uint64_t next): pushes the callee-saved
; registers (System V AMD64 ABI 3.2.1: RBX, RBP, R12-R15; the caller
; saved the rest) on the current kernel stack, stores RSP in *save, loads
; RSP = next and pops the same registers from there. The RET then returns
; wherever that stack last called proc_switch, or, for a process that
; never ran, into proc_first_entry.
; proc_first_entry: a new process's first return lands here with RSP at the
; struct trap_frame proc.c built at the top of its kernel stack; isr.asm's
; isr_return pops it and IRETQs to ring 3 (the same path as user_enter).
; Debug builds call proc_first_entry_break(frame) first, which stops Bochs
; before the first process's first IRETQ (proc.c); RSP = the frame is
; 16-byte aligned (struct trap_frame is 176 bytes under a page-aligned top).

extern isr_return
%ifdef PAGELAB_DEBUG
extern proc_first_entry_break
%endif
global proc_switch, proc_first_entry

section .text
bits 64

proc_switch:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

proc_first_entry:
%ifdef PAGELAB_DEBUG
    mov rdi, rsp                    ; the trap frame (isr_return pops it all)
    call proc_first_entry_break
%endif
    jmp isr_return
