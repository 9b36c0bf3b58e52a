; stage1.asm - pagelab's master boot record (exactly 512 bytes).
;
; The BIOS loads this sector at 0000:7C00 and jumps to it with the boot drive
; in DL. stage1 reads stage2 from the sectors the image builder recorded in
; the locator field (MBR_LOCATOR_OFFSET: u32 LBA, u16 sector count), checks
; stage2's signature and jumps to it with:
;   DL = boot drive, CS = DS = ES = SS = 0, SP just below 0x7C00,
;   the MBR (with its partition table) still at 0000:7C00,
;   the TSC at stage1 entry stored at STAGE1_TSC_ADDR (8 bytes).
; Errors print "stage1: <what>" on VGA (INT 10h AH=0Eh) and COM1,
; then halt: no silent hang, no reboot.

%include "layout.inc"

%define BIOS_VIDEO        0x10
%define BIOS_DISK         0x13
%define DISK_RESET        0x00      ; INT 13h AH=00h reset disk system
%define DISK_READ_CHS     0x02      ; INT 13h AH=02h read sectors (CHS)
%define DISK_GET_PARAMS   0x08      ; INT 13h AH=08h get drive parameters
%define DISK_EXT_CHECK    0x41      ; INT 13h AH=41h extensions installation check
%define DISK_EXT_READ     0x42      ; INT 13h AH=42h extended read (DAP)
%define VIDEO_TELETYPE    0x0E      ; INT 10h AH=0Eh teletype output
%define READ_TRIES        3
%define MAX_SECTORS_PER_CALL 127    ; Phoenix EDD 3.0: some BIOSes cap a DAP at 127
%define STAGE2_MAX_SECTORS ((STAGE2_LIMIT - STAGE2_ADDR) / SECTOR_SIZE)

bits 16
org STAGE1_ADDR

start:
    jmp 0:normalise                 ; some BIOSes enter at 07C0:0000: force CS=0
normalise:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, STAGE1_ADDR
    sti
    cld
    test dl, 0x80                   ; a hard-disk number has bit 7 set
    jnz .drive_ok
    mov dl, 0x80                    ; broken BIOS: assume the first hard disk
.drive_ok:
    mov [drive], dl
    rdtsc                           ; boot-time stamp for BootInfo (clobbers EDX)
    mov [STAGE1_TSC_ADDR], eax
    mov [STAGE1_TSC_ADDR + 4], edx

    ; Phoenix EDD: AH=41h, BX=55AAh -> CF clear, BX=AA55h, CX bit 0 = DAP access
    mov ah, DISK_EXT_CHECK
    mov bx, 0x55AA
    int BIOS_DISK
    jc .use_chs
    cmp bx, 0xAA55
    jne .use_chs
    test cl, 1
    jz .use_chs
    inc byte [use_lba]
    jmp .load
.use_chs:
    ; AH=08h: CL[5:0] = sectors per track, DH = last head index
    mov ah, DISK_GET_PARAMS
    mov dl, [drive]
    xor di, di                      ; ES:DI = 0 works around buggy BIOSes
    int BIOS_DISK
    mov si, msg_geometry
    jc fail
    and cx, 0x3F
    jz fail
    mov [spt], cx
    movzx dx, dh
    inc dx
    mov [heads], dx

.load:
    mov si, msg_locator
    mov cx, [STAGE1_ADDR + MBR_LOCATOR_OFFSET + 4]  ; sectors to read
    test cx, cx
    jz fail                                         ; the builder never patched us
    cmp cx, STAGE2_MAX_SECTORS
    ja fail
    mov ax, [STAGE1_ADDR + MBR_LOCATOR_OFFSET]      ; LBA (stage2 sits in the first 64K sectors)
    mov bx, STAGE2_ADDR >> 4                        ; destination segment, offset 0
.next_chunk:
    call read_chunk                                 ; AX=LBA, BX=segment, CX=left -> advanced
    test cx, cx
    jnz .next_chunk

    mov si, msg_signature
    cmp dword [STAGE2_ADDR], STAGE2_MAGIC
    jne fail
    mov dl, [drive]
    jmp 0:STAGE2_ENTRY

