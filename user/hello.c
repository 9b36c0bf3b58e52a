/*
 * hello.c - the first user program: its pid and one line. What a student
 * copies to start a program of their own (README, "Your own user program").
 */
#include "pagelab.h"

int main(void)
{
    printf("hello: pid %ld, hello from user mode\n", getpid());
    return 0;
}
