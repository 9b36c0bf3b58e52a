; bare_mbr.asm - the baseline for pagelab's boot-time benchmark: a boot
; sector that prints one line on COM1 and halts at once, so that
; `make bench` can time "BIOS + nothing" next to "BIOS + pagelab" the same
; way (until a marker line appears on serial).
bits 16
org 0x7C00
    mov si, msg
    mov dx, 0x3F8
.next:
    lodsb
    test al, al
    jz .halt
    out dx, al
    jmp .next
.halt:
    cli
    hlt
    jmp .halt
msg: db "bare mbr: halted", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
