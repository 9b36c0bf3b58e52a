/*
 * elf.h - the ELF64 structures and checks shared by stage2 (the kernel
 * file) and the kernel (user programs, kernel/proc/image.c): one checker
 * for every executable pagelab loads.
 *
 * stage2 reads the kernel file, calls elf_check_header on its first bytes,
 * elf_collect_segments on the program headers and elf_check_entry on the
 * result, and only then copies segments to their physical addresses. Every
 * way a kernel file can be wrong has its own error code, so the loader can
 * say what is wrong instead of triple-faulting later.
 *
 * Structures and constants: System V ABI, "Generic ABI" (gABI), chapter 4
 * "Object Files" (ELF header, e_ident) and chapter 5 "Program Loading"
 * (program header); EM_X86_64 from the System V AMD64 psABI, section 4.1.
 * Pure C, no allocation, no 64-bit division: builds for stage2 (32-bit,
 * freestanding) and for the host tests.
 */
#ifndef COMMON_ELF_H
#define COMMON_ELF_H

#include <stdint.h>

/* ---- gABI, "ELF Header" ---- */
#define EI_NIDENT     16
#define EI_MAG0       0     /* e_ident[] indices */
#define EI_CLASS      4
#define EI_DATA       5
#define EI_VERSION    6
#define ELFMAG0       0x7F
#define ELFMAG1       'E'
#define ELFMAG2       'L'
#define ELFMAG3       'F'
#define ELFMAG_LEN    4
#define ELFCLASS32    1
#define ELFCLASS64    2
#define ELFDATA2LSB   1     /* two's complement, little-endian */
#define EV_CURRENT    1
#define ET_EXEC       2     /* executable file (fixed addresses) */
#define EM_X86_64     62    /* AMD x86-64 (psABI 4.1) */
#define PN_XNUM       0xFFFF /* e_phnum escape: real count in section 0 */

