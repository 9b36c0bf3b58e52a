/*
 * uaccess.h - the kernel's reads of user memory (kernel/uaccess.c): a user
 * pointer is checked against the page tables before it is touched, so a
 * bad one is an error for the system call and never a kernel fault.
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include <stdbool.h>
#include <stdint.h>
#include "bootinfo.h"

/* Remembers whether the CPU has SMAP (BootInfo's cpu_features; then
 * kernel/mm/protect.c has turned CR4.SMAP on). Once, at boot. */
void uaccess_init(const struct boot_info *bi);

enum uaccess_need {
    UACCESS_READ,       /* user-accessible at every level */
    UACCESS_WRITE,      /* and writable at every level */
};

/*
 * Whether [va, va + len) lies in the user half (below USER_END, so also
 * canonical) and every page of it is mapped with `need` at every level of
 * the active hierarchy (pt_translate, SDM Vol. 3A 4.6.1). len 0 is fine.
 * While a process runs, pages its regions allow but that have no frame
 * yet (or a shared one, for a write) are resolved first, as the fault the
 * CPU would take (proc_user_touch, kernel/proc/vm.h).
 * Reads page-table entries only; single CPU, interrupts off: the answer
 * holds until the kernel itself changes the tables.
 */
bool uaccess_ok(uint64_t va, uint64_t len, enum uaccess_need need);

/*
 * Copies len bytes from user address src to dst, with SMAP's window open
 * (RFLAGS.AC) for exactly the copy when the CPU has SMAP. The caller has
 * checked src with uaccess_ok(src, len, UACCESS_READ): it does not check.
 */
void uaccess_copy_from(void *dst, uint64_t src, uint64_t len);

/* The other way: len bytes from src to user address dst, which the caller
 * has checked with uaccess_ok(dst, len, UACCESS_WRITE). */
void uaccess_copy_to(uint64_t dst, const void *src, uint64_t len);

/* The fault handler's page work through the faulting process's own
 * mapping (kernel/proc/vm.c), so no strategy needs a kmap slot for it:
 * zeroes the page at user address dst, which the caller has just mapped
 * writable in the active space; copies the page at user address src (the
 * old frame, still mapped there) into dst. Page aligned; SMAP's window
 * open for exactly the copy. */
void uaccess_zero_page(uint64_t dst);
void uaccess_copy_page_from(void *dst, uint64_t src);

#endif
