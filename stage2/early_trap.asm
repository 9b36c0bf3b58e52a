; early_trap.asm - a last-resort IDT for the kernel's first instructions.
;
; Between the jump to the kernel and the kernel's own IDT (kernel/trap.c,
; trap_init) any CPU exception would find no IDT and end in a triple fault
; and a reset. enter_long_mode (longmode.asm) calls early_trap_install just
; before that jump: 32 interrupt gates (Intel SDM Vol. 3A 6.14.1, 64-bit
; IDT gate descriptors) lead to stubs that print
;   pagelab stage2: error: CPU exception 0xNN (error code 0x...) at RIP 0x...,
;   CR2 0x..., before the kernel installed its IDT
;   pagelab stage2: boot stopped
; on COM1 and on the last three VGA rows, then halt. The kernel's lidt
; replaces this IDT; its memory (stage2's .bss) stays the loader's.
; Everything here runs in 64-bit mode on the loader's page tables: the code
; is in the trampoline page (the only executable stage2 page), the IDT and
; the cursor in .bss and the text in .rodata (identity-mapped, no-execute).
; stage2 is an ELF32 object: addresses are 32-bit absolutes (all below 1 MiB).

%include "layout.inc"
%include "x86.inc"

global early_trap_install

%define VECTORS        X86_EXCEPTION_VECTORS
%define STUB_SIZE      16
%define GATE_SIZE      16
%define GATE_INTERRUPT 0x8E00            ; present, DPL 0, type 0xE: 64-bit interrupt gate
%define VGA_TEXT       VGA_TEXT_ADDR     ; include/layout.h, through layout.inc
%define VGA_CELLS      (VGA_COLS * VGA_ROWS)
%define VGA_FIRST_ROW  21                ; "\r\n" first: the message fills rows 22-24
%define VGA_ATTR       0x4F              ; white on red
%define UART_LSR       5                 ; line status register
%define UART_THRE      0x20              ; transmit holding register empty
%define UART_SPIN      100000            ; a missing UART never hangs us

section .trampoline progbits alloc exec nowrite
bits 64

; early_trap_install - fill early_idt with one gate per stub and load it.
; In: nothing (64-bit mode, loader page tables). Out: IDTR = early_idt.
; Clobbers: RAX, RCX, RDX (RSI and RDI are kept: they carry the handoff).
early_trap_install:
    push rdi
    mov edi, early_idt
    mov edx, early_stubs
    xor ecx, ecx
.gate:
    mov eax, edx
    mov [rdi], ax                   ; offset 15:0
    mov word [rdi + 2], SEL_CODE64
    mov word [rdi + 4], GATE_INTERRUPT  ; IST 0, type and present
    shr eax, 16
    mov [rdi + 6], ax               ; offset 31:16
    mov qword [rdi + 8], 0          ; offset 63:32 and reserved
    add edi, GATE_SIZE
    add edx, STUB_SIZE
    inc ecx
    cmp ecx, VECTORS
    jb .gate
    lidt [early_idtr]
    pop rdi
    ret

; One stub per vector, STUB_SIZE bytes each: the same stack for every
; vector (a dummy error code where the CPU pushes none, SDM 6.3.1, then
; the vector number).
align STUB_SIZE
early_stubs:
%assign v 0
%rep VECTORS
    align STUB_SIZE
  %if (X86_ERROR_CODE_VECTORS >> v) & 1
    push qword v
  %else
    push qword 0
    push qword v
  %endif
    jmp early_report
%assign v v + 1
%endrep

; early_report - print the exception and stop. Stack: vector, error code,
; then the CPU's RIP, CS, RFLAGS, RSP, SS. Never returns.
early_report:
    mov dword [early_vga_pos], VGA_FIRST_ROW * VGA_COLS
    mov esi, msg_head
    call early_puts
    mov rax, [rsp]                  ; vector
    mov ecx, 2
    call early_hex
    mov esi, msg_code
    call early_puts
    mov rax, [rsp + 8]              ; error code
    mov ecx, 8
    call early_hex
    mov esi, msg_rip
    call early_puts
    mov rax, [rsp + 16]             ; RIP of the faulting instruction
    mov ecx, 16
    call early_hex
    mov esi, msg_cr2
    call early_puts
    mov rax, cr2                    ; the address of the last page fault
    mov ecx, 16
    call early_hex
    mov esi, msg_tail
    call early_puts
    mov al, DEBUG_EXIT_STOPPED      ; the boot ended: QEMU exits if `make run EXIT=1`
    out DEBUG_EXIT_PORT, al         ; added the device (common/io.h halt_with)
.halt:
    cli
    hlt
    jmp .halt

; early_puts - NUL-terminated string at RSI. Clobbers: RAX, RSI.
early_puts:
    lodsb
    test al, al
    jz .end
    call early_putc
    jmp early_puts
.end:
    ret

; early_hex - the low ECX hex digits of RAX, most significant first.
; Clobbers: RAX, RCX, RDX.
early_hex:
    mov rdx, rax
.digit:
    dec ecx
    mov rax, rdx
    shl ecx, 2
    shr rax, cl                     ; SHR by CL: the digit to the bottom
    shr ecx, 2
    and eax, 0xF
    mov al, [hex_digits + rax]
    call early_putc
    test ecx, ecx
    jnz .digit
    ret

; early_putc - AL to COM1 (bounded wait) and to the VGA screen at
; early_vga_pos ('\n' goes to the next row, '\r' is skipped). Keeps every
; register but the flags.
early_putc:
    push rax
    push rcx
    push rdx
    mov ah, al
    mov dx, COM1_PORT + UART_LSR
    mov ecx, UART_SPIN
.wait:
    in al, dx
    test al, UART_THRE
    jnz .send
    dec ecx
    jnz .wait
.send:
    mov al, ah
    mov dx, COM1_PORT
    out dx, al
    mov ecx, [early_vga_pos]
    cmp al, 13
    je .done
    cmp al, 10
    je .newline
    cmp ecx, VGA_CELLS
    jae .done
    mov ah, VGA_ATTR
    mov [VGA_TEXT + rcx * 2], ax
    inc dword [early_vga_pos]
    jmp .done
.newline:
    mov eax, ecx
    xor edx, edx
    mov ecx, VGA_COLS
    div ecx                         ; EAX = row
    inc eax
    imul eax, eax, VGA_COLS
    mov [early_vga_pos], eax
.done:
    pop rdx
    pop rcx
    pop rax
    ret

section .rodata
hex_digits: db "0123456789abcdef"
msg_head:   db 13, 10, "pagelab stage2: error: CPU exception 0x", 0
msg_code:   db " (error code 0x", 0
msg_rip:    db ") at RIP 0x", 0
msg_cr2:    db ", CR2 0x", 0
msg_tail:   db ", before the kernel installed its IDT", 13, 10
            db "pagelab stage2: boot stopped", 13, 10, 0

section .data
align 8
early_idtr:
    dw VECTORS * GATE_SIZE - 1
    dd early_idt, 0                 ; 64-bit base: a 32-bit absolute below 1 MiB (ELF32 object)

section .bss
align 16
early_idt:     resb VECTORS * GATE_SIZE
early_vga_pos: resd 1
