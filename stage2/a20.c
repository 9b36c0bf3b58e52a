/*
 * a20.c - open the A20 gate so that addresses above 1 MiB do not wrap.
 *
 * Methods in order of safety, checking after each (as the OSDev and Limine
 * loaders do): already on (QEMU, most modern firmware), BIOS INT 15h
 * AX=2401h, "fast A20" through System Control Port A (0x92), then the
 * 8042 keyboard controller's output port. All waits are bounded.
 */
#include <stdint.h>
#include "a20.h"
#include "panic.h"
#include "bios.h"
#include "../common/io.h"

#define A20_PROBE_LOW   0x7DFE        /* the MBR's 0xAA55, still in memory */
#define A20_PROBE_HIGH  (A20_PROBE_LOW + 0x100000)
#define BIOS_A20_ENABLE 0x2401        /* INT 15h AX=2401h: enable A20 gate */
#define PORT_SYS_CTRL_A 0x92          /* bit 1: A20, bit 0: fast reset (never set it) */
#define KBC_DATA        0x60
#define KBC_STATUS      0x64
#define KBC_IBF         0x02          /* input buffer full: controller busy */
#define KBC_WRITE_OUT   0xD1          /* next data byte goes to the output port */
#define KBC_OUT_A20     0xDF          /* output port value with A20 (bit 1) on */
#define SPIN_LIMIT      100000

/* True when 1 MiB + x and x are different memory (no wrap-around). */
static int a20_is_on(void)
{
    volatile uint16_t *low = (volatile uint16_t *)A20_PROBE_LOW;
    volatile uint16_t *high = (volatile uint16_t *)A20_PROBE_HIGH;
    uint16_t saved = *high;
    *high = (uint16_t)~*low;
    int on = *high != *low;
    *high = saved;
    return on;
}

static void kbc_wait(void)
{
    for (unsigned i = 0; i < SPIN_LIMIT && (inb(KBC_STATUS) & KBC_IBF); i++)
        ;
}

static void a20_bios(void)
{
    struct bios_regs r = { .eax = BIOS_A20_ENABLE };
    bios_call(0x15, &r);
}

static void a20_fast(void)
{
    uint8_t v = inb(PORT_SYS_CTRL_A);
    outb(PORT_SYS_CTRL_A, (uint8_t)((v | 0x02) & ~0x01));
}

static void a20_kbc(void)
{
    kbc_wait();
    outb(KBC_STATUS, KBC_WRITE_OUT);
    kbc_wait();
    outb(KBC_DATA, KBC_OUT_A20);
    kbc_wait();
}

void a20_enable(void)
{
    static const struct { const char *name; void (*enable)(void); } methods[] = {
        { "BIOS INT 15h AX=2401h", a20_bios },
        { "port 0x92", a20_fast },
        { "keyboard controller", a20_kbc },
    };
    if (a20_is_on()) {
        progress("A20 already on");
        return;
    }
    for (unsigned i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        methods[i].enable();
        for (unsigned t = 0; t < SPIN_LIMIT; t++) {
            if (a20_is_on()) {
                progress("A20 on via %s", methods[i].name);
                return;
            }
        }
    }
    die("cannot enable the A20 line (tried BIOS, port 0x92, keyboard controller)");
}
