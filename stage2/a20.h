/*
 * a20.h - step 1 of stage2_main: the A20 gate.
 *
 * Needs: the console (for its progress line). Fills nothing in BootInfo.
 * Refuses a machine where none of the methods turns A20 on: "cannot enable
 * the A20 line (tried BIOS, port 0x92, keyboard controller)".
 */
#ifndef STAGE2_A20_H
#define STAGE2_A20_H

/* Turn A20 on, each method verified by the 1 MiB wrap test; returns only
 * when it is on. */
void a20_enable(void);

#endif
