; ring_entry.asm - the crossings between ring 3 and ring 0 that C cannot
; make: SYSCALL's entry and SYSRET's exit, the first entry into ring 3
; (IRETQ from a made-up trap frame) and the way back to the kernel code
; that entered it.
;
; Stacks (single CPU, documented in NOTES.md "The user/kernel split"):
; SYSCALL does not switch stacks (SDM Vol. 3A 5.8.8), so the entry swaps
; RSP itself: it parks the user RSP in ring_user_rsp and loads
; ring_kernel_rsp, the same stack top the TSS gives interrupts from ring 3
; (RSP0; ring.c sets both). Two globals instead of SWAPGS and a per-CPU
; area reached through KERNEL_GS_BASE: there is one CPU, SYSCALL's FMASK
; clears IF so nothing can run between the two moves, and the user's GS is
; never touched (no SWAPGS to get wrong on an interrupt path). An SMP
; kernel needs SWAPGS here and in every stub that can come from ring 3.

extern syscall_dispatch, ring_refuse_sysret
extern isr_return
global syscall_entry, user_enter, user_leave
global ring_kernel_rsp

section .bss
align 8
ring_kernel_rsp: resq 1             ; top of the kernel stack for ring 3 -> 0
ring_user_rsp:   resq 1             ; the user RSP while a system call runs
ring_enter_rsp:  resq 1             ; user_enter's frame: user_leave returns there

section .text
bits 64

; syscall_entry - LSTAR's target: the SYSCALL instruction lands here.
; In: ring 0, RCX = user RIP after the SYSCALL, R11 = user RFLAGS, RSP =
;     the user's, IF/DF/TF/AC clear (FMASK), RAX = number, RDI RSI RDX
;     R10 R8 R9 = arguments (include/syscall.h).
; Builds struct syscall_frame (kernel/syscall.h) on the kernel stack, calls
; syscall_dispatch(frame), which leaves the result in frame->rax, and
; returns to ring 3 with SYSRETQ: every register but RAX, RCX and R11 as
; the user left it (RCX and R11 as SYSRET needs them: RIP and RFLAGS).
; A frame->rip that is not a canonical lower-half address is refused
; instead: SYSRET would raise #GP in ring 0 with the user's RSP loaded
; (SDM Vol. 2B SYSRET, Intel only; the CVE-2012-0217 bug).
syscall_entry:
    mov [rel ring_user_rsp], rsp
    mov rsp, [rel ring_kernel_rsp]
    push qword [rel ring_user_rsp]  ; frame->rsp
    push r11                        ; frame->rflags
    push rcx                        ; frame->rip
    push rax
    push rbx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r12
    push r13
    push r14
    push r15                        ; 16 pushes: RSP still 16-byte aligned
    mov rdi, rsp                    ; struct syscall_frame *
    call syscall_dispatch
    mov rcx, [rsp + 13 * 8]         ; frame->rip
    shr rcx, 47                     ; nonzero: non-canonical or upper half
    jnz .refuse
    pop r15
    pop r14
    pop r13
    pop r12
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rbx
    pop rax
    pop rcx                         ; RIP for SYSRET
    pop r11                         ; RFLAGS for SYSRET
    pop rsp                         ; the user's stack; nothing runs on it in ring 0
    o64 sysret                      ; CS = 0x23, SS = 0x1B (kernel/cpu/gdt.h)
.refuse:
    mov rdi, rsp
    call ring_refuse_sysret         ; does not return (user_leave)
    ud2

; user_enter - enter ring 3 with the registers of a struct trap_frame
; (kernel/trap.h; rip, cs, rflags, rsp, ss as IRETQ pops them), by the
; path of any return from an interrupt (isr.asm's isr_return).
; In: RDI = the frame (it is read, not kept). Out: RAX = the value given
; to user_leave, when ring 3 is done. Saves and restores the callee-saved
; registers and SS, DS, ES (IRETQ to ring 3 loads null into DS and ES,
; SDM Vol. 2A IRET; an interrupt from ring 3 loads a null SS, 6.14.4).
; Clobbers what a C call may. Not reentrant: one ring-3 entry at a time.
user_enter:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov ax, ss
    push rax
    mov ax, ds
    push rax
    mov [rel ring_enter_rsp], rsp
    mov rsp, rdi
    jmp isr_return

; user_leave - back to the kernel code that called user_enter, which then
; returns the value given. Called (noreturn) from C on a ring-0 stack:
; the system-call or interrupt stack of ring 3's entry, which is abandoned.
; In: RDI = the value. Interrupts stay as they are (off in the kernel).
user_leave:
    mov rsp, [rel ring_enter_rsp]
    mov rax, rdi
    pop rcx
    mov ds, cx
    mov es, cx
    pop rcx
    mov ss, cx
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
