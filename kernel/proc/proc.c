/*
 * proc.c - processes and the scheduler (contract in proc.h).
 *
 * Switching: the running process's kernel stack holds everything of it
 * that is not in struct proc: the registers of its system call or
 * interrupt from ring 3, then the kernel frames down to proc_switch. A
 * switch saves RSP there, loads the next one's, points TSS.RSP0 and
 * SYSCALL's stack at the next kernel stack (ring_set_kernel_stack) and
 * loads its PML4 (pt_space_activate: a MOV to CR3, which drops every
 * non-global TLB entry, SDM Vol. 3A 4.10.4.1; the kernel's mappings are
 * global where the loader made them so and the kernel's half is shared,
 * so nothing else changes). The idle context is kmain's own stack, with
 * the kernel's address space.
 *
 * Debug images (-DPAGELAB_DEBUG, common/debug.h) stop Bochs here three
 * times, once each: before the first IRETQ into ring 3 (proc_first_entry
 * calls proc_first_entry_break), at the first CR3 write from one live
 * process to another (switch_to), and in the first user page fault
 * (proc_fault). Normal builds compile the stops out.
 */
#include "proc.h"
#include "console.h"
#include "cpu.h"
#include "gdt.h"
#include "layout.h"
#include "mem.h"
#include "modules.h"
#include "config.h"
#include "pmm.h"
#include "ring.h"
#include "space_report.h"
#include "x86.h"
#include "elf.h"
#include "tlb.h"
#include "fault_log.h"
#include "livelock.h"
#include "frame_meta.h"
#include "replace.h"
#include "swap.h"
#include "timer.h"
#include "../common/exceptions.h"
#include "../common/debug.h"

/* Ticks of a time slice: 10 ms at TIMER_HZ 1000. */
#define PROC_SLICE_TICKS 10
/* The unmapped address each block shows: 1 GiB above the image. */
#define PROC_UNMAPPED_PROBE 0x40000000ULL

void proc_switch(uint64_t *save, uint64_t next);
extern char proc_first_entry[];
void proc_first_entry_break(const struct trap_frame *f);

static struct proc procs[PROC_MAX];
static struct proc *current;
static uint64_t idle_ctx;
static int next_pid = 1;

struct proc *proc_current(void) { return current; }

static uint64_t kstack_base(unsigned slot) { return KSTACK_BASE + (uint64_t)slot * KSTACK_SLOT_SIZE; }

/* ---- the listing at the end of the boot ---- */

static struct space_line lines[PROC_MAX][SPACE_REPORT_MAX_LINES];
static char names[PROC_MAX][BOOT_MODULE_NAME_MAX + 16];

static unsigned name_into(char *buf, unsigned cap, const struct proc *p)
{
    /* "pid<N>-<program>": one word, as the header wants */
    unsigned n = 0;
    char digits[12];
    unsigned d = 0;
    for (unsigned v = (unsigned)p->pid; d == 0 || v; v /= 10)
        digits[d++] = (char)('0' + v % 10);
    const char *pre = "pid";
    while (*pre && n + 1 < cap)
        buf[n++] = *pre++;
    while (d && n + 1 < cap)
        buf[n++] = digits[--d];
    if (n + 1 < cap)
        buf[n++] = '-';
    for (const char *s = p->name; *s && n + 1 < cap; s++)
        buf[n++] = *s;
    buf[n] = 0;
    return n;
}

/* The first page of each data region (but the one at `listed`, the
 * image's last page, already a line) and of each anonymous or shared
 * mapping: after a fork, the outside walk sees which frames two spaces
 * share, and how (copy-on-write pages read-only in both, shared ones
 * writable). At most cap lines. */
