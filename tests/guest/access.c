/*
 * access.c - access rights tested exhaustively on the CPU, the way
 * kvm-unit-tests x86/access.c does: one 4 KiB page, every combination of
 * W, U and NX in each of the four entries on its path (levels 4..1), under
 * every setting of CR0.WP, CR4.SMEP, CR4.SMAP and RFLAGS.AC the CPU
 * offers, read, written and fetched from ring 0. For each access three
 * answers must agree: the fault the CPU raises (or not, through the probes
 * of kernel/probe.asm), a prediction written from Intel SDM Vol. 3A 4.6
 * "Access Rights" alone (sdm_allows, from the bits this file wrote), and
 * the same rule applied to what pt_tr_prot reports for the page.
 *
 * Supervisor mode only: user-mode accesses join when the kernel has
 * processes (ring 3) to make them from. EFER.NXE is not toggled: the
 * kernel's own pages carry NX, which is a reserved bit without NXE.
 *
 * Used by the selftest variant (variant_selftest.c) in every strategy's
 * test kernel. The page lives alone in PML4 slot ACCESS_TEST_BASE
 * (include/layout.h), so its three tables are this file's alone and are
 * freed again at the end.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include "access.h"
#include "console.h"
#include "cpu.h"
#include "layout.h"
#include "measure.h"
#include "pmm.h"
#include "pt.h"
#include "strategy.h"
#include "tlb.h"
#include "trap.h"
#include "x86.h"

/* Index 1 at every level below the PML4: no entry under test is entry 0
 * of its table, which carries the core's used-entry count (pt.h). */
#define ACCESS_VA    (ACCESS_TEST_BASE + PT_LEVEL_SPAN(3) + PT_LEVEL_SPAN(2) + PT_LEVEL_SPAN(1))
#define DATA_OFFSET  (PAGE_SIZE / 2)     /* reads and writes; the RET is at offset 0 */
#define LEVELS_ALL   ((1u << PT_LEVELS) - 1)
#define RIGHTS_BITS  (3 * PT_LEVELS)     /* W, U, NX for each level */
#define STATE_COUNT  16                  /* WP x SMEP x SMAP x AC */
#define RIGHTS_MASK  (PTE_W | PTE_U | PTE_NX)

/* Which entries on the path have each bit: bit L-1 stands for level L. */
struct rights {
    unsigned w, u, nx;
};

struct cpu_state {
    bool wp, smep, smap, ac;
};

enum access_kind { ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH, ACCESS_KINDS };

static const char *const kind_name[ACCESS_KINDS] = { "read", "write", "fetch" };

/* One access kind's tally; the first mismatch is kept for the FAIL line. */
struct tally {
    unsigned checked, faults, wrong, prot_wrong;
    unsigned first_rights, first_state;
    int first_fault;
    struct probe_fault first_seen;
};

static const struct boot_info *info;
static bool nxe;

static bool has(enum cpu_feature_bit f)
{
    return (info->cpu_features >> f) & 1;
}

static struct rights rights_of(unsigned combo)
{
    return (struct rights){ combo & LEVELS_ALL, (combo >> PT_LEVELS) & LEVELS_ALL,
                            (combo >> 2 * PT_LEVELS) & LEVELS_ALL };
}

static struct cpu_state state_of(unsigned s)
{
    return (struct cpu_state){ s & 8, s & 4, s & 2, s & 1 };
}

/* A state the CPU can be put in: setting an unsupported CR4 bit is a #GP
 * (SDM Vol. 3A 2.5). AC is always settable; without SMAP it changes
 * nothing in ring 0 (alignment checks are for CPL 3, SDM 6.15 #AC). */
static bool state_possible(const struct cpu_state *s)
{
    return (!s->smep || has(CPU_SMEP)) && (!s->smap || has(CPU_SMAP));
}

