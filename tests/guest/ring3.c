/*
 * ring3.c - ring 3 on the real CPU (contract in ring3.h): system calls
 * and their pointer checks, faults taken in ring 3 with the error code the
 * SDM gives (Vol. 3A 4.7), the timer preempting a user loop, a refused
 * SYSRET, registers across a system call - all while the lower half of
 * the address space holds nothing but the user's own pages, as it will
 * once the lower half belongs to a process.
 *
 * Pages (4 KiB each, at RING3_TEST_BASE, PML4 slot 144):
 *   +0       user code, r-x: ring3_user.asm's routines; a message at its end
 *   +4 KiB   unmapped
 *   +8 KiB   user stack, rw-, no-execute
 *   +12 KiB  kernel-only, rw-: a lower-half page ring 3 must not reach
 * and the last user page (USER_END - 4 KiB, slot 255), r-x, holding a
 * SYSCALL in its last two bytes: its return address is USER_END.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include "ring3.h"
#include "console.h"
#include "result.h"
#include "cpu.h"
#include "kmain.h"
#include "layout.h"
#include "lib.h"
#include "lowmem.h"
#include "measure.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "syscalls.h"
#include "tlb.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

#define CODE_VA      ((uint64_t)RING3_TEST_BASE)
#define GAP_VA       (CODE_VA + PAGE_SIZE)
#define STACK_VA     (CODE_VA + 2 * PAGE_SIZE)
#define KPAGE_VA     (CODE_VA + 3 * PAGE_SIZE)
#define TOP_VA       ((uint64_t)USER_END - PAGE_SIZE)
#define STACK_TOP    (STACK_VA + PAGE_SIZE)
#define PAGES        4
#define NON_CANONICAL 0x0000800000000000ULL
#define PATTERN      0x0101010101010101ULL  /* register n holds PATTERN * n */
#define TICK_BUDGET  3
#define BENCH_RUNS   101
#define OPCODE_SYSCALL_0 0x0F               /* SYSCALL is 0F 05 (SDM Vol. 2B) */
#define OPCODE_SYSCALL_1 0x05
#define LOWER_SLOTS  (PT_ENTRIES / 2)

extern const uint8_t ring3_user_start[], ring3_user_end[];
extern const uint8_t u_call_exit[], u_preserve[], u_read[], u_write[], u_loop[];
extern const uint8_t u_bench[], u_bench_empty[], u_nr_exit[], u_nr_getpid[];
extern const uint8_t u_message[], u_message_end[];

/* identity reaches every page table, and temporary its slot table, at the
 * table's physical address: in PML4 slot 0 by the strategy's design, so
 * slot 0 stays while the lower half is emptied (NOTES.md). */
static const bool strategy_lives_in_slot0 =
    PAGELAB_STRATEGY == STRATEGY_IDENTITY || PAGELAB_STRATEGY == STRATEGY_TEMPORARY;
static const char tail_message[] = "ring3: the last bytes of the code page\n";
static const char *const kernel_string = "a kernel string";

static const struct boot_info *info;
static paddr_t frames[PAGES];
static const uint64_t page_va[PAGES] = { CODE_VA, STACK_VA, KPAGE_VA, TOP_VA };
static pte_t saved_lower[LOWER_SLOTS];

#define result(ok, name, ...) guest_result(NULL, ok, name, __VA_ARGS__)

static uint64_t user_va(const uint8_t *sym)
{
    return CODE_VA + (uint64_t)(sym - ring3_user_start);
}

/* Kernel writes into a user page: SMAP's window open (RFLAGS.AC). */
static void user_poke(uint64_t va, const void *src, uint64_t len)
{
    stac();
    memcpy((void *)va_ptr(va), src, len);
    clac();
}

/* Maps the pages writable first, fills the code pages, then makes them
 * r-x (pt_protect invalidates). Returns false, with nothing left mapped,
 * when a frame or a table is missing. */