; read_chunk - read up to CX sectors at LBA AX to BX:0000, never crossing a
; 64 KiB physical boundary (ISA DMA limit; Phoenix EDD 3.0 4.2) nor, for CHS,
; a track. Retries after a disk reset; halts with a message when out of tries.
; In: AX = LBA, BX = dest segment, CX = sectors left.
; Out: AX, BX, CX advanced past the sectors read. Clobbers: DX, SI, DI, BP.
read_chunk:
    mov bp, bx
    and bp, 0x0FFF                  ; paragraphs into the current 64 KiB
    neg bp
    add bp, 0x1000                  ; paragraphs left before the boundary
    shr bp, 5                       ; -> sectors (32 paragraphs each)
    cmp bp, cx
    jbe .fits_64k
    mov bp, cx
.fits_64k:
    cmp bp, MAX_SECTORS_PER_CALL
    jbe .count_ok
    mov bp, MAX_SECTORS_PER_CALL
.count_ok:
    mov di, READ_TRIES
.retry:
    pusha
    cmp byte [use_lba], 0
    je .chs
    mov [dap.count], bp
    mov [dap.segment], bx
    mov [dap.lba], ax
    mov si, dap
    mov ah, DISK_EXT_READ
    jmp .call
.chs:
    xor dx, dx
    div word [spt]                  ; AX = track, DX = sector index
    mov cx, dx
    inc cx                          ; CHS sectors count from 1
    sub dx, [spt]
    neg dx                          ; sectors left on this track
    cmp bp, dx
    jbe .track_ok
    mov bp, dx
.track_ok:
    xor dx, dx
    div word [heads]                ; AX = cylinder, DX = head
    mov dh, dl
    mov ch, al                      ; cylinder bits 7:0
    shl ah, 6
    or cl, ah                       ; cylinder bits 9:8 in CL[7:6]
    mov es, bx
    xor bx, bx
    mov ax, bp
    mov ah, DISK_READ_CHS           ; AL = count
.call:
    mov [chunk_count], bp             ; sectors this call really reads
    mov dl, [drive]
    int BIOS_DISK
    popa
    jnc .done
    pusha
    mov ah, DISK_RESET
    mov dl, [drive]
    int BIOS_DISK
    popa
    dec di
    jnz .retry
    mov si, msg_read
    jmp fail
.done:
    mov bp, [chunk_count]
    add ax, bp
    sub cx, bp
    shl bp, 5
    add bx, bp
    ret

; fail - print "stage1: " and the string at SI, then halt for good.
fail:
    push si
    mov si, msg_prefix
    call print
    pop si
    call print
.halt:
    cli
    hlt
    jmp .halt

; print - NUL-terminated string at DS:SI to VGA (INT 10h AH=0Eh) and COM1
; (stage2 programs the UART properly; here the BIOS's setting is used).
; Clobbers: AX, BX, DX, SI.
print:
    lodsb
    test al, al
    jz .end
    mov dx, COM1_PORT
    out dx, al
    mov ah, VIDEO_TELETYPE
    xor bx, bx
    int BIOS_VIDEO
    jmp print
.end:
    ret

msg_prefix:    db 13, 10, "stage1: ", 0
msg_geometry:  db "no geometry", 0   ; INT 13h AH=08h failed (no extensions either)
msg_locator:   db "no locator", 0    ; image not made by disk/mkimage.py
msg_read:      db "read error", 0    ; INT 13h read failed 3 times
msg_signature: db "bad stage2", 0    ; stage2's first dword is not STAGE2_MAGIC

drive:     db 0
use_lba:   db 0
chunk_count: dw 0
spt:       dw 0
heads:     dw 0

; Disk address packet for AH=42h (Phoenix EDD 3.0, 4.1)
dap:
    db 16, 0
.count:   dw 0
          dw 0                      ; offset
.segment: dw 0
.lba:     dd 0, 0

    times MBR_LOCATOR_OFFSET - ($ - $$) db 0   ; fails to assemble if code grows too big
stage2_lba:     dd 0                ; written by disk/mkimage.py
stage2_sectors: dw 0
                dw 0
disk_signature: dd 0
                dw 0
    times MBR_PART_TABLE_OFFSET - ($ - $$) db 0
partition_table:
    times 64 db 0                   ; written by disk/mkimage.py
    dw 0xAA55