static pte_t with_rights(pte_t e, const struct rights *r, unsigned level)
{
    unsigned bit = 1u << (level - 1);
    e &= ~RIGHTS_MASK;
    return e | ((r->w & bit) ? PTE_W : 0) | ((r->u & bit) ? PTE_U : 0) |
           ((r->nx & bit) ? PTE_NX : 0);
}

/*
 * Writes the rights into the four entries on ACCESS_VA's path (or, with
 * raw, puts saved[] back). The core has no call that changes W/U/NX of a
 * table entry (permissions are decided at the leaf), so this writes
 * through the strategy's entry pointers, keeping every other bit. With the
 * recursive strategy a table is reached through the very entries under
 * test, which may have W = 0: CR0.WP = 0 meanwhile lets a supervisor write
 * ignore R/W (SDM Vol. 3A 4.6.1). Then one INVLPG drops the page's TLB
 * entry and every paging-structure-cache entry (SDM 4.10.4.1), so the next
 * access walks the new entries.
 */
static void write_path(const struct rights *r, const pte_t *raw)
{
    uint64_t cr0 = read_cr0();
    write_cr0(cr0 & ~(uint64_t)CR0_WP);
    paddr_t frame = cpu_read_cr3();
    for (unsigned level = PT_LEVELS; level >= 1; level--) {
        volatile pte_t *p = strategy_entry_get(level, vaddr(ACCESS_VA), frame);
        *p = raw ? raw[level] : with_rights(*p, r, level);
        frame = paddr(*p & PTE_ADDR_MASK);
    }
    write_cr0(cr0);
    tlb_invlpg(vaddr(ACCESS_VA));
}

/* CR0.WP, CR4.SMEP/SMAP and RFLAGS.AC as s says; then an INVLPG, so that
 * the access after it is decided by a fresh walk under these settings
 * rather than by whatever a TLB entry kept (SDM 4.10.2). */
static void state_apply(const struct cpu_state *s)
{
    uint64_t cr0 = (read_cr0() & ~(uint64_t)CR0_WP) | (s->wp ? CR0_WP : 0);
    uint64_t cr4 = (read_cr4() & ~(uint64_t)(CR4_SMEP | CR4_SMAP)) | (s->smep ? CR4_SMEP : 0) |
                   (s->smap ? CR4_SMAP : 0);
    if (cr0 != read_cr0())
        write_cr0(cr0);
    if (cr4 != read_cr4())
        write_cr4(cr4);
    rflags_ac(s->ac);
    tlb_invlpg(vaddr(ACCESS_VA));
}

/*
 * Whether a supervisor-mode access is allowed, from Intel SDM Vol. 3A
 * 4.6.1 "Determination of Access Rights" (explicit accesses, 4-level
 * paging). user_page: U/S = 1 in every entry of the path (4.6: otherwise a
 * supervisor-mode address); writable: R/W = 1 in every entry; executable:
 * XD = 0 in every entry, or IA32_EFER.NXE = 0.
 *   read:  any supervisor-mode address; a user-mode one unless CR4.SMAP = 1
 *          and RFLAGS.AC = 0.
 *   write: as read for SMAP; then with CR0.WP = 0 any address, with
 *          CR0.WP = 1 only writable ones.
 *   fetch: never a user-mode address with CR4.SMEP = 1 (AC plays no part);
 *          otherwise only executable ones.
 */
static bool sdm_allows(bool user_page, bool writable, bool executable,
                       const struct cpu_state *s, enum access_kind k)
{
    bool smap_blocks = user_page && s->smap && !s->ac;
    if (k == ACCESS_READ)
        return !smap_blocks;
    if (k == ACCESS_WRITE)
        return !smap_blocks && (!s->wp || writable);
    return !(user_page && s->smep) && executable;
}

/* The page-fault error code of a refused access (SDM Vol. 3A 4.7): P = 1
 * (the page is present), W/R for a write, U/S = 0 (ring 0), I/D for a
 * fetch when SMEP or NXE is on (both are whenever a fetch can be refused). */
