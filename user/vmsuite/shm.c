/*
 * shm.c - shared memory: frames that belong to a shared object, not to a
 * process, mapped writable by everyone who maps the object.
 *   shm-fork   mmap(SYS_MAP_SHARED) then fork: fork keeps the mapping
 *              shared (not copy-on-write); a write on either side is seen
 *              on the other at once, through the same frame.
 *   shm-named  shm(name) called on each side after the fork (nothing
 *              inherited): the same frames as well; the segment goes with
 *              its last user, so the same name later is a fresh one.
 * A shared frame's references (translate's refs): one for the object
 * that owns it, one for each leaf that maps it. The frames go back when
 * the last mapping of the object goes.
 * Then the limits, each at, below and above: SYS_SHM_PAGES_MAX pages,
 * SYS_SHM_NAME_MAX bytes of name, SYS_SHM_MAX objects at once.
 */
#include "vmsuite.h"

#define SPIN_MAX 10000              /* yields before giving up on the other side */
/* where the two sides leave each other a word, in the first page */
#define FLAG 64
#define REPORT 128

static int spin_until(volatile char *flag, char want)
{
    for (int i = 0; *flag != want && i < SPIN_MAX; i++)
        yield();
    return *flag == want;
}

/* ---- shm-fork ---- */

static int fork_child(volatile char *sh, uint64_t frame0)
{
    yield();
    own_pages();
    struct sys_translation t;
    if (tr((const void *)sh, &t) < 0 || t.frame != frame0 || !(t.prot & SYS_PROT_WRITE) ||
        t.refs != 3)
        return 1;                   /* the object, the parent's leaf, this leaf */
    if (sh[0] != 'p')
        return 2;
    struct sys_vmstat a = vm_now();
    sh[PAGE] = 'c';                 /* page 1: nobody touched it yet */
    struct sys_vmstat b = vm_now();
    if (b.shared_maps - a.shared_maps != 1 || b.faults - a.faults != 1 ||
        !frames_taken(&a, &b, 1))
        return 3;
    if (tr((const void *)(sh + PAGE), &t) < 0 || !(t.prot & SYS_PROT_WRITE) || t.refs != 2)
        return 4;
    *(volatile uint64_t *)(sh + REPORT) = t.frame;
    sh[FLAG] = 1;
    if (!spin_until(sh + FLAG, 2))
        return 5;
    if (sh[PAGE + 1] != 'P')
        return 6;                   /* the parent's write, seen here */
    if (munmap((void *)sh, 2 * PAGE) != 0 || tr((const void *)sh, &t) != -SYS_EFAULT)
        return 7;
    return 0;
}

int case_shm_fork(void)
{
    struct verdict v = { .name = "shm-fork" };
    own_pages();
    struct sys_vmstat s0 = vm_now();
    volatile char *sh = mmap(0, 2 * PAGE, SYS_PROT_WRITE, SYS_MAP_SHARED);
    if (!expect(&v, !sys_failed((void *)sh), "mmap shared: %s", sys_strerror((long)sh)))
        return verdict(&v, "-");
    sh[0] = 'p';
    struct sys_translation t0, t1;
    expect(&v, tr((const void *)sh, &t0) == 0 && t0.refs == 2 && (t0.prot & SYS_PROT_WRITE),
           "page 0 before fork: refs %u (want 2: the object and the leaf)", t0.refs);
    long pid = fork();
    if (pid == 0)
        exit(fork_child(sh, t0.frame));
    own_pages();
    expect(&v, spin_until(sh + FLAG, 1), "the child never wrote its flag");
    expect(&v, sh[PAGE] == 'c', "the parent reads '%c' where the child wrote 'c'", sh[PAGE]);
    uint64_t child_frame = *(volatile uint64_t *)(sh + REPORT);
    expect(&v, tr((const void *)(sh + PAGE), &t1) == 0 && t1.frame == child_frame &&
               (t1.prot & SYS_PROT_WRITE) && t1.refs == 3, "page 1: frame 0x%lx (the child's"
           " 0x%lx), prot %u, refs %u (want 3)", t1.frame, child_frame, t1.prot, t1.refs);
    sh[PAGE + 1] = 'P';
    sh[FLAG] = 2;
    int status = -2;
    long waited = wait(pid, &status);
    expect(&v, waited == pid && status == 0, "the child's check %d"
           " failed (1 same frame, refs 3; 2 parent's byte; 3 its first touch; 4 its frame;"
           " 5-6 the parent's write; 7 munmap)", status);
    struct sys_translation t;
    expect(&v, sh[PAGE] == 'c' && tr((const void *)sh, &t) == 0 && t.frame == t0.frame &&
               t.refs == 2, "after the child's munmap and exit: page 0 refs %u (want 2)",
           t.refs);
    struct sys_vmstat s1 = vm_now();
    expect(&v, s1.shared_maps - s0.shared_maps == 2, "the parent mapped %lu shared frames"
           " (want 2)", s1.shared_maps - s0.shared_maps);
    munmap((void *)sh, 2 * PAGE);
    struct sys_vmstat s2 = vm_now();
    expect(&v, frames_taken(&s0, &s2, 0), "after both unmapped: %ld frames missing",
           (long)(s0.free_frames - s2.free_frames));
    return verdict(&v, "frames 0x%lx and 0x%lx in both, writable, refs 3 (the object and two"
                   " leaves); each side saw the other's write; munmap in the child left the"
                   " parent's; all frames back", t0.frame, t1.frame);
}

