/*
 * proc.h - processes: each an address space of its own (kernel/mm/pt.h's
 * struct pt_space, built by kernel/proc/image.c) with the kernel's shared
 * slots, a kernel stack of its own with a guard page below it, and the
 * registers it left ring 3 with. One CPU; the kernel runs with interrupts
 * off, ring 3 with them on, so the PIT's tick (kernel/cpu/timer.h)
 * preempts only user code. A round-robin scheduler switches kernel stacks
 * (switch.asm) and address spaces (a CR3 write, pt_space_activate).
 *
 * The kernel's boot context (kmain's stack) is the idle context: it runs
 * proc_run until no process can run, then lists the live ones' address
 * spaces with the final translations.
 */
#ifndef KERNEL_PROC_PROC_H
#define KERNEL_PROC_PROC_H

#include <stdint.h>
#include "bootinfo.h"
#include "image.h"
#include "pt.h"
#include "syscalls.h"
#include "livelock.h"
#include "trap.h"
#include "vm.h"

enum proc_state {
    PROC_FREE = 0,
    PROC_EMBRYO,       /* its space is being built (spawn, fork): not runnable yet */
    PROC_RUNNABLE,
    PROC_RUNNING,
    PROC_WAITING,      /* in SYS_WAIT for a child */
    PROC_PAUSED,       /* in SYS_PAUSE: until the boot ends */
    PROC_SLEEPING,     /* in SYS_SLEEP: until the tick count reaches wake_tick */
    PROC_ZOMBIE,       /* exited: its space is gone, its slot waits for the parent */
};

/* A process killed by a fault exits with this status. */
#define PROC_KILLED_STATUS (-1)

struct proc {
    int pid;
    enum proc_state state;
    char name[BOOT_MODULE_NAME_MAX];
    struct pt_space *space;    /* its address space: one of the two below */
    struct pt_space spaces[2]; /* exec builds the new one beside the old */
    struct image img;
    uint64_t brk;              /* the heap's end (sbrk); starts at img.end */
    uint64_t mmap_next;        /* where the next mmap without an address goes */
    struct proc *parent;       /* NULL: started by the kernel */
    long wait_for;             /* PROC_WAITING: the pid waited for, or -1 */
    uint64_t wake_tick;        /* PROC_SLEEPING: the tick it runs again at */
    int exit_status;
    struct vm vm;              /* its regions and fault counters */
    struct livelock ll;        /* one instruction's faults (kernel/proc/livelock.h) */
    uint64_t kstack_top;       /* its kernel stack's top (TSS.RSP0, SYSCALL's RSP) */
    uint64_t kctx;             /* saved kernel RSP while it does not run */
    uint64_t ticks_left;       /* of its time slice */
};

/* Maps every process's kernel stack (PROC_MAX of them, KSTACK_PAGES each,
 * guard pages left unmapped) and registers the lister of live address
 * spaces. Once, after paging and kmap are up. */
void proc_init(void);

/* A new process running boot module `name`, child of parent (NULL: the
 * kernel's). Returns it, or NULL with *err = -SYS_E* (no slot, no module,
 * not a usable ELF, no memory) and one named console line. */
struct proc *proc_spawn(const char *name, struct proc *parent, long *err);

/* Starts the configuration's run list (kernel/config.h: /boot/pagelab.cfg's
 * run= lines, or the default set), one process each with no parent, and
 * runs them (proc_run); then one line of what is left. */
void proc_boot(void);

/* Runs processes until none can run (all exited, waiting for ever or
 * paused), from the kernel's idle context. */
void proc_run(void);

/* The process whose system call, fault or tick is being handled (NULL:
 * none, the kernel's own code or the ring-3 harness). */
struct proc *proc_current(void);

/* Live processes (not free, not zombie), and the free frames the process
 * layer expects when none is left: for the tests. */
unsigned proc_live(void);

/* From trap_dispatch, for a tick / an exception taken in ring 3 while a
 * process runs. The tick may switch to another process (and return later).
 * A page fault the process's regions allow is resolved (kernel/proc/vm.h)
 * and returns; any other fault or exception kills the process with one
 * named line and does not return. */
void proc_tick(void);

/* Every timer tick, from ring 3 or the idle loop (before proc_tick):
 * wakes the sleepers whose tick has come, and gives page replacement its
 * tick (rp_tick: NRU's and aging's samples, scope=pff's windows). */
void proc_timer(void);

/* SYS_SLEEP: the current process sleeps `ticks` ticks (1 to
 * SYS_SLEEP_MAX; the caller checked). */
void proc_sleep(uint64_t ticks);

/* An exception from ring 3 (proc_tick's comment above): a page fault
 * resolved returns, unless its instruction is in a livelock
 * (kernel/proc/livelock.h: killed, two named lines); the single-step #DB
 * that livelock detection asked for returns, TF cleared. f may be
 * changed (RFLAGS.TF). */
void proc_fault(struct trap_frame *f);

/* For uaccess_ok: resolves the pages of [va, va + len) the current
 * process's regions allow but that are not mapped as `write` needs yet
 * (vm_touch). Nothing when no process runs (the ring-3 harness). */
void proc_user_touch(uint64_t va, uint64_t len, bool write);

/* A system call of the current process has returned (not exit, not a
 * successful exec, which do not): the pages its buffers pinned may be
 * evicted again (vm_unpin). */
void proc_syscall_done(void);

/* The system calls of processes (sys_proc.c), from syscall_dispatch. */
void proc_syscall(struct syscall_frame *f);

/* Scheduler primitives for sys_proc.c. */
void proc_yield(void);
__attribute__((noreturn)) void proc_exit(int status);
struct proc *proc_by_pid(long pid);
struct proc *proc_slot(unsigned i);
struct proc *proc_alloc(const char *name, struct proc *parent);
void proc_start_user(struct proc *p, const struct trap_frame *regs);
void proc_reap(struct proc *p);
void proc_block(enum proc_state why);
void proc_wake(struct proc *p);

#endif