static unsigned region_lines(const struct vm *vm, uint64_t listed, struct space_line *l,
                             unsigned cap)
{
    unsigned k = 0;
    for (unsigned i = 0; i < vm->n && k < cap; i++) {
        const struct vm_region *r = &vm->r[i];
        const char *what = r->kind == VM_DATA && r->start != listed ? "user data"
                         : r->kind == VM_ANON ? "user mmap (private)"
                         : r->kind == VM_SHARED ? "user mmap (shared)" : NULL;
        if (what)
            l[k++] = (struct space_line){ what, r->start };
    }
    return k;
}

static unsigned lister(struct space_view *out, unsigned cap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PROC_MAX && n < cap; i++) {
        struct proc *p = &procs[i];
        if (p->state == PROC_FREE || p->state == PROC_ZOMBIE || p->state == PROC_EMBRYO)
            continue;
        struct space_line *l = lines[i];
        unsigned k = 0;
        l[k++] = (struct space_line){ "user code (entry)", p->img.entry };
        l[k++] = (struct space_line){ "user data (last page)", p->img.end - PAGE_SIZE };
        if (p->brk > p->img.end)
            l[k++] = (struct space_line){ "user heap", p->img.end };
        l[k++] = (struct space_line){ "user stack top", p->img.stack_top - PAGE_SIZE };
        l[k++] = (struct space_line){ "stack guard", p->img.stack_guard };
        l[k++] = (struct space_line){ "unmapped", p->img.end + PROC_UNMAPPED_PROBE };
        k += region_lines(&p->vm, p->img.end - PAGE_SIZE, &l[k], SPACE_REPORT_MAX_LINES - k);
        name_into(names[i], sizeof(names[i]), p);
        out[n++] = (struct space_view){ names[i], p->space, l, k };
    }
    return n;
}

/* ---- setup ---- */

void proc_init(void)
{
    vm_init();
    for (unsigned s = 0; s < PROC_MAX; s++) {
        /* page 0 of the slot is the guard: left unmapped */
        for (unsigned i = 1; i <= KSTACK_PAGES; i++) {
            paddr_t f;
            enum pt_status st = pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK
                                    ? pt_map(vaddr(kstack_base(s) + i * (uint64_t)PAGE_SIZE), f,
                                             PAGE_SIZE, PT_PROT_WRITE, NULL)
                                    : PT_ERR_NO_FRAMES;
            if (st != PT_OK)
                kpanic("proc_init: kernel stack %u: %s", s, pt_status_name(st));
        }
        procs[s].kstack_top = kstack_base(s) + (1 + KSTACK_PAGES) * (uint64_t)PAGE_SIZE;
    }
    space_report_register(lister);
}

unsigned proc_live(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PROC_MAX; i++)
        n += procs[i].state != PROC_FREE && procs[i].state != PROC_ZOMBIE;
    return n;
}

struct proc *proc_slot(unsigned i) { return &procs[i]; }

struct proc *proc_by_pid(long pid)
{
    for (unsigned i = 0; i < PROC_MAX; i++)
        if (procs[i].state != PROC_FREE && procs[i].pid == pid)
            return &procs[i];
    return NULL;
}

/* ---- creating ---- */

struct proc *proc_alloc(const char *name, struct proc *parent)
{
    for (unsigned i = 0; i < PROC_MAX; i++) {
        struct proc *p = &procs[i];
        if (p->state != PROC_FREE)
            continue;
        uint64_t top = p->kstack_top;
        memset(p, 0, sizeof(*p));
        p->kstack_top = top;
        p->space = &p->spaces[0];
        if (pt_space_create(p->space) != PT_OK)
            return NULL;
        p->pid = next_pid++;
        p->parent = parent;
        p->state = PROC_EMBRYO;     /* runnable once proc_start_user built its stack */
        unsigned k = 0;
        for (; name[k] && k + 1 < sizeof(p->name); k++)
            p->name[k] = name[k];
        p->name[k] = 0;
        p->mmap_next = USER_MMAP_BASE;
        vm_reset(&p->vm, p->space);
        rp_owner_label(p->vm.rp, p->pid);
        return p;
    }
    return NULL;
}

