/*
 * sys_proc.c - the system calls of processes (include/syscall.h), from
 * syscall_dispatch while a process runs. Every user pointer is checked
 * with kernel/uaccess.h before it is touched: a bad one is -SYS_EFAULT,
 * never a kernel fault. Address-space edits go through the paging core
 * into the caller's own space, which is the selected one while it runs.
 */
#include "proc.h"
#include "console.h"
#include "kmap.h"
#include "layout.h"
#include "mem.h"
#include "pmm.h"
#include "uaccess.h"
#include "modules.h"
#include "frame_meta.h"
#include "replace.h"
#include "swap.h"
#include "timer.h"
#include "x86.h"

/* sbrk's heap ends at most this far above the image. */
#define HEAP_MAX 0x40000000ULL     /* 1 GiB */
/* mmap/munmap/mprotect of at most this many bytes per call. */
#define MAP_MAX  0x10000000ULL     /* 256 MiB */

/* A NUL-terminated name from user space into buf (at most cap - 1
 * characters): -SYS_EFAULT if a byte is not readable, -SYS_EINVAL if
 * there is no NUL within cap. */
static long copy_name(uint64_t user, char *buf, unsigned cap)
{
    for (unsigned i = 0; i < cap; i++) {
        if (!uaccess_ok(user + i, 1, UACCESS_READ))
            return -SYS_EFAULT;
        uaccess_copy_from(&buf[i], user + i, 1);
        if (!buf[i])
            return 0;
    }
    return -SYS_EINVAL;
}

static long put_user(uint64_t dst, const void *src, uint64_t len)
{
    if (!uaccess_ok(dst, len, UACCESS_WRITE))
        return -SYS_EFAULT;
    uaccess_copy_to(dst, src, len);
    return 0;
}

/* A region's permissions (user and read implied). */
static uint32_t region_prot(uint64_t sys_prot)
{
    return ((sys_prot & SYS_PROT_WRITE) ? PT_PROT_WRITE : 0) |
           ((sys_prot & SYS_PROT_EXEC) ? PT_PROT_EXEC : 0);
}

/* [va, va + len) page aligned, non-empty, inside the user half, not over
 * the image, the heap's room or the stack. */
static bool map_range_ok(const struct proc *p, uint64_t va, uint64_t len)
{
    if (len == 0 || len > MAP_MAX || PAGE_OFFSET(va | len) || va < USER_BASE ||
        va >= USER_END || len > USER_END - va)
        return false;
    uint64_t end = va + len;
    bool over_image = va < p->img.end + HEAP_MAX && end > USER_BASE;
    bool over_stack = end > p->img.stack_guard;   /* the guard and the stack's room above it */
    return !over_image && !over_stack;
}

/* ---- the calls ---- */

static long sys_sbrk(struct proc *p, int64_t inc)
{
    uint64_t old = p->brk;
    if (inc == 0)
        return (long)old;
    if (inc < 0 ? (uint64_t)-inc > old - p->img.end : (uint64_t)inc > p->img.end + HEAP_MAX - old)
        return -SYS_EINVAL;
    uint64_t now = old + (uint64_t)inc;
    /* virtual room only: each page gets its frame at its first touch */
    if (PAGE_ROUND_UP(now) != PAGE_ROUND_UP(old)) {
        long r = vm_heap_set(&p->vm, p->img.end, PAGE_ROUND_UP(now));
        if (r)
            return r;
    }
    p->brk = now;
    return (long)old;
}

static bool prot_ok(uint64_t prot)
{
    return !(prot & ~(uint64_t)(SYS_PROT_WRITE | SYS_PROT_EXEC)) &&
           !((prot & SYS_PROT_WRITE) && (prot & SYS_PROT_EXEC));   /* W^X in user space too */
}

/* Places a region of len bytes (rounded up to pages) at addr, or at
 * mmap_next when addr is 0; nothing is mapped until it is touched. */
static long place(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot, enum vm_kind kind,
                  struct vm_shm *shm)
{
    len = PAGE_ROUND_UP(len);
    uint64_t va = addr ? addr : p->mmap_next;
    if (!map_range_ok(p, va, len))
        return -SYS_EINVAL;
    if (p->vm.n == SYS_REGIONS_MAX)
        return -SYS_ENOMEM;
    if (!vm_region_add(&p->vm, va, va + len, region_prot(prot), kind, shm, 0))
        return -SYS_EINVAL;                         /* over another mapping */
    if (!addr)
        p->mmap_next = va + len + PAGE_SIZE;       /* an unmapped page between mappings */
    return (long)va;
}

