/*
 * pic.c - the 8259A pair (contract in pic.h): ICW1-ICW4 put the master's
 * IRQs at X86_IRQ_VECTOR_BASE and the slave's right above, in 8086 mode
 * with normal (not automatic) EOI.
 */
#include <stdint.h>
#include "pic.h"
#include "x86.h"
#include "../common/io.h"

#define PIC_MASTER_CMD   0x20
#define PIC_MASTER_DATA  0x21
#define PIC_SLAVE_CMD    0xA0
#define PIC_SLAVE_DATA   0xA1
#define PIC_ICW1_INIT    0x11      /* ICW1: edge triggered, cascade, ICW4 follows */
#define PIC_ICW3_MASTER  0x04      /* ICW3: the slave hangs on the master's IRQ 2 */
#define PIC_ICW3_SLAVE   0x02      /* ICW3: the slave's cascade identity, 2 */
#define PIC_ICW4_8086    0x01      /* ICW4: 8086/88 mode, normal EOI */
#define PIC_OCW2_EOI     0x20      /* OCW2: non-specific end of interrupt */
#define PIC_OCW3_READ_ISR 0x0B     /* OCW3: the next read of the command port is the ISR */
#define PIC_IRQ_CASCADE  2
#define PIC_IRQS_EACH    8
#define PIC_MASK_ALL     0xFF

static uint8_t mask_master = PIC_MASK_ALL, mask_slave = PIC_MASK_ALL;

void pic_init(void)
{
    outb(PIC_MASTER_CMD, PIC_ICW1_INIT);
    outb(PIC_SLAVE_CMD, PIC_ICW1_INIT);
    outb(PIC_MASTER_DATA, X86_IRQ_VECTOR_BASE);                  /* ICW2: vector base */
    outb(PIC_SLAVE_DATA, X86_IRQ_VECTOR_BASE + PIC_IRQS_EACH);
    outb(PIC_MASTER_DATA, PIC_ICW3_MASTER);
    outb(PIC_SLAVE_DATA, PIC_ICW3_SLAVE);
    outb(PIC_MASTER_DATA, PIC_ICW4_8086);
    outb(PIC_SLAVE_DATA, PIC_ICW4_8086);
    outb(PIC_MASTER_DATA, mask_master);                          /* OCW1: masks */
    outb(PIC_SLAVE_DATA, mask_slave);
}

void pic_unmask(unsigned irq)
{
    if (irq >= PIC_IRQS_EACH) {
        mask_slave &= (uint8_t)~(1u << (irq - PIC_IRQS_EACH));
        outb(PIC_SLAVE_DATA, mask_slave);
        irq = PIC_IRQ_CASCADE;
    }
    mask_master &= (uint8_t)~(1u << irq);
    outb(PIC_MASTER_DATA, mask_master);
}

static int in_service(uint16_t cmd_port, unsigned line)
{
    outb(cmd_port, PIC_OCW3_READ_ISR);
    return (inb(cmd_port) >> line) & 1;
}

int pic_eoi(unsigned irq)
{
    unsigned line = irq % PIC_IRQS_EACH;
    int slave = irq >= PIC_IRQS_EACH;
    uint16_t cmd = slave ? PIC_SLAVE_CMD : PIC_MASTER_CMD;
    if (line == PIC_IRQS_EACH - 1 && !in_service(cmd, line)) {
        if (slave)                   /* the master did see its cascade line */
            outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
        return 0;
    }
    if (slave)
        outb(PIC_SLAVE_CMD, PIC_OCW2_EOI);
    outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
    return 1;
}
