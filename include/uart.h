/*
 * uart.h - the 16550 UART registers pagelab uses for COM1 (PC16550D
 * datasheet, "Register Summary"). Shared by the console (common/console.c,
 * stage2 and kernel) and the NASM break macro (common/debug.inc, through
 * build/gen/uart.inc), so plain "#define NAME value" lines only.
 * The port itself is COM1_PORT in layout.h.
 */
#ifndef PAGELAB_UART_H
#define PAGELAB_UART_H

/* register offsets from the base port */
#define UART_DATA       0
#define UART_IER        1
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define UART_SCRATCH    7
#define UART_LCR_DLAB   0x80
#define UART_LCR_8N1    0x03
#define UART_LSR_THRE   0x20          /* transmit holding register empty */
#define UART_LSR_TEMT   0x40          /* transmitter empty: FIFO and shift register */
#define UART_FCR_ENABLE_CLEAR_RX_14 0xC3  /* FIFO on, receive side cleared, 14-byte trigger */
#define UART_DIVISOR_115200 1         /* 1.8432 MHz / 16 / 115200 */
#define UART_SPIN_LIMIT 100000        /* bounded wait: a missing UART never hangs us */

#endif
