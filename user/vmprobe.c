/*
 * vmprobe.c - paging seen from user space (a placeholder for the isolation
 * demos): translate its own code, data and stack addresses and print the
 * frame, page size and effective permissions the kernel's page tables
 * give them, then its vmstat counters.
 */
#include "pagelab.h"

static int data_word = 42;     /* .data: writable, not executable */
static const char message[] = "read-only";

static void show(const char *what, const void *va)
{
    struct sys_translation t;
    long r = translate(va, &t);
    if (r < 0) {
        printf("vmprobe: %s %p: %s\n", what, va, sys_strerror(r));
        return;
    }
    printf("vmprobe: %s %p -> frame 0x%llx, %llu bytes, level %u,%s%s%s\n", what, va,
           (unsigned long long)t.frame, (unsigned long long)t.size, t.level,
           t.prot & SYS_PROT_WRITE ? " write" : " read-only",
           t.prot & SYS_PROT_EXEC ? " exec" : " no-exec", t.prot & SYS_TR_USER ? " user" : "");
}

int main(void)
{
    int on_stack = data_word;
    struct sys_vmstat st;
    show("code", (const void *)main);
    show("rodata", message);
    show("data", &data_word);
    show("stack", &on_stack);
    if (vmstat(&st) == 0)
        printf("vmprobe: %llu faults, %llu frames, %llu tables\n",
               (unsigned long long)st.faults, (unsigned long long)st.frames,
               (unsigned long long)st.tables);
    return 0;
}