/* The kernel stack of a process that never ran: a trap frame at the top
 * for isr_return's IRETQ to ring 3, under it the six registers
 * proc_switch pops and its return address, proc_first_entry. */
void proc_start_user(struct proc *p, const struct trap_frame *regs)
{
    struct trap_frame *f = (struct trap_frame *)(uintptr_t)(p->kstack_top - sizeof(*f));
    *f = *regs;
    f->cs = USER_CS;
    f->ss = USER_SS;
    f->rflags = RFLAGS_CLEAR | RFLAGS_IF;
    uint64_t *sp = (uint64_t *)f;
    *--sp = (uint64_t)(uintptr_t)proc_first_entry;
    for (unsigned i = 0; i < 6; i++)
        *--sp = 0;
    p->kctx = (uint64_t)(uintptr_t)sp;
    p->ticks_left = PROC_SLICE_TICKS;
    p->state = PROC_RUNNABLE;
}

/* Debug builds: switch.asm's proc_first_entry calls this with RSP = f,
 * right before isr_return pops f and IRETQs. The first time only, Bochs
 * stops there: the frame is what IRETQ loads, CR3 is already the process's. */
__attribute__((used)) void proc_first_entry_break(const struct trap_frame *f)
{
    PAGELAB_BREAK_ONCE_CALL("first entry into ring 3", kprintf,
        "pid %d (%s): IRETQ is next (isr_return): `x /5gx 0x%lx` is what it pops:"
        " RIP 0x%lx (the program's entry), CS 0x%lx, RFLAGS 0x%lx, RSP 0x%lx, SS 0x%lx"
        "\n  look: `creg`: CR3 0x%lx is pid %d's PML4 already; `page 0x%lx` walks its code page"
        " (U at every level); `info tab` lists its user half"
        "\n  look: `lb 0x%lx`, then `c`, stops at the first user instruction: there `sreg` shows"
        " cs:0x%04lx (RPL 3), `page rip` the same page; `d 1` deletes the breakpoint"
        " (every copy of the program starts there)",
        current->pid, current->name, (uint64_t)(uintptr_t)&f->rip, f->rip, f->cs, f->rflags,
        f->rsp, f->ss, cpu_read_cr3().pa, current->pid, f->rip, f->rip, f->cs);
}

/* Debug builds, the first CR3 write from one live process to another:
 * CR3 already holds next's PML4, the kernel stack is still prev's. */
static void cr3_switch_break(const struct proc *prev, const struct proc *next)
{
    PAGELAB_BREAK_ONCE_CALL("CR3 switch to another process", kprintf,
        "pid %d (%s) -> pid %d (%s): `creg`: CR3 0x%lx is pid %d's PML4, it was 0x%lx"
        " (pid %d's); the MOV to CR3 dropped the non-global TLB entries"
        "\n  look: `page 0x%lx` (user data, at the same address in both) walks pid %d's tables"
        " to a frame of its own; `info tab` lists pid %d's user half beside the kernel's",
        prev->pid, prev->name, next->pid, next->name, next->space->root.pa, next->pid,
        prev->space->root.pa, prev->pid, next->img.end - PAGE_SIZE, next->pid, next->pid);
}

static void free_slot(struct proc *p)
{
    uint64_t top = p->kstack_top;
    memset(p, 0, sizeof(*p));
    p->kstack_top = top;
}

/* The space of a process that is not running, torn down. */
static void drop_space(struct proc *p)
{
    vm_destroy(&p->vm, p->space);
}

