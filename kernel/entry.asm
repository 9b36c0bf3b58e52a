; entry.asm - the kernel's first instruction.
;
; stage2 jumps here in 64-bit mode with RDI = struct boot_info * (identity
; mapped), RSP = 16-byte aligned top of the kernel stack, interrupts off.
; We clear the direction flag and RBP (end of the frame-pointer chain) and
; call kmain(boot_info); the call leaves RSP = 8 mod 16 as the SysV ABI
; expects at a function's entry. kmain never returns. Debug images stop
; in Bochs before the call (PAGELAB_BREAK, common/debug.inc).

%include "debug.inc"

extern kmain
global kernel_entry

section .text.entry
bits 64
kernel_entry:
    cli
    cld
    xor ebp, ebp
    PAGELAB_BREAK "kernel entry", \
        {"`page rip`: the kernel runs at its link address, through PML4[511] and", \
         " PDPT[510], on the frame 'link address - KERNEL_VIRT_OFFSET'; RDI = BootInfo:", \
         " `x /4gx rdi`", 13, 10, \
         "  look: `info tab` still shows exactly the loader's tables; next stop: the", \
         " strategy's first page-table access"}
    call kmain
.halt:
    cli
    hlt
    jmp .halt
