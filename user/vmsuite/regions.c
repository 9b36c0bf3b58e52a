/*
 * regions.c - a process has at most SYS_REGIONS_MAX regions (its image's
 * three segments, user/user.ld, its stack, its heap, its mappings):
 * mmap's fills the table up to the limit, one more is ENOMEM; at the limit
 * a munmap that would split a region in two needs a slot too (ENOMEM,
 * nothing changed), while one that trims a region's end needs none.
 */
#include "vmsuite.h"

#define IMAGE_REGIONS 4UL       /* text, rodata, data + bss (user.ld), and the stack */
#define LAST_PAGES 3UL          /* the last mapping: a middle page to cut out */

int case_regions(void)
{
    struct verdict v = { .name = "regions" };
    own_pages();
    struct sys_vmstat s0 = vm_now();
    expect(&v, s0.regions == IMAGE_REGIONS, "%lu regions before (want %lu: the image's three"
           " and the stack)", s0.regions, IMAGE_REGIONS);
    char *m[SYS_REGIONS_MAX];
    unsigned n = 0;
    uint64_t at_below = 0, at_max = 0;
    while (s0.regions + n < SYS_REGIONS_MAX) {
        uint64_t pages = s0.regions + n + 1 == SYS_REGIONS_MAX ? LAST_PAGES : 1;
        m[n] = mmap(0, pages * PAGE, SYS_PROT_WRITE, 0);
        if (!expect(&v, !sys_failed(m[n]), "mapping %u (region %lu): %s", n + 1,
                    s0.regions + n + 1, sys_strerror((long)m[n])))
            break;
        n++;
        if (s0.regions + n == SYS_REGIONS_MAX - 1)
            at_below = vm_now().regions;
    }
    at_max = vm_now().regions;
    expect(&v, at_below == SYS_REGIONS_MAX - 1 && at_max == SYS_REGIONS_MAX,
           "vmstat says %lu regions below the limit, %lu at it (want %u, %u)", at_below, at_max,
           SYS_REGIONS_MAX - 1, SYS_REGIONS_MAX);
    void *over = mmap(0, PAGE, SYS_PROT_WRITE, 0);
    expect(&v, (long)over == -SYS_ENOMEM, "region %u: %s (want ENOMEM)", SYS_REGIONS_MAX + 1,
           sys_failed(over) ? sys_strerror((long)over) : "mapped");
    char *last = m[n - 1];
    last[PAGE] = 1;
    long r = munmap(last + PAGE, PAGE);
    expect(&v, r == -SYS_ENOMEM && last[PAGE] == 1 && vm_now().regions == SYS_REGIONS_MAX,
           "a split at the limit: %s (want ENOMEM, nothing changed)", r ? sys_strerror(r) :
           "done");
    r = munmap(last + (LAST_PAGES - 1) * PAGE, PAGE);
    expect(&v, r == 0 && vm_now().regions == SYS_REGIONS_MAX, "trimming a region's end at the"
           " limit: %s", sys_strerror(r));
    for (unsigned i = 0; i < n; i++)
        munmap(m[i], (i + 1 == n ? LAST_PAGES - 1 : 1) * PAGE);
    struct sys_vmstat s1 = vm_now();
    expect(&v, s1.regions == s0.regions && frames_taken(&s0, &s1, 0), "afterwards %lu"
           " regions (want %lu), %ld frames missing", s1.regions, s0.regions,
           (long)(s0.free_frames - s1.free_frames));
    return verdict(&v, "%u and %u regions map, region %u is ENOMEM, so is a split at the limit;"
                   " a trim is not", SYS_REGIONS_MAX - 1, SYS_REGIONS_MAX, SYS_REGIONS_MAX + 1);
}
