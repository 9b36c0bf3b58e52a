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

/* ---- the user half: zeroed pages in, pages out ---- */

/* Maps [va, va + len) (page aligned) to fresh zeroed frames with prot;
 * on failure unmaps what it mapped. */
static long map_zeroed(uint64_t va, uint64_t len, uint32_t prot)
{
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        paddr_t f;
        enum pt_status st = PT_ERR_NO_FRAMES;
        if (pmm_alloc(PMM_ZONE_GENERAL, &f) == PMM_OK) {
            kmap_zero(f);
            st = pt_map(vaddr(va + off), f, PAGE_SIZE, prot, NULL);
            if (st != PT_OK)
                pmm_free(PMM_ZONE_GENERAL, f);
        }
        if (st != PT_OK) {
            for (uint64_t back = 0; back < off; back += PAGE_SIZE) {
                paddr_t g;
                if (pt_unmap(vaddr(va + back), &g, NULL) == PT_OK)
                    pmm_free(PMM_ZONE_GENERAL, g);
            }
            return st == PT_ERR_ALREADY_MAPPED || st == PT_ERR_HUGE_IN_WAY ||
                           st == PT_ERR_TABLE_IN_WAY
                       ? -SYS_EINVAL
                       : -SYS_ENOMEM;
        }
    }
    return 0;
}

/* Unmaps every page of [va, va + len) that is mapped and frees its frame. */
static void unmap_free(uint64_t va, uint64_t len)
{
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        paddr_t f;
        uint64_t size;
        if (pt_unmap(vaddr(va + off), &f, &size) == PT_OK)
            image_free_leaf(vaddr(va + off), f, size, NULL);
    }
}

static uint32_t user_prot(uint64_t sys_prot)
{
    return PT_PROT_USER | ((sys_prot & SYS_PROT_WRITE) ? PT_PROT_WRITE : 0) |
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
    bool over_stack = end > p->img.stack_guard;
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
    uint64_t have = PAGE_ROUND_UP(old), want = PAGE_ROUND_UP(now);
    if (want > have) {
        long r = map_zeroed(have, want - have, PT_PROT_USER | PT_PROT_WRITE);
        if (r)
            return r;
    } else if (want < have) {
        unmap_free(want, have - want);
    }
    p->brk = now;
    return (long)old;
}

static long sys_mmap(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot)
{
    if (prot & ~(uint64_t)(SYS_PROT_WRITE | SYS_PROT_EXEC))
        return -SYS_EINVAL;
    if ((prot & SYS_PROT_WRITE) && (prot & SYS_PROT_EXEC))
        return -SYS_EINVAL;                         /* W^X in user space too */
    len = PAGE_ROUND_UP(len);
    uint64_t va = addr ? addr : p->mmap_next;
    if (!map_range_ok(p, va, len))
        return -SYS_EINVAL;
    long r = map_zeroed(va, len, user_prot(prot));
    if (r)
        return r;
    if (!addr)
        p->mmap_next = va + len + PAGE_SIZE;       /* an unmapped page between mappings */
    return (long)va;
}

static long sys_munmap(struct proc *p, uint64_t addr, uint64_t len)
{
    if (!map_range_ok(p, addr, len))
        return -SYS_EINVAL;
    unmap_free(addr, len);
    return 0;
}

static long sys_mprotect(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot)
{
    if (prot & ~(uint64_t)(SYS_PROT_WRITE | SYS_PROT_EXEC))
        return -SYS_EINVAL;
    if ((prot & SYS_PROT_WRITE) && (prot & SYS_PROT_EXEC))
        return -SYS_EINVAL;
    if (!map_range_ok(p, addr, len))
        return -SYS_EINVAL;
    return pt_protect_range(vaddr(addr), len, user_prot(prot)) == PT_OK ? 0 : -SYS_EINVAL;
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
    };
    return put_user(out, &r, sizeof(r));
}

static long sys_vmstat(struct proc *p, uint64_t out)
{
    struct sys_vmstat v = { .faults = p->faults, .frames = 0, .tables = pt_space_tables(p->space) };
    struct pt_leaf l;
    for (vaddr_t at = vaddr(0); pt_space_next_leaf(p->space, at, &l) == PT_OK;
         at = vaddr(l.va.va + l.size))
        v.frames += l.size / PAGE_SIZE;
    return put_user(out, &v, sizeof(v));
}

/* fork: the child gets a copy of every page (eager: the next issue makes
 * it copy-on-write) and returns 0 from the same system call. */
static long sys_fork(struct proc *p, const struct syscall_frame *f)
{
    struct proc *c = proc_alloc(p->name, p);
    if (!c)
        return -SYS_EAGAIN;
    uint32_t pages;
    if (image_copy(c->space, p->space, &pages) != IMAGE_OK) {
        if (pt_space_destroy(c->space, image_free_leaf, NULL) != PT_OK)
            kpanic("fork: the child's half-built space is in use");
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
    enum image_status st = image_load(fresh, elf, size, &img, &elf_err);
    if (st != IMAGE_OK) {
        pt_space_destroy(fresh, image_free_leaf, NULL);
        return st == IMAGE_ERR_NO_MEMORY ? -SYS_ENOMEM : -SYS_ENOEXEC;
    }
    struct pt_space *old = p->space;
    p->space = fresh;
    pt_space_activate(fresh);
    pt_space_select(fresh);
    if (pt_space_destroy(old, image_free_leaf, NULL) != PT_OK)
        kpanic("exec: pid %d's old address space is still in use", p->pid);
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
    case SYS_MMAP: r = sys_mmap(p, f->rdi, f->rsi, f->rdx); break;
    case SYS_MUNMAP: r = sys_munmap(p, f->rdi, f->rsi); break;
    case SYS_MPROTECT: r = sys_mprotect(p, f->rdi, f->rsi, f->rdx); break;
    case SYS_TRANSLATE: r = sys_translate(f->rdi, f->rsi); break;
    case SYS_VMSTAT: r = sys_vmstat(p, f->rdi); break;
    case SYS_PAUSE: proc_block(PROC_PAUSED); r = 0; break;
    default: r = -SYS_ENOSYS; break;
    }
    f->rax = (uint64_t)r;
}