static uint64_t sdm_error_code(const struct cpu_state *s, enum access_kind k)
{
    return PF_ERR_PRESENT | (k == ACCESS_WRITE ? PF_ERR_WRITE : 0) |
           (k == ACCESS_FETCH && (s->smep || nxe) ? PF_ERR_FETCH : 0);
}

/* PT_PROT_* the page must report: SDM 4.6.1 combines the levels as the
 * AND of R/W, the AND of U/S and the OR of XD. */
static uint32_t sdm_prot(const struct rights *r)
{
    return (r->w == LEVELS_ALL ? PT_PROT_WRITE : 0) | (r->u == LEVELS_ALL ? PT_PROT_USER : 0) |
           (!nxe || r->nx == 0 ? PT_PROT_EXEC : 0);
}

static uint64_t access_addr(enum access_kind k)
{
    return ACCESS_VA + (k == ACCESS_FETCH ? 0 : DATA_OFFSET);
}

/* 1 if the access faulted (probe_last_fault() says how), 0 if it worked. */
static int access_do(enum access_kind k)
{
    if (k == ACCESS_READ)
        return probe_read(va_ptr(access_addr(k)));
    if (k == ACCESS_WRITE)
        return probe_write((volatile uint8_t *)va_ptr(access_addr(k)), 0);
    return probe_exec((const void *)va_ptr(access_addr(k)));
}

static void check_access(struct tally *t, unsigned combo, unsigned si, uint32_t prot,
                         enum access_kind k)
{
    struct rights r = rights_of(combo);
    struct cpu_state s = state_of(si);
    bool allowed = sdm_allows(r.u == LEVELS_ALL, r.w == LEVELS_ALL, !nxe || r.nx == 0, &s, k);
    bool prot_allowed = sdm_allows(prot & PT_PROT_USER, prot & PT_PROT_WRITE,
                                   prot & PT_PROT_EXEC, &s, k);
    int fault = access_do(k);
    const struct probe_fault *f = probe_last_fault();
    bool right = fault ? !allowed && f->vector == 14 && f->error_code == sdm_error_code(&s, k) &&
                             f->cr2 == access_addr(k)
                       : allowed;
    t->checked++;
    t->faults += fault;
    t->prot_wrong += prot_allowed == !!fault;
    if (!right && t->wrong++ == 0) {
        t->first_rights = combo;
        t->first_state = si;
        t->first_fault = fault;
        t->first_seen = *f;
    }
}

/* "PASS: guest/<strategy>: access: <name>" and, on FAIL, ": " and the
 * caller's details on the same line (variant.h's format); the caller ends
 * the line with line_end. */