struct proc *proc_spawn(const char *name, struct proc *parent, long *err)
{
    uint64_t size;
    const void *elf = module_bytes(name, &size);
    if (!elf) {
        kprintf("pagelab: spawn %s: no such module in /bin\n", name);
        *err = -SYS_ENOENT;
        return NULL;
    }
    struct proc *p = proc_alloc(name, parent);
    if (!p) {
        kprintf("pagelab: spawn %s: no process slot or no frame for its PML4 (at most %u)\n",
                name, PROC_MAX);
        *err = -SYS_EAGAIN;
        return NULL;
    }
    int elf_err;
    enum image_status st = image_load(p->space, elf, size, &p->img, &elf_err);
    if (st == IMAGE_OK && !vm_image_regions(&p->vm, &p->img))
        st = IMAGE_ERR_TOO_MANY;
    if (st != IMAGE_OK) {
        kprintf("pagelab: spawn %s: %s%s%s\n", name, image_status_name(st),
                elf_err ? ": " : "", elf_err ? elf_strerror(elf_err) : "");
        drop_space(p);
        free_slot(p);
        *err = st == IMAGE_ERR_NO_MEMORY ? -SYS_ENOMEM : -SYS_ENOEXEC;
        return NULL;
    }
    p->brk = p->img.end;
    struct trap_frame regs = { 0 };
    regs.rip = p->img.entry;
    regs.rsp = p->img.stack_top;
    proc_start_user(p, &regs);
    return p;
}

/* ---- switching ---- */

static void switch_to(struct proc *next, uint64_t *save)
{
    struct proc *prev = current;
    current = next;
    if (next) {
        next->state = PROC_RUNNING;
        next->ticks_left = PROC_SLICE_TICKS;
        ring_set_kernel_stack(next->kstack_top);
        pt_space_activate(next->space);
        pt_space_select(next->space);
        if (PAGELAB_DEBUG_ON && prev && prev != next && prev->state != PROC_ZOMBIE)
            cr3_switch_break(prev, next);   /* not from an exit: its space is gone */
        proc_switch(save, next->kctx);
    } else {
        pt_space_activate(NULL);
        pt_space_select(NULL);
        proc_switch(save, idle_ctx);
    }
}

/* The next runnable process after `from` in slot order (round robin). */
static struct proc *pick(const struct proc *from)
{
    unsigned start = from ? (unsigned)(from - procs) + 1 : 0;
    for (unsigned k = 0; k < PROC_MAX; k++) {
        struct proc *p = &procs[(start + k) % PROC_MAX];
        if (p->state == PROC_RUNNABLE)
            return p;
    }
    return NULL;
}

/* Leaves the current process (already marked runnable, blocked or zombie)
 * for the next runnable one, or the idle context; returns when it is
 * chosen again. */
static void schedule(void)
{
    struct proc *me = current, *next = pick(me);
    if (next == me) {
        me->state = PROC_RUNNING;
        me->ticks_left = PROC_SLICE_TICKS;
        return;
    }
    switch_to(next, &me->kctx);
    /* back: switch_to(me) set current, the stack, CR3 */
}

void proc_yield(void)
{
    current->state = PROC_RUNNABLE;
    schedule();
}

void proc_block(enum proc_state why)
{
    current->state = why;
    schedule();
}

void proc_wake(struct proc *p)
{
    if (p->state == PROC_WAITING)
        p->state = PROC_RUNNABLE;
}

static bool any_sleeping(void)
{
    for (unsigned i = 0; i < PROC_MAX; i++)
        if (procs[i].state == PROC_SLEEPING)
            return true;
    return false;
}

/* The idle loop: with nothing runnable but a sleeper, the CPU waits for
 * the next interrupt with interrupts on (STI's one-instruction shadow
 * keeps the tick from arriving between STI and HLT and being missed:
 * SDM Vol. 2B, STI), the only place the kernel takes one (timer.h). */