static long sys_mmap(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags)
{
    if (!prot_ok(prot) || (flags & ~(uint64_t)SYS_MAP_SHARED))
        return -SYS_EINVAL;
    if (!(flags & SYS_MAP_SHARED))
        return place(p, addr, len, prot, VM_ANON, NULL);
    if (len == 0 || len > (uint64_t)SYS_SHM_PAGES_MAX * PAGE_SIZE)
        return -SYS_EINVAL;
    long err;
    struct vm_shm *s = vm_shm_new((uint32_t)(PAGE_ROUND_UP(len) / PAGE_SIZE), &err);
    if (!s)
        return err;
    long r = place(p, addr, len, prot, VM_SHARED, s);
    if (r < 0)
        vm_shm_put(s);
    return r;
}

static long sys_shm(struct proc *p, uint64_t uname, uint64_t len, uint64_t prot)
{
    char name[SYS_SHM_NAME_MAX];
    long r = copy_name(uname, name, sizeof(name));
    if (r)
        return r;
    if (!prot_ok(prot))
        return -SYS_EINVAL;
    struct vm_shm *s = vm_shm_get(name, len, &r);
    if (!s)
        return r;
    r = place(p, 0, len, prot, VM_SHARED, s);
    if (r < 0)
        vm_shm_put(s);
    return r;
}

/* refs(base, pages, n, &pos): replace=opt's reference string (replace.h).
 * The string is copied (at most SYS_REFS_MAX), the position is read at
 * each eviction from the caller's own memory. */
static long sys_refs(struct proc *p, uint64_t base, uint64_t pages, uint64_t n, uint64_t pos)
{
    static uint32_t buf[SYS_REFS_MAX];
    if (n > SYS_REFS_MAX || (pos & 3) || PAGE_OFFSET(base))
        return -SYS_EINVAL;
    if (n && (!uaccess_ok(pages, n * sizeof(uint32_t), UACCESS_READ) ||
              !uaccess_ok(pos, sizeof(uint32_t), UACCESS_READ)))
        return -SYS_EFAULT;
    if (n)
        uaccess_copy_from(buf, pages, n * sizeof(uint32_t));
    for (uint64_t k = 0; k < n; k++)
        if (buf[k] >= SYS_REFS_PAGES)
            return -SYS_EINVAL;
    rp_declare(p->vm.rp, base, buf, (uint32_t)n, pos);
    return 0;
}

static long sys_munmap(struct proc *p, uint64_t addr, uint64_t len)
{
    if (!map_range_ok(p, addr, len))
        return -SYS_EINVAL;
    return vm_unmap(&p->vm, addr, addr + len);
}

static long sys_mprotect(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot)
{
    if (prot & ~(uint64_t)(SYS_PROT_WRITE | SYS_PROT_EXEC))
        return -SYS_EINVAL;
    if ((prot & SYS_PROT_WRITE) && (prot & SYS_PROT_EXEC))
        return -SYS_EINVAL;
    if (!map_range_ok(p, addr, len))
        return -SYS_EINVAL;
    return vm_protect(&p->vm, addr, addr + len, region_prot(prot));
}

static long sys_translate(uint64_t va, uint64_t out)
{
    struct pt_translation t;
    if (va >= USER_END || pt_translate(vaddr(va), &t) != PT_OK)
        return -SYS_EFAULT;
    uint32_t pr = pt_tr_prot(&t);
    struct sys_translation r = {
        .frame = pt_tr_frame(&t).pa,
        .size = pt_tr_page_size(&t),
        .level = t.level,
        .prot = ((pr & PT_PROT_WRITE) ? SYS_PROT_WRITE : 0) |
                ((pr & PT_PROT_EXEC) ? SYS_PROT_EXEC : 0) | ((pr & PT_PROT_USER) ? SYS_TR_USER : 0),
        .refs = frame_refs(pt_tr_frame(&t)),
        .flags = vm_is_zero_frame(pt_tr_frame(&t)) ? SYS_TR_ZERO_FRAME : 0,
    };
    return put_user(out, &r, sizeof(r));
}

/* vmstat's swap-transfer counts, list scans and policy name (the whole
 * system's). */
