/*
 * syscall.h - the system-call interface between user programs (user/) and
 * the kernel (kernel/proc): numbers, error codes and the structures they
 * exchange. Shared by both sides, so a number is typed once.
 *
 * Convention (the System V AMD64 kernel convention, as Linux uses it): the
 * SYSCALL instruction (SDM Vol. 3A 5.8.8) with the number in RAX and up to
 * six arguments in RDI, RSI, RDX, R10, R8, R9 (RCX and R11 are taken by
 * SYSCALL for RIP and RFLAGS, so the fourth argument is in R10, not RCX).
 * The result comes back in RAX: >= 0 on success, a negative SYS_E* on
 * failure. RCX and R11 are clobbered; every other register is preserved.
 */
#ifndef PAGELAB_SYSCALL_H
#define PAGELAB_SYSCALL_H

#include <stdint.h>

enum sys_number {
    SYS_WRITE = 0,      /* write(buf, len): bytes to the console; returns len */
    SYS_EXIT,           /* exit(status): never returns */
    SYS_GETPID,         /* getpid(): the caller's pid */
    SYS_YIELD,          /* yield(): let the next runnable process run; returns 0 */
    SYS_FORK,           /* fork(): child's pid in the parent, 0 in the child */
    SYS_SPAWN,          /* spawn(name): a new process running module `name`; its pid */
    SYS_EXEC,           /* exec(name): replace the caller's image with module `name` */
    SYS_WAIT,           /* wait(pid, &status): reap a child (pid -1: any); its pid */
    SYS_SBRK,           /* sbrk(increment): the old break; the heap grows above the image */
    SYS_MMAP,           /* mmap(addr, len, prot, flags): anonymous, zero-filled on first
                           touch; SYS_MAP_SHARED: one set of frames shared with fork's
                           children; the address */
    SYS_MUNMAP,         /* munmap(addr, len) */
    SYS_MPROTECT,       /* mprotect(addr, len, prot) */
    SYS_TRANSLATE,      /* translate(va, &sys_translation): the kernel's pt_translate */
    SYS_VMSTAT,         /* vmstat(&sys_vmstat): the caller's counters */
    SYS_PAUSE,          /* pause(): blocks until the boot ends; the space stays for the listing */
    SYS_SHM,            /* shm(name, len, prot): maps the named shared segment (made, zero,
                           at its first call, len bytes); the address */
    SYS_REFS,           /* refs(base, pages, n, &pos): declares the caller's reference
                           string for replace=opt (kernel/proc/replace.h): reference k is
                           the heap page at base + pages[k] * 4096 (pages[k] below
                           SYS_REFS_PAGES, n at most SYS_REFS_MAX), and the uint32 pos
                           holds the index of the reference being made; n = 0 forgets */
    SYS_SLEEP,          /* sleep(ticks): blocks for that many timer ticks (kernel/cpu/
                           timer.h: 1 ms each), 1 to SYS_SLEEP_MAX; returns 0 */
    SYS_COUNT
};

/* Errors, returned negated. */
enum sys_error {
    SYS_EFAULT = 1,     /* a pointer argument is not mapped with the needed permission */
    SYS_EINVAL,         /* an argument is out of range or misaligned */
    SYS_ENOSYS,         /* no such system call */
    SYS_ENOMEM,         /* no frame or table left for it */
    SYS_ENOENT,         /* no module of that name */
    SYS_ENOEXEC,        /* the module is not a usable ELF64 executable */
    SYS_ECHILD,         /* no such child to wait for */
    SYS_EAGAIN,         /* no process slot free */
    SYS_ERROR_COUNT
};

/* mmap/mprotect permissions: read is implied by any mapping. */
#define SYS_PROT_WRITE  1
#define SYS_PROT_EXEC   2

/* mmap flags. */
#define SYS_MAP_SHARED  1   /* writes are seen by every process mapping it (fork keeps it
                               shared instead of copy-on-write) */

/* Limits a process meets as -SYS_ENOMEM / -SYS_EINVAL (tested at, below
 * and above each). */
#define SYS_REGIONS_MAX 32      /* regions (image, heap, stack, mappings) per process */
#define SYS_SHM_MAX     8       /* named shared segments alive at once */
#define SYS_SHM_NAME_MAX 16     /* bytes of a segment's name, NUL included */
#define SYS_SHM_PAGES_MAX 512   /* pages of one shared mapping (2 MiB) */
#define SYS_REFS_MAX    1024    /* references of a string SYS_REFS declares */
#define SYS_REFS_PAGES  65536   /* its page numbers are below this */
#define SYS_SLEEP_MAX   1000    /* ticks of one sleep: a second (a longer wait is a loop) */