static bool pages_map(void)
{
    static const uint32_t prot[PAGES] = { PT_PROT_USER | PT_PROT_EXEC, PT_PROT_USER | PT_PROT_WRITE,
                                          PT_PROT_WRITE, PT_PROT_USER | PT_PROT_EXEC };
    unsigned n = 0;
    for (; n < PAGES; n++) {
        if (pmm_alloc(PMM_ZONE_GENERAL, &frames[n]) != PMM_OK)
            break;
        if (pt_map(vaddr(page_va[n]), frames[n], PAGE_SIZE, PT_PROT_WRITE | (prot[n] & PT_PROT_USER),
                   0) != PT_OK) {
            pmm_free(PMM_ZONE_GENERAL, frames[n]);
            break;
        }
    }
    if (n < PAGES) {
        while (n--) {
            pt_unmap(vaddr(page_va[n]), 0, 0);
            pmm_free(PMM_ZONE_GENERAL, frames[n]);
        }
        return false;
    }
    static const uint8_t zero[PAGE_SIZE];
    for (unsigned i = 0; i < PAGES; i++)
        user_poke(page_va[i], zero, PAGE_SIZE);
    user_poke(CODE_VA, ring3_user_start, (uint64_t)(ring3_user_end - ring3_user_start));
    uint32_t nr_exit = SYS_EXIT, nr_getpid = SYS_GETPID;
    user_poke(user_va(u_nr_exit), &nr_exit, sizeof(nr_exit));
    user_poke(user_va(u_nr_getpid), &nr_getpid, sizeof(nr_getpid));
    user_poke(GAP_VA - (sizeof(tail_message) - 1), tail_message, sizeof(tail_message) - 1);
    static const uint8_t syscall_insn[] = { OPCODE_SYSCALL_0, OPCODE_SYSCALL_1 };
    user_poke(USER_END - sizeof(syscall_insn), syscall_insn, sizeof(syscall_insn));
    for (unsigned i = 0; i < PAGES; i++)
        pt_protect(vaddr(page_va[i]), PAGE_SIZE, prot[i]);
    return true;
}

static void pages_unmap(void)
{
    for (unsigned i = 0; i < PAGES; i++) {
        pt_unmap(vaddr(page_va[i]), 0, 0);
        pmm_free(PMM_ZONE_GENERAL, frames[i]);
    }
}

static pte_t *pml4_entry(unsigned slot)
{
    return strategy_entry_get(4, vaddr((uint64_t)slot << PT_LEVEL_SHIFT(4)), cpu_read_cr3());
}

static bool slot_kept(unsigned slot)
{
    return slot == PT_INDEX(CODE_VA, 4) || slot == PT_INDEX(TOP_VA, 4) ||
           (slot == 0 && strategy_lives_in_slot0);
}

/* Empties every lower-half PML4 entry but the user's (and slot 0 where the
 * strategy's tables live), flushing the TLB so no old translation of them
 * survives. Entry 0's count bits (PT_COUNT_MASK) stay: an entry without P
 * is empty whatever else it holds. The core maps and unmaps nothing until
 * lower_half_restore. */
static void lower_half_empty(void)
{
    for (unsigned s = 0; s < LOWER_SLOTS; s++) {
        pte_t *e = pml4_entry(s);
        saved_lower[s] = *e;
        if (!slot_kept(s))
            *e &= s == 0 ? PT_COUNT_MASK : 0;
    }
    tlb_flush_all();
}

/* Puts back what lower_half_empty took. Not-present to present: no flush
 * needed (SDM Vol. 3A 4.10.2.3: nothing was cached for them). */
static void lower_half_restore(void)
{
    for (unsigned s = 0; s < LOWER_SLOTS; s++)
        *pml4_entry(s) = saved_lower[s];
}

/* A run from `entry` (a routine of ring3_user.asm) with RAX and the first
 * two arguments preset, the rest zero. */
static void run(const uint8_t *entry, uint64_t rax, uint64_t rdi, uint64_t rsi,
                uint64_t budget, struct user_outcome *out)
{
    struct user_start s = { 0 };
    s.regs.rip = user_va(entry);
    s.regs.rsp = STACK_TOP;
    s.regs.rax = rax;
    s.regs.rdi = rdi;
    s.regs.rsi = rsi;
    s.tick_budget = budget;
    user_run(&s, out);
}

/* One system call from u_call_exit: its result, or a sentinel with why. */
static int64_t call(uint64_t nr, uint64_t a0, uint64_t a1)
{
    struct user_outcome o;
    run(u_call_exit, nr, a0, a1, 0, &o);
    return o.stop == USER_STOP_EXIT ? (int64_t)o.status : INT64_MIN + o.stop;
}

static void test_getpid(void)
{
    int64_t pid = call(SYS_GETPID, 0, 0);
    result(pid == SYSCALL_FIXED_PID, "ring3: SYS_GETPID round trip returns the pid",
           "got %ld, want %d", pid, SYSCALL_FIXED_PID);
}