/* ---- shm-named ---- */

#define NAME "vmsuite-seg"

static int named_child(void)
{
    yield();
    own_pages();
    volatile char *c = shm(NAME, 2 * PAGE, SYS_PROT_WRITE);
    if (sys_failed((void *)c))
        return 1;
    if (!spin_until(c + FLAG, 1))
        return 2;
    struct sys_translation t;
    if (c[0] != 'P' || tr((const void *)c, &t) < 0 ||
        t.frame != *(volatile uint64_t *)(c + REPORT) || !(t.prot & SYS_PROT_WRITE) ||
        t.refs != 3)
        return 3;                   /* the object, the parent's leaf, this leaf */
    c[1] = 'C';
    c[FLAG + 1] = 1;
    return munmap((void *)c, 2 * PAGE) == 0 ? 0 : 4;
}

int case_shm_named(void)
{
    struct verdict v = { .name = "shm-named" };
    own_pages();
    struct sys_vmstat s0 = vm_now();
    long pid = fork();
    if (pid == 0)
        exit(named_child());
    own_pages();
    volatile char *p = shm(NAME, 2 * PAGE, SYS_PROT_WRITE);
    if (!expect(&v, !sys_failed((void *)p), "shm(\"%s\"): %s", NAME, sys_strerror((long)p)))
        return verdict(&v, "-");
    p[0] = 'P';
    struct sys_translation t;
    tr((const void *)p, &t);
    *(volatile uint64_t *)(p + REPORT) = t.frame;
    p[FLAG] = 1;
    expect(&v, spin_until(p + FLAG + 1, 1), "the other process never wrote its flag");
    expect(&v, p[1] == 'C', "read '%c' where the other process wrote 'C'", p[1]);
    munmap((void *)p, 2 * PAGE);
    int status = -2;
    long waited = wait(pid, &status);
    expect(&v, waited == pid && status == 0, "the other side's check %d"
           " failed (1 shm; 2 flag; 3 same frame, writable, refs 3; 4 munmap)", status);
    volatile char *q = shm(NAME, PAGE, SYS_PROT_WRITE);
    expect(&v, !sys_failed((void *)q) && q[0] == 0 && q[1] == 0,
           "the name again after both unmapped is not a fresh zeroed segment");
    munmap((void *)q, PAGE);
    struct sys_vmstat s1 = vm_now();
    expect(&v, frames_taken(&s0, &s1, 0), "after both unmapped: %ld frames missing",
           (long)(s0.free_frames - s1.free_frames));
    return verdict(&v, "\"%s\" mapped by each process on its own: frame 0x%lx in both,"
                   " writable, refs 3, each saw the other's byte; gone with its last user",
                   NAME, t.frame);
}

/* ---- the limits ---- */

/* Maps a named segment of `pages` pages (bytes more), touches its last
 * page and unmaps it: 0, or the error shm returned. */
static long try_shm(const char *name, uint64_t pages, uint64_t bytes)
{
    uint64_t len = pages * PAGE + bytes;
    volatile char *m = shm(name, len, SYS_PROT_WRITE);
    if (sys_failed((void *)m))
        return (long)m;
    m[len - 1] = 1;
    munmap((void *)m, (len + PAGE - 1) & ~(PAGE - 1));
    return 0;
}

