/*
 * The console: vsnprintf and printk. Every line Tide prints goes through
 * printk_level(), which drops messages above console_loglevel and writes
 * the rest to the serial port.
 *
 * Formats: %d %i %u %x %X %o %p %s %c %%, flags '-' '0' '#' ' ' '+',
 * width and precision (also '*'), length modifiers hh h l ll z t j.
 */
#include "arch/x86/serial.h"
#include "kernel/printk.h"
#include "kernel/string.h"

int console_loglevel = LOG_INFO;

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

#define F_LEFT 1
#define F_ZERO 2
#define F_ALT 4
#define F_SPACE 8
#define F_PLUS 16

static void put_number(struct out *o, u64 v, bool negative, unsigned int base,
		       bool upper, int flags, int width, int precision)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	char sign = 0;
	const char *prefix = "";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (precision == 0 && n == 1 && tmp[0] == '0')
		n = 0;
	if (negative)
		sign = '-';
	else if (flags & F_PLUS)
		sign = '+';
	else if (flags & F_SPACE)
		sign = ' ';
	if ((flags & F_ALT) && base == 16)
		prefix = upper ? "0X" : "0x";
	else if ((flags & F_ALT) && base == 8)
		prefix = "0";

	int digits_len = MAX(n, precision);
	int total = digits_len + (sign ? 1 : 0) + (int)strlen(prefix);
	int pad = width > total ? width - total : 0;

	if (!(flags & F_LEFT) && !((flags & F_ZERO) && precision < 0))
		while (pad-- > 0)
			put(o, ' ');
	if (sign)
		put(o, sign);
	while (*prefix)
		put(o, *prefix++);
	if (!(flags & F_LEFT) && (flags & F_ZERO) && precision < 0)
		while (pad-- > 0)
			put(o, '0');
	for (int i = n; i < digits_len; i++)
		put(o, '0');
	while (n)
		put(o, tmp[--n]);
	while (pad-- > 0)
		put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		int flags = 0, width = 0, precision = -1, lng = 0;

		for (;; fmt++) {
			char f = fmt[1];

			if (f == '-')
				flags |= F_LEFT;
			else if (f == '0')
				flags |= F_ZERO;
			else if (f == '#')
				flags |= F_ALT;
			else if (f == ' ')
				flags |= F_SPACE;
			else if (f == '+')
				flags |= F_PLUS;
			else
				break;
		}
		fmt++;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			precision = 0;
			if (*fmt == '*') {
				precision = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				precision = precision * 10 + (*fmt++ - '0');
		}
		/* length: 0 int, 1 long, 2 long long / size_t / intmax, -1 short, -2 char */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j')
				lng = 2;
			else if (*fmt == 'h')
				lng--;
			else
				break;
		}

		u64 v;
		bool neg = false;

		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 s;

			if (lng >= 1)
				s = va_arg(ap, long);
			else
				s = va_arg(ap, int);
			if (lng == -1)
				s = (short)s;
			else if (lng <= -2)
				s = (signed char)s;
			neg = s < 0;
			v = neg ? -(u64)s : (u64)s;
			put_number(&o, v, neg, 10, false, flags, width, precision);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (lng >= 1)
				v = va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned int);
			if (lng == -1)
				v = (u16)v;
			else if (lng <= -2)
				v = (u8)v;
			put_number(&o, v, false, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
				   *fmt == 'X', flags, width, precision);
			break;
		case 'p':
			v = (u64)va_arg(ap, void *);
			put_number(&o, v, false, 16, false, flags | F_ALT, width, precision);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len;

			if (!s)
				s = "(null)";
			len = (int)strnlen(s, precision < 0 ? (size_t)-1 : (size_t)precision);
			if (!(flags & F_LEFT))
				for (int i = len; i < width; i++)
					put(&o, ' ');
			for (int i = 0; i < len; i++)
				put(&o, s[i]);
			if (flags & F_LEFT)
				for (int i = len; i < width; i++)
					put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--; /* a lone '%' at the end */
			break;
		default:
			/* unknown conversion: print it as is, visibly */
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintk_level(int level, const char *fmt, va_list ap)
{
	char line[512];
	int n;

	if (level > console_loglevel)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	serial_write(line, MIN((size_t)n, sizeof(line) - 1));
	if ((size_t)n >= sizeof(line))
		serial_write("[...]\n", 6);
	return n;
}

int printk_level(int level, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk_level(level, fmt, ap);
	va_end(ap);
	return n;
}