static void line_start(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_start(bool ok, const char *fmt, ...)
{
    va_list ap;
    kprintf("%s: guest/%s: access: ", ok ? "PASS" : "FAIL", strategy_name());
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    if (!ok)
        kprintf(": ");
}

static void line_end(void)
{
    kprintf("\n");
}

static void report_kind(const struct tally *t, enum access_kind k, unsigned combos,
                        unsigned states)
{
    /* Every access as predicted: so the faults are exactly as many as the
     * predicate expects (for reads without SMAP: none). */
    bool ok = t->wrong == 0 && t->prot_wrong == 0 && t->checked == combos * states;
    line_start(ok, "%s: %u supervisor accesses (%u W/U/NX combinations x %u CPU states), %u"
               " faults, each as SDM 4.6.1 predicts and pt_tr_prot agrees", kind_name[k],
               t->checked, combos, states, t->faults);
    if (!ok && t->wrong) {
        struct rights r = rights_of(t->first_rights);
        struct cpu_state s = state_of(t->first_state);
        kprintf("%u wrong, first W %x U %x NX %x (bit L-1: level L) WP %d SMEP %d SMAP %d AC %d:"
                " ", t->wrong, r.w, r.u, r.nx, s.wp, s.smep, s.smap, s.ac);
        if (t->first_fault)
            kprintf("vector %llu error 0x%llx CR2 0x%llx, ",
                    (unsigned long long)t->first_seen.vector,
                    (unsigned long long)t->first_seen.error_code,
                    (unsigned long long)t->first_seen.cr2);
        else
            kprintf("no fault, ");
        kprintf("predicted error 0x%llx if refused; ",
                (unsigned long long)sdm_error_code(&s, k));
    }
    if (!ok)
        kprintf("%u where pt_tr_prot disagrees with the CPU", t->prot_wrong);
    line_end();
}

/* The first combination whose translation was wrong, for the FAIL line. */
struct prot_miss {
    unsigned count, combo, level;
    bool path_ok;
    enum pt_status status;
    uint32_t prot;
};

/* Whether the entries of the path, as the walk read them, carry exactly
 * the rights meant for their levels (bit L-1 of each mask: level L). */
static bool path_holds(const struct pt_translation *t, const struct rights *r)
{
    unsigned w = 0, u = 0, nx = 0;
    for (unsigned level = 1; level <= PT_LEVELS; level++) {
        w |= !!(t->path[level] & PTE_W) << (level - 1);
        u |= !!(t->path[level] & PTE_U) << (level - 1);
        nx |= !!(t->path[level] & PTE_NX) << (level - 1);
    }
    return w == r->w && u == r->u && nx == r->nx;
}

/* pt_translate of the page after write_path: PT_OK, a 4 KiB leaf at the
 * frame, each level's entry with its own rights, and the permissions
 * sdm_prot expects. Returns pt_tr_prot. */
static uint32_t check_prot(unsigned combo, paddr_t frame, struct prot_miss *miss)
{
    struct rights r = rights_of(combo);
    struct pt_translation t;
    enum pt_status st = pt_translate(vaddr(ACCESS_VA), &t);
    uint32_t prot = st == PT_OK ? pt_tr_prot(&t) : 0;
    bool path_ok = st == PT_OK && path_holds(&t, &r);
    if ((st != PT_OK || t.level != 1 || t.pa.pa != frame.pa || !path_ok ||
         prot != sdm_prot(&r)) &&
        miss->count++ == 0)
        *miss = (struct prot_miss){ 1, combo, t.level, path_ok, st, prot };
    return prot;
}

/* The page: one frame, RET at offset 0, mapped W + X + U so that pt_map
 * links every table P|W|U and each bit can then be taken away. */
static enum pt_status page_map(paddr_t *frame)
{
    if (pmm_alloc(PMM_ZONE_GENERAL, frame) != PMM_OK)
        return PT_ERR_NO_FRAMES;
    enum pt_status st = pt_map(vaddr(ACCESS_VA), *frame, PAGE_SIZE,
                               PT_PROT_WRITE | PT_PROT_EXEC | PT_PROT_USER, 0);
    if (st != PT_OK) {
        pmm_free(PMM_ZONE_GENERAL, *frame);
        return st;
    }
    stac();                                 /* a user page: SMAP wants AC to write it */
    *(volatile uint8_t *)va_ptr(ACCESS_VA) = X86_OPCODE_RET;
    clac();
    return PT_OK;
}

static uint64_t rflags_read(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}

/* CPUID leaf 0x40000000's signature when CPUID.1:ECX[31] says a
 * hypervisor is there (the leaf is reserved for hypervisors; QEMU's TCG
 * answers "TCGTCGTCGTCG", KVM "KVMKVMKVM"); "" on bare hardware. */
static void hypervisor_signature(char sig[13])
{
    uint32_t r[4] = { 1, 0, 0, 0 };
    sig[0] = 0;
    __asm__ volatile("cpuid" : "+a"(r[0]), "=b"(r[1]), "+c"(r[2]), "=d"(r[3]));
    if (!(r[2] >> 31))
        return;
    r[0] = 0x40000000;
    r[2] = 0;
    __asm__ volatile("cpuid" : "+a"(r[0]), "=b"(r[1]), "+c"(r[2]), "=d"(r[3]));
    for (unsigned i = 0; i < 12; i++)
        sig[i] = (char)(r[1 + i / 4] >> (8 * (i % 4)));
    sig[12] = 0;
}

static bool str_is(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/*
 * The instructions themselves (SDM Vol. 2, STAC and CLAC): on a user page
 * with SMAP on, a read and a write work after STAC and fault after CLAC.
 * The loop above sets RFLAGS.AC with POPF, as the kernel does (kernel/cpu.h):
 * nested KVM here advertises SMAP yet fails on CLAC, so under KVM the
 * instructions are left out and the line says so; TCG and hardware run them.
 */
static void check_stac_clac(const struct cpu_state *boot)
{
    char sig[13];
    hypervisor_signature(sig);
    if (!has(CPU_SMAP) || str_is(sig, "KVMKVMKVM")) {
        line_start(true, "STAC/CLAC: not executed (%s)", has(CPU_SMAP) ? "under KVM, whose "
                   "nested CLAC is unreliable: AC through POPF is tested above" : "no SMAP");
        line_end();
        return;
    }
    struct rights user = { LEVELS_ALL, LEVELS_ALL, 0 };
    struct cpu_state smap = { boot->wp, boot->smep, true, false };
    write_path(&user, 0);
    state_apply(&smap);
    __asm__ volatile("stac" : : : "memory", "cc");
    bool ac_set = rflags_read() & RFLAGS_AC;
    int read_stac = access_do(ACCESS_READ), write_stac = access_do(ACCESS_WRITE);
    __asm__ volatile("clac" : : : "memory", "cc");
    bool ac_clear = !(rflags_read() & RFLAGS_AC);
    int read_clac = access_do(ACCESS_READ);
    bool read_code = probe_last_fault()->error_code == PF_ERR_PRESENT;
    int write_clac = access_do(ACCESS_WRITE);
    bool write_code = probe_last_fault()->error_code == (PF_ERR_PRESENT | PF_ERR_WRITE);
    state_apply(boot);
    bool ok = ac_set && ac_clear && !read_stac && !write_stac && read_clac && read_code &&
              write_clac && write_code;
    line_start(ok, "STAC lets the kernel read and write a user page, CLAC makes both fault"
               " (SMAP on, %s)", sig[0] ? sig : "no hypervisor");
    if (!ok)
        kprintf("AC after STAC %d, after CLAC %d; after STAC read %d write %d; after CLAC"
                " read %d (code %d) write %d (code %d)", ac_set, !ac_clear, read_stac,
                write_stac, read_clac, read_code, write_clac, write_code);
    line_end();
}

/* Every combination under every possible state; *miss and tally[] get
 * the mismatches. Ends each combination back in the boot state. */
static void run_all(paddr_t frame, unsigned combos, const struct cpu_state *boot,
                    struct prot_miss *miss, struct tally tally[ACCESS_KINDS])
{
    for (unsigned combo = 0; combo < combos; combo++) {
        struct rights r = rights_of(combo);
        write_path(&r, 0);
        uint32_t prot = check_prot(combo, frame, miss);
        for (unsigned si = 0; si < STATE_COUNT; si++) {
            struct cpu_state s = state_of(si);
            if (!state_possible(&s))
                continue;
            state_apply(&s);
            for (unsigned k = 0; k < ACCESS_KINDS; k++)
                check_access(&tally[k], combo, si, prot, (enum access_kind)k);
        }
        state_apply(boot);
    }
}

static void report_prot(const struct prot_miss *miss, unsigned combos)
{
    line_start(miss->count == 0, "pt_tr_prot of %u W/U/NX combinations over 4 levels is the"
               " AND of W, the AND of U, the OR of NX (SDM 4.6.1)", combos);
    if (miss->count) {
        struct rights r = rights_of(miss->combo);
        kprintf("%u wrong, first W %x U %x NX %x: %s level %u, entries %s, prot 0x%x,"
                " expected 0x%x", miss->count, r.w, r.u, r.nx, pt_status_name(miss->status),
                miss->level, miss->path_ok ? "as written" : "not as written", miss->prot,
                sdm_prot(&r));
    }
    line_end();
}

/* What access_run found when it started, to compare with at the end. */
struct before {
    uint64_t cr0, cr4, ac;
    unsigned tables;
    uint64_t free;
    pte_t path[PT_LEVELS + 1];   /* the page's entries right after pt_map */
};

/* Puts the entries back, unmaps the page, frees its frame and reports
 * whether everything is as it was. */
static void restore_and_report(const struct before *b, paddr_t frame)
{
    struct pt_translation t;
    write_path(0, b->path);
    pt_translate(vaddr(ACCESS_VA), &t);
    bool entries = true;
    for (unsigned level = 1; level <= PT_LEVELS; level++)
        entries = entries && ((t.path[level] ^ b->path[level]) & ~(PTE_A | PTE_D)) == 0;
    paddr_t got = paddr(0);
    enum pt_status un = pt_unmap(vaddr(ACCESS_VA), &got, 0);
    pmm_free(PMM_ZONE_GENERAL, frame);
    struct pmm_counters after;
    pmm_get_counters(PMM_ZONE_GENERAL, &after);
    bool regs = read_cr0() == b->cr0 && read_cr4() == b->cr4 &&
                (rflags_read() & RFLAGS_AC) == b->ac;
    unsigned tables = measure_tables();
    bool ok = regs && entries && un == PT_OK && got.pa == frame.pa && tables == b->tables &&
              after.free == b->free;
    line_start(ok, "CR0, CR4, RFLAGS.AC, the entries, the tables and the frame are as before");
    if (!ok)
        kprintf("registers %d, entries %d, unmap %s, tables %u -> %u, free %llu -> %llu", regs,
                entries, pt_status_name(un), b->tables, tables, (unsigned long long)b->free,
                (unsigned long long)after.free);
    line_end();
}

void access_run(const struct boot_info *bi)
{
    info = bi;
    nxe = (rdmsr(MSR_EFER) & EFER_NXE) != 0;
    struct pmm_counters c;
    pmm_get_counters(PMM_ZONE_GENERAL, &c);
    struct before b = { read_cr0(), read_cr4(), rflags_read() & RFLAGS_AC, measure_tables(),
                        c.free, { 0 } };
    struct cpu_state boot = { b.cr0 & CR0_WP, b.cr4 & CR4_SMEP, b.cr4 & CR4_SMAP, b.ac };
    paddr_t frame;
    enum pt_status st = page_map(&frame);
    if (st != PT_OK) {
        line_start(false, "map the page under test");
        kprintf("%s", pt_status_name(st));
        line_end();
        return;
    }
    struct pt_translation t;
    pt_translate(vaddr(ACCESS_VA), &t);
    for (unsigned level = 1; level <= PT_LEVELS; level++)
        b.path[level] = t.path[level];
    /* Without NXE bit 63 is reserved (SDM 4.5.4): the NX bits stay 0. */
    unsigned combos = 1u << (nxe ? RIGHTS_BITS : RIGHTS_BITS - PT_LEVELS), states = 0;
    for (unsigned si = 0; si < STATE_COUNT; si++) {
        struct cpu_state s = state_of(si);
        states += state_possible(&s);
    }
    struct prot_miss miss = { 0, 0, 0, true, PT_OK, 0 };
    struct tally tally[ACCESS_KINDS] = { { 0 } };
    run_all(frame, combos, &boot, &miss, tally);
    report_prot(&miss, combos);
    for (unsigned k = 0; k < ACCESS_KINDS; k++)
        report_kind(&tally[k], (enum access_kind)k, combos, states);
    check_stac_clac(&boot);
    restore_and_report(&b, frame);
}