static void vmstat_swap(struct sys_vmstat *v)
{
    struct swap_stats ss;
    swap_get_stats(&ss);
    v->swap_reads = ss.reads;
    v->swap_read_tsc = ss.read_tsc;
    v->swap_writes = ss.writes;
    v->swap_write_tsc = ss.write_tsc;
    struct rp_counters all;
    rp_get_stats(&all);
    v->scanned = all.scanned;
    const char *name = config_policy_name(rp_policy());
    size_t n = strlen(name);
    memcpy(v->policy, name, n < sizeof v->policy - 1 ? n : sizeof v->policy - 1);
}

static long sys_vmstat(struct proc *p, uint64_t out)
{
    const struct vm_counters *c = &p->vm.c;
    struct pmm_counters pc;
    pmm_get_counters(PMM_ZONE_GENERAL, &pc);
    struct frame_meta_census fc;
    frame_meta_census(&fc);
    struct sys_vmstat v = {
        .faults = c->faults, .frames = 0, .tables = pt_space_tables(p->space),
        .zero_fills = c->zero_fills, .zero_maps = c->zero_maps, .cow_copies = c->cow_copies,
        .cow_reuses = c->cow_reuses, .shared_maps = c->shared_maps, .stack_pages = c->stack_pages,
        .invlpgs = c->invlpgs, .flushes = c->flushes, .free_frames = pc.free, .record_frames = fc.kept,
        .regions = p->vm.n, .swap_ins = c->swap_ins, .resident = rp_owner_resident(p->vm.rp),
        .user_frames = rp_limit(), .swap_used = swap_slots_used(),
        .domain_faults = c->domain_faults, .quota = rp_owner_quota(p->vm.rp),
        .ticks = timer_ticks(), .samples = rp_samples(),
    };
    struct rp_counters rc;
    rp_owner_stats(p->vm.rp, &rc);
    v.evictions = rc.evictions;
    v.writebacks = rc.writebacks;
    v.clean_drops = rc.clean_drops;
    v.a_cleared = rc.a_cleared;
    vmstat_swap(&v);
    struct pt_leaf l;
    for (vaddr_t at = vaddr(0); pt_space_next_leaf(p->space, at, &l) == PT_OK;
         at = vaddr(l.va.va + l.size))
        v.frames += l.size / PAGE_SIZE;
    return put_user(out, &v, sizeof(v));
}

/* fork: the child shares every frame, private writable pages read-only
 * in both (copy-on-write, kernel/proc/vm.h), and returns 0 from the same
 * system call. */
static long sys_fork(struct proc *p, const struct syscall_frame *f)
{
    struct proc *c = proc_alloc(p->name, p);
    if (!c)
        return -SYS_EAGAIN;
    if (vm_fork(&c->vm, c->space, &p->vm, p->space)) {
        vm_destroy(&c->vm, c->space);
        proc_reap(c);
        return -SYS_ENOMEM;
    }
    c->img = p->img;
    c->brk = p->brk;
    c->mmap_next = p->mmap_next;
    /* the registers SYSCALL left, with RAX = 0; RCX and R11 as SYSRET
     * would have left them (RIP and RFLAGS) */
    struct trap_frame r = {
        .r15 = f->r15, .r14 = f->r14, .r13 = f->r13, .r12 = f->r12, .r11 = f->rflags,
        .r10 = f->r10, .r9 = f->r9, .r8 = f->r8, .rbp = f->rbp, .rdi = f->rdi, .rsi = f->rsi,
        .rdx = f->rdx, .rcx = f->rip, .rbx = f->rbx, .rax = 0, .rip = f->rip, .rsp = f->rsp,
    };
    proc_start_user(c, &r);
    return c->pid;
}

static long sys_spawn(struct proc *p, uint64_t uname)
{
    char name[BOOT_MODULE_NAME_MAX];
    long r = copy_name(uname, name, sizeof(name));
    if (r)
        return r;
    struct proc *c = proc_spawn(name, p, &r);
    return c ? c->pid : r;
}

/* exec: the new image is built in a space of its own first, so a failure
 * leaves the caller as it was; then the old space goes. */