typedef struct {
    unsigned char e_ident[EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;      /* virtual address of the entry point */
    uint64_t e_phoff;      /* file offset of the program header table */
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;  /* bytes per program header */
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
} Elf64_Ehdr;

/* ---- gABI, "Program Header" ---- */
#define PT_LOAD  1
#define PT_NOTE  4
#define PF_X     0x1
#define PF_W     0x2
#define PF_R     0x4

typedef struct {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;   /* file offset of the segment's first byte */
    uint64_t p_vaddr;
    uint64_t p_paddr;    /* where stage2 copies it (identity at load time) */
    uint64_t p_filesz;   /* bytes in the file; the rest of memsz is zero */
    uint64_t p_memsz;
    uint64_t p_align;
} Elf64_Phdr;

/* ---- gABI, "Note Section": a note's header, then the name (namesz bytes,
 * its NUL included) and the description (descsz bytes), each starting at
 * a multiple of the PT_NOTE's alignment (4, or 8 where p_align says so) ---- */
typedef struct {
    uint32_t n_namesz;
    uint32_t n_descsz;
    uint32_t n_type;     /* meaning set by the owner the name gives */
} Elf64_Nhdr;

_Static_assert(sizeof(Elf64_Nhdr) == 12, "gABI: a note header is three words");
_Static_assert(sizeof(Elf64_Ehdr) == 64, "gABI: ELF64 header is 64 bytes");
_Static_assert(sizeof(Elf64_Phdr) == 56, "gABI: ELF64 program header is 56 bytes");

/* One PT_LOAD segment, as checked by elf_collect_segments. */
struct elf_segment {
    uint64_t offset;   /* file offset */
    uint64_t paddr;
    uint64_t vaddr;
    uint64_t filesz;
    uint64_t memsz;
    uint32_t flags;    /* PF_R / PF_W / PF_X */
};

/* A physical range [start, end) that no segment may touch (loader memory). */
struct elf_range {
    uint64_t start;
    uint64_t end;
};

/* Error codes (negative); elf_strerror gives the message. */
enum elf_error {
    ELF_ERR_TOO_SMALL = -1,      /* file shorter than an ELF64 header */
    ELF_ERR_MAGIC = -2,          /* no \x7FELF */
    ELF_ERR_CLASS32 = -3,        /* ELFCLASS32 */
    ELF_ERR_CLASS = -4,          /* EI_CLASS neither 32 nor 64 */
    ELF_ERR_ENDIAN = -5,         /* not ELFDATA2LSB */
    ELF_ERR_VERSION = -6,        /* EI_VERSION / e_version not EV_CURRENT */
    ELF_ERR_MACHINE = -7,        /* e_machine != EM_X86_64 */
    ELF_ERR_NOT_EXEC = -8,       /* e_type != ET_EXEC */
    ELF_ERR_PHENTSIZE = -9,      /* e_phentsize != sizeof(Elf64_Phdr) */
    ELF_ERR_PHNUM_XNUM = -10,    /* e_phnum == PN_XNUM (not supported) */
    ELF_ERR_PHDRS_OUTSIDE = -11, /* program header table past end of file */
    ELF_ERR_NO_LOAD = -12,       /* no non-empty PT_LOAD */
    ELF_ERR_TOO_MANY_LOADS = -13,/* more PT_LOAD segments than cap */
    ELF_ERR_SEG_OUTSIDE = -14,   /* p_offset + p_filesz past end of file */
    ELF_ERR_FILESZ = -15,        /* p_filesz > p_memsz */
    ELF_ERR_CONGRUENCE = -16,    /* p_vaddr != p_paddr modulo PAGE_SIZE */
    ELF_ERR_OVERLAP = -17,       /* two segments share a page */
    ELF_ERR_FORBIDDEN = -18,     /* a segment's pages touch loader memory */
    ELF_ERR_ENTRY = -19,         /* e_entry not in an executable segment */
    ELF_ERR_ADDR_OVERFLOW = -20, /* address + memsz wraps past 2^64 */
    ELF_ERR_NONCANONICAL = -21,  /* virtual pages not canonical, or across the hole */
    ELF_ERR_NOTE_TRUNCATED = -22,/* a note's header, name or description runs past its PT_NOTE */
};

/* A note found by elf_find_note: its description, inside the caller's bytes. */
struct elf_note {
    const uint8_t *desc;
    uint32_t descsz;
};

/*
 * elf_check_header - validate the ELF header of the kernel file.
 *
 * buf holds the first buf_len bytes of the file (at least 64 for success);
 * file_size is the whole file's size. Checks magic, class (ELF64), data
 * encoding (little-endian), version, machine (x86-64), type (ET_EXEC),
 * e_phentsize and that the program header table lies inside the file.
 * On success stores the table's file offset, its entry count (may be 0: see
 * elf_collect_segments) and e_entry, and returns 0; otherwise returns an
 * ELF_ERR_* code and leaves the outputs alone. Does not read the program
 * headers themselves (they may not be in buf).
 */
int elf_check_header(const void *buf, uint32_t buf_len, uint64_t file_size,
                     uint64_t *phoff, uint32_t *phnum, uint64_t *entry);

/*
 * elf_collect_segments - validate the program headers and list the PT_LOAD
 * segments.
 *
 * phdrs points to phnum Elf64_Phdr read from the file (any alignment).
 * Non-PT_LOAD headers and PT_LOADs with p_memsz == 0 are skipped. For each
 * other one checks: p_filesz <= p_memsz; its file bytes inside file_size;
 * paddr + memsz and vaddr + memsz do not wrap (rounded up to a page);
 * vaddr and paddr congruent modulo PAGE_SIZE; its virtual pages canonical
 * and in one half of the address space (a jump to a non-canonical address
 * faults before the kernel has an IDT: a triple fault); its pages (physical and
 * virtual) shared with no earlier segment, since every page gets a single
 * permission; its physical pages outside every forbidden[] range (rounded
 * outward to pages). Writes up to cap segments to out[] in file order and
 * their number to *count. Returns 0, or an ELF_ERR_* code (ELF_ERR_NO_LOAD
 * when none, ELF_ERR_TOO_MANY_LOADS when more than cap); out[] and *count
 * are then unspecified. Does not check the entry point: elf_check_entry.
 */
int elf_collect_segments(const void *phdrs, uint32_t phnum, uint64_t file_size,
                         const struct elf_range *forbidden, uint32_t nforbidden,
                         struct elf_segment *out, uint32_t cap, uint32_t *count);

/*
 * elf_check_entry - 0 when the virtual address entry lies inside a segment
 * of segs[0..count) that has PF_X, else ELF_ERR_ENTRY.
 */
int elf_check_entry(const struct elf_segment *segs, uint32_t count,
                    uint64_t entry);

/*
 * elf_find_note - the first note of owner `name` and type `type` in
 * notes[0..len), the bytes of one PT_NOTE segment whose p_align is align
 * (8: the description and the next note start at multiples of 8 from the
 * segment's start; anything else: of 4, what GNU ld writes for .note).
 * Notes of other owners or types are skipped: the gABI gives every owner
 * its own types. The name matches when namesz is strlen(name) + 1 and the
 * bytes, NUL included, are equal. Returns 1 and fills *out when found, 0
 * when no note matches, ELF_ERR_NOTE_TRUNCATED when a note's header, name
 * or description runs past len (the padding after the last description
 * may be missing). Does not check the description's size: the owner's
 * reader does.
 */
int elf_find_note(const void *notes, uint64_t len, uint64_t align, const char *name,
                  uint32_t type, struct elf_note *out);

/* Message for an ELF_ERR_* code ("unknown error" for anything else). */
const char *elf_strerror(int err);

#endif
