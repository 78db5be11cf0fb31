/*
 * COM1 (16550 at 0x3f8): 115200 8N1, no interrupts, polled output. Each
 * byte waits for LSR bit 5 (transmit holding register empty), with a bound
 * so that a UART that never reports ready slows the guest down instead of
 * hanging it.
 */
#include "guest/lib/io.h"
#include "guest/lib/serial.h"

#define COM1 0x3f8
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80); /* DLAB: the next two are the divisor */
	outb(COM1 + 0, 1); /* 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

static void serial_raw(char c)
{
	for (int i = 0; i < 1000000; i++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1, (u8)c);
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_raw('\r');
	serial_raw(c);
}
