/* The 16550 UART on COM1: Tide's console. */
#ifndef TIDE_X86_SERIAL_H
#define TIDE_X86_SERIAL_H

#include "kernel/types.h"

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t len);

#endif