static long sys_exec(struct proc *p, struct syscall_frame *f, uint64_t uname)
{
    char name[BOOT_MODULE_NAME_MAX];
    long r = copy_name(uname, name, sizeof(name));
    if (r)
        return r;
    uint64_t size;
    const void *elf = module_bytes(name, &size);
    if (!elf)
        return -SYS_ENOENT;
    struct pt_space *fresh = p->space == &p->spaces[0] ? &p->spaces[1] : &p->spaces[0];
    struct image img;
    int elf_err;
    if (pt_space_create(fresh) != PT_OK)
        return -SYS_ENOMEM;
    static struct vm fresh_vm;      /* one CPU, interrupts off: one exec at a time */
    vm_reset(&fresh_vm, fresh);
    rp_owner_label(fresh_vm.rp, p->pid);
    enum image_status st = image_load(fresh, elf, size, &img, &elf_err);
    if (st == IMAGE_OK && !vm_image_regions(&fresh_vm, &img))
        st = IMAGE_ERR_TOO_MANY;
    if (st != IMAGE_OK) {
        vm_destroy(&fresh_vm, fresh);
        return st == IMAGE_ERR_NO_MEMORY ? -SYS_ENOMEM : -SYS_ENOEXEC;
    }
    struct pt_space *old = p->space;
    p->space = fresh;
    pt_space_activate(fresh);
    pt_space_select(fresh);
    struct vm_counters counted = p->vm.c;   /* the process's, across the exec */
    vm_destroy(&p->vm, old);
    p->vm = fresh_vm;
    p->vm.c = counted;
    p->img = img;
    p->brk = img.end;
    p->mmap_next = USER_MMAP_BASE;
    unsigned k = 0;
    for (; name[k] && k + 1 < sizeof(p->name); k++)
        p->name[k] = name[k];
    p->name[k] = 0;
    /* SYSRET into the new image: its entry, its stack, every register 0 */
    *f = (struct syscall_frame){ .rip = img.entry, .rsp = img.stack_top,
                                 .rflags = RFLAGS_CLEAR | RFLAGS_IF };
    return 0;
}

static long sys_wait(struct proc *p, long pid, uint64_t status_ptr)
{
    if (status_ptr && !uaccess_ok(status_ptr, sizeof(int), UACCESS_WRITE))
        return -SYS_EFAULT;
    for (;;) {
        bool any = false;
        struct proc *found = NULL;
        for (unsigned i = 0; i < PROC_MAX; i++) {
            struct proc *c = proc_slot(i);
            if (c->state == PROC_FREE || c->parent != p || (pid != -1 && c->pid != pid))
                continue;
            any = true;
            if (c->state == PROC_ZOMBIE) {
                found = c;
                break;
            }
        }
        if (!any)
            return -SYS_ECHILD;
        if (found) {
            long id = found->pid;
            int st = found->exit_status;
            proc_reap(found);
            if (status_ptr)
                uaccess_copy_to(status_ptr, &st, sizeof(st));
            return id;
        }
        p->wait_for = pid;
        proc_block(PROC_WAITING);
    }
}

void proc_syscall(struct syscall_frame *f)
{
    struct proc *p = proc_current();
    long r;
    switch (f->rax) {
    case SYS_GETPID: r = p->pid; break;
    case SYS_EXIT: proc_exit((int)f->rdi);
    case SYS_YIELD: proc_yield(); r = 0; break;
    case SYS_FORK: r = sys_fork(p, f); break;
    case SYS_SPAWN: r = sys_spawn(p, f->rdi); break;
    case SYS_EXEC:
        r = sys_exec(p, f, f->rdi);
        if (r == 0)
            return;                           /* f is the new image's: leave RAX 0 */
        break;
    case SYS_WAIT: r = sys_wait(p, (long)f->rdi, f->rsi); break;
    case SYS_SBRK: r = sys_sbrk(p, (int64_t)f->rdi); break;
    case SYS_MMAP: r = sys_mmap(p, f->rdi, f->rsi, f->rdx, f->r10); break;
    case SYS_SHM: r = sys_shm(p, f->rdi, f->rsi, f->rdx); break;
    case SYS_REFS: r = sys_refs(p, f->rdi, f->rsi, f->rdx, f->r10); break;
    case SYS_MUNMAP: r = sys_munmap(p, f->rdi, f->rsi); break;
    case SYS_MPROTECT: r = sys_mprotect(p, f->rdi, f->rsi, f->rdx); break;
    case SYS_TRANSLATE: r = sys_translate(f->rdi, f->rsi); break;
    case SYS_VMSTAT: r = sys_vmstat(p, f->rdi); break;
    case SYS_PAUSE: proc_block(PROC_PAUSED); r = 0; break;
    case SYS_SLEEP:
        if (f->rdi < 1 || f->rdi > SYS_SLEEP_MAX) {
            r = -SYS_EINVAL;
            break;
        }
        proc_sleep(f->rdi);
        r = 0;
        break;
    default: r = -SYS_ENOSYS; break;
    }
    f->rax = (uint64_t)r;
}