static void test_write(void)
{
    uint64_t len = (uint64_t)(u_message_end - u_message);
    int64_t r = call(SYS_WRITE, user_va(u_message), len);
    result(r == (int64_t)len, "ring3: SYS_WRITE prints a user string and returns its length",
           "got %ld, want %lu", r, len);
    uint64_t tail = sizeof(tail_message) - 1, at = GAP_VA - tail;
    r = call(SYS_WRITE, at, tail);
    result(r == (int64_t)tail, "ring3: SYS_WRITE of a buffer ending exactly at its page's end works",
           "got %ld", r);
    r = call(SYS_WRITE, at, tail + 1);
    result(r == -SYS_EFAULT, "ring3: SYS_WRITE one byte past the mapped page gives -SYS_EFAULT",
           "got %ld", r);
}

static void test_write_bad_pointers(void)
{
    const struct { const char *name; uint64_t buf, len; } bad[] = {
        { "ring3: SYS_WRITE of a kernel address gives -SYS_EFAULT",
          (uint64_t)(uintptr_t)kernel_string, 8 },
        { "ring3: SYS_WRITE of a non-canonical address gives -SYS_EFAULT", NON_CANONICAL, 8 },
        { "ring3: SYS_WRITE of an unmapped user address gives -SYS_EFAULT", GAP_VA, 8 },
        { "ring3: SYS_WRITE of a kernel-only lower-half page gives -SYS_EFAULT", KPAGE_VA, 8 },
        { "ring3: SYS_WRITE running from the last user page past USER_END gives -SYS_EFAULT",
          TOP_VA, PAGE_SIZE + 1 },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t r = call(SYS_WRITE, bad[i].buf, bad[i].len);
        result(r == -SYS_EFAULT, bad[i].name, "got %ld for 0x%lx+%lu", r, bad[i].buf, bad[i].len);
    }
}

static void test_enosys(void)
{
    int64_t a = call(SYS_FORK, 0, 0), b = call(SYS_COUNT, 0, 0), c = call(~0ULL, 0, 0);
    result(a == -SYS_ENOSYS && b == -SYS_ENOSYS && c == -SYS_ENOSYS,
           "ring3: an unknown system call gives -SYS_ENOSYS", "fork %ld, SYS_COUNT %ld, ~0 %ld",
           a, b, c);
}

static bool fault_is(const struct user_outcome *o, uint64_t error, uint64_t cr2)
{
    return o->stop == USER_STOP_FAULT && o->vector == X86_VECTOR_PF && o->error_code == error &&
           o->cr2 == cr2;
}

static void test_faults(void)
{
    struct user_outcome o;
    uint64_t kernel_code = (uint64_t)(uintptr_t)kmain;
    run(u_read, 0, kernel_code, 0, 0, &o);
    result(fault_is(&o, PF_ERR_PRESENT | PF_ERR_USER, kernel_code),
           "ring3: a user read of kernel code faults: protection, read, user (U/S)",
           "stop %d vector %lu error 0x%lx cr2 0x%lx", o.stop, o.vector, o.error_code, o.cr2);
    run(u_write, 0, CODE_VA, 0, 0, &o);
    result(fault_is(&o, PF_ERR_PRESENT | PF_ERR_WRITE | PF_ERR_USER, CODE_VA),
           "ring3: a user write to its read-only code faults: protection, write, user (R/W)",
           "stop %d vector %lu error 0x%lx cr2 0x%lx", o.stop, o.vector, o.error_code, o.cr2);
    run(u_read, 0, GAP_VA, 0, 0, &o);
    result(fault_is(&o, PF_ERR_USER, GAP_VA),
           "ring3: a user read of an unmapped page faults: not present, read, user",
           "stop %d vector %lu error 0x%lx cr2 0x%lx", o.stop, o.vector, o.error_code, o.cr2);
    if (!BOOT_CPU_HAS(info, CPU_NX)) {
        result(1, "ring3: executing the user stack faults (NX)", "%s", "");
        kprintf("  (skipped: this CPU has no NX)\n");
        return;
    }
    struct user_start s = { 0 };
    s.regs.rip = STACK_VA;
    s.regs.rsp = STACK_TOP;
    user_run(&s, &o);
    result(fault_is(&o, PF_ERR_PRESENT | PF_ERR_FETCH | PF_ERR_USER, STACK_VA),
           "ring3: executing the user stack faults: protection, fetch, user (NX)",
           "stop %d vector %lu error 0x%lx cr2 0x%lx", o.stop, o.vector, o.error_code, o.cr2);
}

static void test_timer(void)
{
    struct user_outcome o;
    run(u_loop, 0, 0, 0, TICK_BUDGET, &o);
    result(o.stop == USER_STOP_PREEMPTED && o.ticks >= TICK_BUDGET,
           "ring3: the timer preempts a user for (;;); loop after its tick budget",
           "stop %d after %lu ticks", o.stop, o.ticks);
}

