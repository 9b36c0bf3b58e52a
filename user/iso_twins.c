/*
 * iso_twins.c - isolation demo: fork, then parent and child write
 * different values to the same variable, each reads its own back, and each
 * prints the frame the kernel's page tables give that same address
 * (translate, after the write: until then fork's copy-on-write shares one
 * frame): two processes, one virtual address, two frames. The parent
 * waits for the child and checks its exit status.
 */
#include "pagelab.h"

static volatile long shared_name = 1;    /* .data: at one address in both */

static void report(const char *who, long value)
{
    struct sys_translation t;
    shared_name = value;                 /* the first write after fork: copy-on-write */
    yield();                             /* let the other one write too */
    long r = translate((const void *)&shared_name, &t);
    printf("iso_twins: %s pid %ld: %p -> frame 0x%llx, holds %ld (wrote %ld)\n", who, getpid(),
           (void *)&shared_name, r < 0 ? 0ULL : (unsigned long long)t.frame, shared_name, value);
}

int main(void)
{
    long child = fork();
    if (child < 0) {
        printf("iso_twins: fork: %s\n", sys_strerror(child));
        return 1;
    }
    if (child == 0) {
        report("child", 2222);
        return 7;
    }
    report("parent", 1111);
    int status = -1;
    long got = wait(child, &status);
    printf("iso_twins: parent: child %ld exited with %d (wait returned %ld)\n", child, status, got);
    return 0;
}