static void idle_wait(void)
{
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

void proc_run(void)
{
    for (;;) {
        /* orphans' slots: nobody will wait for them */
        for (unsigned i = 0; i < PROC_MAX; i++)
            if (procs[i].state == PROC_ZOMBIE && !procs[i].parent)
                free_slot(&procs[i]);
        struct proc *p = pick(NULL);
        if (!p && any_sleeping()) {
            idle_wait();
            continue;
        }
        if (!p)
            return;
        switch_to(p, &idle_ctx);
        current = NULL;
    }
}

static uint64_t free_frames(void)
{
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    return c.free;
}

/* What the processes left of memory, for tests/vm_checks.py: with none
 * left every frame must be free again (but the pages of frame records,
 * which the kernel keeps once mapped: kernel/mm/frame_meta.h), no
 * reference held and no shared object alive. Two lines: each fits 80
 * columns with 6 GiB of RAM. */
static void frames_report(uint64_t free_at_boot, uint64_t record_frames_at_boot)
{
    struct frame_meta_census c;
    frame_meta_census(&c);
    kprintf("pagelab: frames: %lu free at boot, %lu free now; %lu references held\n",
            free_at_boot, free_frames(), c.refs);
    kprintf("pagelab: shared objects: %u alive; frame records: %lu frames, %lu at boot\n",
            vm_shm_live(), c.kept, record_frames_at_boot);
    struct rp_counters rc;
    rp_get_stats(&rc);
    kprintf("pagelab: swap: %u slots in use; replacement: %u pages resident, %lu evicted\n",
            swap_slots_used(), rp_resident(), rc.evictions);
}

void proc_boot(void)
{
    unsigned n = config_run_count(), started = 0;
    struct frame_meta_census at_boot;
    frame_meta_census(&at_boot);
    uint64_t free_at_boot = free_frames();
    kprintf("pagelab: starting %u process%s from the run list\n", n, n == 1 ? "" : "es");
    for (unsigned i = 0; i < n; i++) {
        long err;
        struct proc *p = proc_spawn(config_run_name(i), NULL, &err);
        if (p) {
            kprintf("pagelab: pid %d runs %s\n", p->pid, p->name);
            started++;
        }
    }
    proc_run();
    kprintf("pagelab: processes: %u started, %u still alive (paused or waiting)\n", started,
            proc_live());
    frames_report(free_at_boot, at_boot.kept);
}

void proc_user_touch(uint64_t va, uint64_t len, bool write)
{
    if (current)
        vm_touch(&current->vm, va, len, write);
}

void proc_syscall_done(void)
{
    if (current)
        vm_unpin(&current->vm);
}

void proc_timer(void)
{
    uint64_t now = timer_ticks();
    for (unsigned i = 0; i < PROC_MAX; i++)
        if (procs[i].state == PROC_SLEEPING && procs[i].wake_tick <= now)
            procs[i].state = PROC_RUNNABLE;
    rp_tick(now);
}

void proc_sleep(uint64_t ticks)
{
    current->wake_tick = timer_ticks() + ticks;
    proc_block(PROC_SLEEPING);
}

void proc_tick(void)
{
    if (current && current->ticks_left && --current->ticks_left == 0)
        proc_yield();
}

/* ---- ending ---- */

void proc_reap(struct proc *p)
{
    free_slot(p);
}

void proc_exit(int status)
{
    struct proc *me = current;
    /* off its own space first: pt_space_destroy refuses the active one */
    pt_space_activate(NULL);
    pt_space_select(NULL);
    drop_space(me);
    me->exit_status = status;
    me->state = PROC_ZOMBIE;
    for (unsigned i = 0; i < PROC_MAX; i++)
        if (procs[i].parent == me)
            procs[i].parent = NULL;          /* orphans: reaped by proc_run */
    if (me->parent && me->parent->state == PROC_WAITING &&
        (me->parent->wait_for == -1 || me->parent->wait_for == me->pid))
        proc_wake(me->parent);
    struct proc *next = pick(me);
    switch_to(next, &me->kctx);               /* never chosen again */
    kpanic("proc_exit: pid %d ran again", me->pid);
}

/* A resolved fault that leaves the process in a livelock (livelock.h):
 * the instruction at its RIP needs more pages at once than it can ever
 * have. May set or clear TF in f. */
static bool livelocked(struct proc *me, struct trap_frame *f, uint64_t domain_before,
                       uint64_t cr2)
{
    const char *key;
    uint32_t bound = rp_owner_bound(me->vm.rp, &key);
    return livelock_fault(&me->ll, f, me->vm.c.domain_faults != domain_before, cr2,
                          f->error_code, bound, key);
}

void proc_fault(struct trap_frame *f)
{
    struct proc *me = current;
    uint64_t cr2 = f->vector == X86_VECTOR_PF ? read_cr2() : 0;
    enum vm_outcome o = VM_OUTCOME_COUNT;
    if (f->vector == X86_VECTOR_DB && livelock_step(&me->ll, f))
        return;         /* the single step livelock_fault asked for: it retired */
    if (f->vector == X86_VECTOR_PF) {
        uint64_t domain_before = me->vm.c.domain_faults;
        o = vm_fault(&me->vm, cr2, f->error_code);
        bool stuck = VM_RESOLVED(o) && livelocked(me, f, domain_before, cr2);
        fault_log(me->pid, cr2, f->error_code, f->rip,
                  VM_RESOLVED(o) && !stuck ? vm_outcome_name(o) : "killed");
        if (stuck) {
            livelock_report(&me->ll, me->pid, me->name, f->rip);
            proc_exit(PROC_KILLED_STATUS);
        }
        if (VM_RESOLVED(o))
            return;
    }
    if (f->vector == X86_VECTOR_PF) {
        char why[96];
        pf_decode(f->error_code, why, sizeof(why));
        PAGELAB_BREAK_ONCE_CALL("user page fault", kprintf,
            "pid %d (%s) at 0x%lx, error code 0x%lx: %s; the kernel kills it next"
            "\n  look: `creg`: CR2 = 0x%lx, CR3 0x%lx (pid %d's PML4); `page 0x%lx` walks to"
            " what is there (a leaf without U: the kernel's, SDM Vol. 3A 4.6.1)"
            "\n  look: `x /5gx 0x%lx` is what the CPU pushed: RIP 0x%lx, CS 0x%lx (from ring 3),"
            " RFLAGS, RSP, SS 0x%lx; `page 0x%lx` is the code that faulted, U",
            me->pid, me->name, cr2, f->error_code, why, cr2, cpu_read_cr3().pa, me->pid, cr2,
            (uint64_t)(uintptr_t)&f->rip, f->rip, f->cs, f->ss, f->rip);
        struct pt_translation t;
        enum pt_status st = pt_translate(vaddr(cr2), &t);
        char prot[5] = "----";
        if (st == PT_OK) {
            uint32_t pr = pt_tr_prot(&t);
            prot[0] = 'r';
            prot[1] = (pr & PT_PROT_WRITE) ? 'w' : '-';
            prot[2] = (pr & PT_PROT_EXEC) ? 'x' : '-';
            prot[3] = (pr & PT_PROT_USER) ? 'u' : '-';
        }
        kprintf("pagelab: killed pid %d (%s): page fault at 0x%016lx, %s; there: %s%s%s;"
                " %s; RIP 0x%016lx\n", me->pid, me->name, cr2, why,
                st == PT_OK ? "a page " : "nothing mapped", st == PT_OK ? prot : "",
                st == PT_OK ? (pt_tr_prot(&t) & PT_PROT_USER ? "" : " (the kernel's)") : "",
                vm_outcome_name(o), f->rip);
    } else {
        kprintf("pagelab: killed pid %d (%s): exception %lu (%s), error code 0x%lx,"
                " RIP 0x%016lx\n", me->pid, me->name, f->vector,
                x86_exception_names[f->vector], f->error_code, f->rip);
    }
    proc_exit(PROC_KILLED_STATUS);
}
