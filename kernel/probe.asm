; probe.asm - memory accesses that may fault on purpose.
;
; The tests and the blog's experiments provoke faults (write to code, fetch
; from no-execute, touch an unmapped or non-canonical address) and must get
; control back. Each probe stores where to resume (probe_resume_rip/rsp);
; trap_dispatch sees a fault while a probe is armed, records it and resumes
; there with RAX = 1. Without a fault the probe returns 0.
; All: In RDI = address (RSI = byte to write). Out: RAX = 0 or 1.
; Clobbers: RAX, RCX.

global probe_read, probe_write, probe_exec
global probe_resume_rip, probe_resume_rsp

section .text
bits 64
%macro ARM 0
    lea rcx, [rel .faulted]
    mov [rel probe_resume_rip], rcx
    mov [rel probe_resume_rsp], rsp
%endmacro
%macro DISARM_RET 0
    mov qword [rel probe_resume_rip], 0
    xor eax, eax
    ret
.faulted:
    mov eax, 1                      ; trap_dispatch disarmed the probe
    ret
%endmacro

probe_read:
    ARM
    mov al, [rdi]
    DISARM_RET

probe_write:
    ARM
    mov [rdi], sil
    DISARM_RET

probe_exec:                         ; calls RDI: the target must be "ret" to succeed
    ARM
    call rdi
    DISARM_RET

section .bss
align 8
probe_resume_rip: resq 1
probe_resume_rsp: resq 1