/* translate's result: what the caller's own page tables say of va. */
struct sys_translation {
    uint64_t frame;     /* physical address of the page (va's page, not va) */
    uint64_t size;      /* 4096, 2 MiB or 1 GiB */
    uint32_t level;     /* the leaf's level: 1 (PT), 2 (PD) or 3 (PDPT) */
    uint32_t prot;      /* effective: SYS_PROT_WRITE | SYS_PROT_EXEC, plus SYS_TR_USER */
    uint32_t refs;      /* the frame's references (kernel/mm/frame_meta.h); 0: not counted */
    uint32_t flags;     /* SYS_TR_ZERO_FRAME */
};
#define SYS_TR_USER     4   /* in prot: user-accessible at every level */
#define SYS_TR_ZERO_FRAME 1 /* in flags: the one shared zero frame */

/* vmstat's result: the caller's process. */
struct sys_vmstat {
    uint64_t faults;      /* page faults taken by this process */
    uint64_t frames;      /* leaves its user half maps, not counting tables (the zero
                             frame counts once per page mapping it) */
    uint64_t tables;      /* page-table frames of its user half (levels 3 to 1) */
    /* how its faults were resolved (kernel/proc/vm.c) */
    uint64_t zero_fills;  /* a fresh zeroed frame: first touch by a write, or a write
                             over the zero frame */
    uint64_t zero_maps;   /* a read of never-written memory: the shared zero frame */
    uint64_t cow_copies;  /* a write to a frame others still share: copied */
    uint64_t cow_reuses;  /* a write by the frame's last sharer: W back, no copy */
    uint64_t shared_maps; /* a shared-memory frame mapped */
    uint64_t stack_pages; /* pages the stack grew down by */
    uint64_t invlpgs;     /* invlpg executed while resolving its faults */
    uint64_t flushes;     /* full TLB flushes while resolving its faults */
    uint64_t free_frames; /* the general zone's free frames now (the whole system) */
    uint64_t record_frames; /* frames the kernel's frame records keep for good (the whole
                             system; kernel/mm/frame_meta.h): free_frames + record_frames
                             moves only by what processes hold */
    uint64_t regions;     /* its regions */
    /* page replacement (kernel/proc/replace.h): its heap and anonymous pages */
    uint64_t swap_ins;    /* its faults that read a page back from swap */
    uint64_t evictions;   /* its pages evicted (by anyone's fault, under scope=global) */
    uint64_t writebacks;  /* of those, written to swap first */
    uint64_t clean_drops; /* of those, dropped without a write (a valid copy on swap) */
    uint64_t resident;    /* its pages on the replacement list now */
    uint64_t user_frames; /* the limit (user_frames=; 0: none), the whole system's */
    uint64_t swap_used;   /* swap slots in use now, the whole system's */
    uint64_t domain_faults; /* its faults that brought a heap or anonymous page into a
                             frame: zero-fill, copy or swap-in (a simulator's misses) */
    uint64_t quota;       /* its frames under scope=local (quota=) or scope=pff (now);
                             0 under scope=global */
    uint64_t ticks;       /* timer ticks since boot (the whole system's) */
    uint64_t samples;     /* ticks that sampled the Accessed bits (replace=nru, aging) */
    /* swap transfers (kernel/mm/swap.h), the whole system's: pages read and
       written, and the TSC cycles spent in the disk commands that moved them
       (the ATA PIO data transfer and its status waits; under QEMU's -icount
       shift=0, guest instructions): a fault's cost less these is the
       kernel's own work (user/swapbench.c) */
    uint64_t swap_reads;
    uint64_t swap_read_tsc;
    uint64_t swap_writes;
    uint64_t swap_write_tsc;
    uint64_t a_cleared;   /* its pages' Accessed bits cleared by Clock (second chances) */
    uint64_t scanned;     /* replacement-list entries the policy looked at, the whole
                             system's (Clock: each one under its hand) */
    char policy[8];       /* the replacement policy in force, by its replace= name
                             ("fifo", "clock", ...: kernel/config.h), NUL-terminated */
};

#endif
