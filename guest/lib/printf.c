/*
 * The guests' printf and snprintf: one formatter that emits a character at
 * a time, to the serial console or into a buffer. Numbers are converted as
 * u64 (div64.h) so %llu and %llx work in 32 bits.
 */
#include "guest/lib/div64.h"
#include "guest/lib/printf.h"
#include "guest/lib/serial.h"

struct spec {
	bool left, zero;
	int width;
	int prec; /* %.Ns and %.*s only; -1: none */
};

/* Where the characters go: the console when buf is NULL. */
struct sink {
	char *buf;
	size_t size, len;
};

static struct sink *sink;

static int emit(char c)
{
	if (!sink)
		serial_putc(c);
	else if (sink->len + 1 < sink->size)
		sink->buf[sink->len++] = c;
	return 1;
}

static int pad(int n, char c)
{
	int count = 0;

	while (n-- > 0)
		count += emit(c);
	return count;
}

static int emit_field(const char *s, int len, const struct spec *sp)
{
	int count = 0, fill = sp->width > len ? sp->width - len : 0;

	if (!sp->left)
		count += pad(fill, ' ');
	while (len--)
		count += emit(*s++);
	if (sp->left)
		count += pad(fill, ' ');
	return count;
}

static int emit_number(u64 v, bool negative, unsigned int base, bool upper,
		       const char *prefix, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int len = 0, plen = 0, count = 0, fill;
	u32 rem;

	do {
		v = div_u64_rem(v, base, &rem);
		buf[len++] = digits[rem];
	} while (v);
	if (negative)
		prefix = "-";
	while (prefix && prefix[plen])
		plen++;
	fill = sp->width > len + plen ? sp->width - len - plen : 0;
	if (!sp->left && !sp->zero)
		count += pad(fill, ' ');
	for (int i = 0; i < plen; i++)
		count += emit(prefix[i]);
	if (!sp->left && sp->zero)
		count += pad(fill, '0');
	while (len)
		count += emit(buf[--len]);
	if (sp->left)
		count += pad(fill, ' ');
	return count;
}

static int format(const char *fmt, __builtin_va_list ap)
{
	int count = 0;

	for (; *fmt; fmt++) {
		struct spec sp = { .prec = -1 };
		int lng = 0;
		u64 v;

		if (*fmt != '%') {
			count += emit(*fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			sp.prec = 0;
			if (*++fmt == '*') {
				sp.prec = __builtin_va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				sp.prec = sp.prec * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l' || *fmt == 'h' || *fmt == 'z') {
			if (*fmt == 'l')
				lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 s = lng >= 2 ? __builtin_va_arg(ap, s64) : __builtin_va_arg(ap, s32);

			v = s < 0 ? -(u64)s : (u64)s;
			count += emit_number(v, s < 0, 10, false, NULL, &sp);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = lng >= 2 ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, u32);
			count += emit_number(v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X',
					     NULL, &sp);
			break;
		case 'p':
			sp.zero = true;
			sp.width = 10;
			v = (u32)__builtin_va_arg(ap, void *);
			count += emit_number(v, false, 16, false, "0x", &sp);
			break;
		case 's': {
			const char *s = __builtin_va_arg(ap, const char *);
			int len = 0;

			if (!s)
				s = "(null)";
			while (s[len] && (sp.prec < 0 || len < sp.prec))
				len++;
			count += emit_field(s, len, &sp);
			break;
		}
		case 'c': {
			char c = (char)__builtin_va_arg(ap, int);

			count += emit_field(&c, 1, &sp);
			break;
		}
		case '%':
			count += emit('%');
			break;
		case '\0':
			return count;
		default: /* unknown: print it as written */
			count += emit('%');
			count += emit(*fmt);
			break;
		}
	}
	return count;
}

int vprintf(const char *fmt, __builtin_va_list ap)
{
	return format(fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	struct sink s = { buf, size, 0 };
	__builtin_va_list ap;
	int n;

	sink = &s; /* the guests are single-threaded and IF=0 */
	__builtin_va_start(ap, fmt);
	n = format(fmt, ap);
	__builtin_va_end(ap);
	sink = NULL;
	if (size)
		buf[s.len] = '\0';
	return n;
}

int printf(const char *fmt, ...)
{
	__builtin_va_list ap;
	int n;

	__builtin_va_start(ap, fmt);
	n = vprintf(fmt, ap);
	__builtin_va_end(ap);
	return n;
}

void puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}
