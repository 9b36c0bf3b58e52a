; ring3_user.asm - the ring-3 side of the ring-3 tests (tests/guest/ring3.c)
; and of the bench's system-call figure: small position-independent
; routines, copied as one blob (ring3_user_start .. ring3_user_end) into a
; user code page and entered at their offsets. They run in ring 3 and
; reach the kernel only by SYSCALL (include/syscall.h's convention).
; The system-call numbers reach them through two dwords of the blob that
; the harness writes before it copies (include/syscall.h holds an enum,
; which NASM cannot read): u_nr_exit = SYS_EXIT, u_nr_getpid = SYS_GETPID.
; Each routine: In = the registers the harness preset; Out = SYS_EXIT's
; argument (RDI) and the registers at that SYSCALL, or a fault.

global ring3_user_start, ring3_user_end
global u_call_exit, u_preserve, u_read, u_write, u_loop, u_bench, u_bench_empty
global u_nr_exit, u_nr_getpid, u_message, u_message_end

section .rodata
bits 64
align 16
ring3_user_start:

; u_call_exit - one system call as preset (RAX = number, RDI, RSI, ...),
; then exit(its result).
u_call_exit:
    syscall
    mov rdi, rax
    mov eax, [rel u_nr_exit]
    syscall
    ud2

; u_preserve - RAX = SYS_GETPID, every other register a pattern: the
; system call, its result stored at [RSP] (the stack page), then exit with
; every register but RAX, RCX, R11 still the pattern, for ring3.c to read
; in the exit frame.
u_preserve:
    syscall
    mov [rsp], rax
    mov eax, [rel u_nr_exit]
    syscall
    ud2

; u_read - read a qword at RDI (ring3.c passes addresses ring 3 must not
; read), then exit(0).
u_read:
    mov rax, [rdi]
    xor edi, edi
    mov eax, [rel u_nr_exit]
    syscall
    ud2

; u_write - write a byte at RDI, then exit(0).
u_write:
    mov byte [rdi], 0
    xor edi, edi
    mov eax, [rel u_nr_exit]
    syscall
    ud2

; u_loop - for (;;); with interrupts on: only the timer gets the CPU back.
u_loop:
    jmp u_loop

; u_bench - exit(TSC difference around one SYS_GETPID): under QEMU's
; -icount shift=0 the instructions from the first RDTSC to the second.
; u_bench_empty - the same sequence with the SYSCALL left out (its figure
; is taken out of u_bench's, leaving the SYSCALL ... SYSRETQ round trip).
u_bench:
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov rbx, rax
    mov eax, [rel u_nr_getpid]
    syscall
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, rbx
    mov rdi, rax
    mov eax, [rel u_nr_exit]
    syscall
    ud2
u_bench_empty:
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov rbx, rax
    mov eax, [rel u_nr_getpid]
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, rbx
    mov rdi, rax
    mov eax, [rel u_nr_exit]
    syscall
    ud2

align 4
u_nr_exit:   dd 0
u_nr_getpid: dd 0
u_message:   db "ring3: hello from ring 3 through SYS_WRITE", 10
u_message_end:
ring3_user_end:

