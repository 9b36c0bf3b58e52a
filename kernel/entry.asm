; entry.asm - the kernel's first instruction.
;
; stage2 jumps here in 64-bit mode with RDI = struct boot_info * (identity
; mapped), RSP = 16-byte aligned top of the kernel stack, interrupts off.
; We clear the direction flag and RBP (end of the frame-pointer chain) and
; call kmain(boot_info); the call leaves RSP = 8 mod 16 as the SysV ABI
; expects at a function's entry. kmain never returns.

extern kmain
global kernel_entry

section .text.entry
bits 64
kernel_entry:
    cli
    cld
    xor ebp, ebp
    call kmain
.halt:
    cli
    hlt
    jmp .halt