static void test_refused_sysret(void)
{
    struct user_start s = { 0 };
    struct user_outcome o;
    s.regs.rip = USER_END - 2;
    s.regs.rsp = STACK_TOP;
    s.regs.rax = SYS_GETPID;
    user_run(&s, &o);
    result(o.stop == USER_STOP_REFUSED && o.rip == USER_END,
           "ring3: SYSRET to the non-canonical RIP after the last user page is refused",
           "stop %d rip 0x%lx", o.stop, o.rip);
}

/* Every register but RAX, RCX, R11 preset to PATTERN * n; u_preserve makes
 * one system call and exits: the exit frame must still hold them all. */
static void test_preserve(void)
{
    struct user_start s = { 0 };
    struct trap_frame *r = &s.regs;
    uint64_t *regs[] = { &r->rbx, &r->rdx, &r->rsi, &r->rdi, &r->rbp, &r->r8, &r->r9,
                         &r->r10, &r->r12, &r->r13, &r->r14, &r->r15 };
    const unsigned n = sizeof(regs) / sizeof(regs[0]);
    for (unsigned i = 0; i < n; i++)
        *regs[i] = PATTERN * (i + 1);
    r->rip = user_va(u_preserve);
    r->rsp = STACK_TOP - 16;
    r->rax = SYS_GETPID;
    struct user_outcome o;
    user_run(&s, &o);
    const struct syscall_frame *x = &o.exit_frame;
    const uint64_t after[] = { x->rbx, x->rdx, x->rsi, x->rdi, x->rbp, x->r8, x->r9,
                               x->r10, x->r12, x->r13, x->r14, x->r15 };
    unsigned wrong = 0, first = n;
    for (unsigned i = 0; i < n; i++)
        if (after[i] != PATTERN * (i + 1)) {
            wrong++;
            first = first < n ? first : i;
        }
    uint64_t stored;
    stac();
    stored = *va_ptr(STACK_TOP - 16);
    clac();
    result(o.stop == USER_STOP_EXIT && !wrong && x->rsp == STACK_TOP - 16 &&
           stored == SYSCALL_FIXED_PID,
           "ring3: every register but RAX, RCX, R11 (and RSP) is preserved across a system call",
           "stop %d, %u of %u wrong (first: #%u), rsp 0x%lx, result %lu", o.stop, wrong, n, first,
           x->rsp, stored);
}

/* With the lower half emptied: the kernel's own data is still there, the
 * identity map is gone (where the strategy does not live in slot 0). */
static void test_lower_half_gone(void)
{
    struct pt_translation t;
    enum pt_status vga = pt_translate(vaddr(VGA_TEXT_ADDR), &t);
    bool vga_ok = strategy_lives_in_slot0 ? vga == PT_OK : vga == PT_ERR_UNMAPPED;
    result(vga_ok && info->magic == BOOT_INFO_MAGIC,
           "lower half: emptied but the user's slots; the kernel reads BootInfo and prints",
           "identity VGA: %s, BootInfo magic 0x%lx", pt_status_name(vga), info->magic);
}

void ring3_run(const struct boot_info *bi)
{
    info = bi;
    if (!pages_map()) {
        result(0, "ring3: user pages mapped", "no frame or table");
        return;
    }
    kprintf("ring3: PML4 slots 0-255 emptied but %u and %u (user pages)%s\n",
            (unsigned)PT_INDEX(CODE_VA, 4), (unsigned)PT_INDEX(TOP_VA, 4),
            strategy_lives_in_slot0 ? " and 0 (the strategy's tables)" : "");
    lower_half_empty();
    test_lower_half_gone();
    test_getpid();
    test_write();
    test_write_bad_pointers();
    test_enosys();
    test_faults();
    test_timer();
    test_refused_sysret();
    test_preserve();
    lower_half_restore();
    pages_unmap();
}

uint64_t ring3_syscall_null(const struct boot_info *bi)
{
    static uint64_t with[BENCH_RUNS], without[BENCH_RUNS];
    info = bi;
    if ((read_cr4() & CR4_TSD) || !pages_map())
        return 0;
    struct user_outcome o;
    for (unsigned i = 0; i < BENCH_RUNS; i++) {
        run(u_bench, 0, 0, 0, 0, &o);
        with[i] = o.status;
        run(u_bench_empty, 0, 0, 0, 0, &o);
        without[i] = o.status;
    }
    pages_unmap();
    uint64_t a = measure_median(with, BENCH_RUNS), b = measure_median(without, BENCH_RUNS);
    return a > b ? a - b : 0;
}