int case_shm_pages(void)
{
    struct verdict v = { .name = "shm-pages" };
    own_pages();
    struct sys_vmstat s0 = vm_now();
    long r;
    r = try_shm("pages-max", SYS_SHM_PAGES_MAX, 0);
    expect(&v, r == 0, "%u pages (the limit): %s", SYS_SHM_PAGES_MAX, sys_strerror(r));
    r = try_shm("pages-below", SYS_SHM_PAGES_MAX - 1, 0);
    expect(&v, r == 0, "%u pages: %s", SYS_SHM_PAGES_MAX - 1, sys_strerror(r));
    r = try_shm("pages-above", SYS_SHM_PAGES_MAX + 1, 0);
    expect(&v, r == -SYS_EINVAL, "%u pages: %s (want EINVAL)", SYS_SHM_PAGES_MAX + 1,
           r ? sys_strerror(r) : "mapped");
    r = try_shm("pages-byte", SYS_SHM_PAGES_MAX, 1);
    expect(&v, r == -SYS_EINVAL, "%u pages and a byte: %s (want EINVAL)", SYS_SHM_PAGES_MAX,
           r ? sys_strerror(r) : "mapped");
    void *m = mmap(0, SYS_SHM_PAGES_MAX * PAGE, SYS_PROT_WRITE, SYS_MAP_SHARED);
    expect(&v, !sys_failed(m), "mmap shared of %u pages: %s", SYS_SHM_PAGES_MAX,
           sys_strerror((long)m));
    if (!sys_failed(m))
        munmap(m, SYS_SHM_PAGES_MAX * PAGE);
    m = mmap(0, (SYS_SHM_PAGES_MAX + 1) * PAGE, SYS_PROT_WRITE, SYS_MAP_SHARED);
    expect(&v, (long)m == -SYS_EINVAL, "mmap shared of %u pages: %s (want EINVAL)",
           SYS_SHM_PAGES_MAX + 1, sys_failed(m) ? sys_strerror((long)m) : "mapped");
    /* a segment keeps its size: a later, larger request is refused */
    volatile char *a = shm("pages-grow", PAGE, SYS_PROT_WRITE);
    void *b = shm("pages-grow", 2 * PAGE, SYS_PROT_WRITE);
    expect(&v, !sys_failed((void *)a) && (long)b == -SYS_EINVAL, "a 1-page segment asked for"
           " 2 pages: %s (want EINVAL)", sys_failed(b) ? sys_strerror((long)b) : "mapped");
    munmap((void *)a, PAGE);
    struct sys_vmstat s1 = vm_now();
    expect(&v, frames_taken(&s0, &s1, 0), "%ld frames missing afterwards",
           (long)(s0.free_frames - s1.free_frames));
    return verdict(&v, "%u and %u pages map (named and MAP_SHARED), %u pages and %u pages + 1"
                   " byte are EINVAL", SYS_SHM_PAGES_MAX - 1, SYS_SHM_PAGES_MAX,
                   SYS_SHM_PAGES_MAX + 1, SYS_SHM_PAGES_MAX);
}

int case_shm_name(void)
{
    struct verdict v = { .name = "shm-name" };
    char name[SYS_SHM_NAME_MAX + 1];
    for (unsigned len = SYS_SHM_NAME_MAX - 2; len <= SYS_SHM_NAME_MAX; len++) {
        for (unsigned i = 0; i < len; i++)
            name[i] = (char)('a' + i);
        name[len] = 0;
        long r = try_shm(name, 1, 0);
        long want = len < SYS_SHM_NAME_MAX ? 0 : -SYS_EINVAL;
        expect(&v, r == want, "a name of %u characters: %s (want %s)", len,
               r ? sys_strerror(r) : "mapped", want ? sys_strerror(want) : "mapped");
    }
    long r = try_shm("", 1, 0);
    expect(&v, r == -SYS_EINVAL, "the empty name: %s (want EINVAL)", r ? sys_strerror(r) :
           "mapped");
    return verdict(&v, "names of %u and %u characters map, %u (no room for the NUL) and the"
                   " empty name are EINVAL", SYS_SHM_NAME_MAX - 2, SYS_SHM_NAME_MAX - 1,
                   SYS_SHM_NAME_MAX);
}

int case_shm_count(void)
{
    struct verdict v = { .name = "shm-count" };
    own_pages();
    struct sys_vmstat s0 = vm_now();
    void *seg[SYS_SHM_MAX];
    char name[8] = "count-0";
    for (unsigned i = 0; i < SYS_SHM_MAX; i++) {
        name[6] = (char)('0' + i);
        seg[i] = shm(name, PAGE, SYS_PROT_WRITE);
        expect(&v, !sys_failed(seg[i]), "segment %u of %u: %s", i + 1, SYS_SHM_MAX,
               sys_strerror((long)seg[i]));
    }
    void *more = shm("count-more", PAGE, SYS_PROT_WRITE);
    expect(&v, (long)more == -SYS_ENOMEM, "segment %u: %s (want ENOMEM)", SYS_SHM_MAX + 1,
           sys_failed(more) ? sys_strerror((long)more) : "mapped");
    more = mmap(0, PAGE, SYS_PROT_WRITE, SYS_MAP_SHARED);
    expect(&v, (long)more == -SYS_ENOMEM, "an anonymous shared object beyond them: %s (want"
           " ENOMEM)", sys_failed(more) ? sys_strerror((long)more) : "mapped");
    void *again = shm("count-0", PAGE, SYS_PROT_WRITE);   /* an existing one: no new object */
    expect(&v, !sys_failed(again), "a second mapping of an existing segment: %s",
           sys_strerror((long)again));
    if (!sys_failed(again))
        munmap(again, PAGE);
    munmap(seg[SYS_SHM_MAX - 1], PAGE);
    more = shm("count-more", PAGE, SYS_PROT_WRITE);
    expect(&v, !sys_failed(more), "after one went, a new one: %s", sys_strerror((long)more));
    if (!sys_failed(more))
        munmap(more, PAGE);
    for (unsigned i = 0; i + 1 < SYS_SHM_MAX; i++)
        if (!sys_failed(seg[i]))
            munmap(seg[i], PAGE);
    struct sys_vmstat s1 = vm_now();
    expect(&v, frames_taken(&s0, &s1, 0), "%ld frames missing afterwards",
           (long)(s0.free_frames - s1.free_frames));
    return verdict(&v, "%u segments at once map, the %uth named or anonymous is ENOMEM; with"
                   " one gone a new one maps", SYS_SHM_MAX, SYS_SHM_MAX + 1);
}
