/*
 * The one console: printk-style formatted output with Linux-like levels.
 * In the hypervisor it goes to COM1; host-side unit tests link their own
 * printk_level() that records messages so tests can check them.
 */
#ifndef TIDE_PRINTK_H
#define TIDE_PRINTK_H

#include <stdarg.h>
#include "kernel/types.h"

enum log_level {
	LOG_EMERG = 0,
	LOG_ALERT = 1,
	LOG_CRIT = 2,
	LOG_ERR = 3,
	LOG_WARNING = 4,
	LOG_NOTICE = 5,
	LOG_INFO = 6,
	LOG_DEBUG = 7,
};

/* Messages with a level numerically above this are not printed. */
extern int console_loglevel;

__printf(2, 3) int printk_level(int level, const char *fmt, ...);
int vprintk_level(int level, const char *fmt, va_list ap);

#define pr_emerg(...) printk_level(LOG_EMERG, __VA_ARGS__)
#define pr_err(...) printk_level(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk_level(LOG_WARNING, __VA_ARGS__)
#define pr_notice(...) printk_level(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) printk_level(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk_level(LOG_DEBUG, __VA_ARGS__)

/* Format into a buffer; always NUL-terminates, returns the full length. */
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
