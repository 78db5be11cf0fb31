/*
 * The command-line parser and the table of every option Tide knows. An
 * option is a key, a kind of value, where the value goes and its limits; the
 * parser does the rest, so adding an option is adding one table row.
 */
#include "arch/x86/poweroff.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

struct tide_options options = {
	.loglevel = LOG_INFO,
	.poweroff = POWEROFF_HALT,
	.slice_ms = 10,
	.stage2_huge = 1,
	.shadow_pages = 1024,
	.shadow_roots = 4,
	.hints = 1,
	.trace_buf = 4096,
};

enum option_kind { OPT_INT, OPT_SIZE, OPT_ENUM, OPT_STRING };

struct option_desc {
	const char *key;
	enum option_kind kind;
	void *dest;
	s64 min, max; /* OPT_INT, OPT_SIZE */
	const char *const *names; /* OPT_ENUM: NULL-terminated, index = value */
	size_t dest_size; /* OPT_STRING */
	const char *expected; /* for error messages */
};

static const char *const poweroff_names[] = { "halt", "qemu", "bochs", "acpi", NULL };
static const char *const off_on_names[] = { "off", "on", NULL };
static const char *const dump_names[] = { "stream", "end", NULL };
static const char *const paging_names[] = { "auto", "tdp", "shadow", NULL };

static const struct option_desc option_table[] = {
	{ "loglevel", OPT_INT, &options.loglevel, 0, 7, NULL, 0, "a number from 0 to 7" },
	{ "mem", OPT_SIZE, &options.mem_limit, 0, (s64)(1UL << 52), NULL, 0,
	  "a size like 512M or 4G" },
	{ "selftest", OPT_STRING, options.selftest, 0, 0, NULL, sizeof(options.selftest),
	  "a list of self-test groups, or all" },
	{ "poweroff", OPT_ENUM, &options.poweroff, 0, 0, poweroff_names, 0,
	  "halt, qemu, bochs or acpi" },
	{ "slice", OPT_INT, &options.slice_ms, 1, 10000, NULL, 0,
	  "milliseconds from 1 to 10000" },
	{ "paging", OPT_ENUM, &options.paging, 0, 0, paging_names, 0, "auto, tdp or shadow" },
	{ "shadow_pages", OPT_INT, &options.shadow_pages, 16, 1 << 20, NULL, 0,
	  "a number from 16 to 1048576" },
	{ "shadow_roots", OPT_INT, &options.shadow_roots, 1, 16, NULL, 0, "a number from 1 to 16" },
	{ "stage2_huge", OPT_ENUM, &options.stage2_huge, 0, 0, off_on_names, 0, "on or off" },
	{ "guest_mem", OPT_SIZE, &options.guest_mem, 0, (s64)(1UL << 52), NULL, 0,
	  "a size like 256M" },
	{ "swap", OPT_STRING, options.swap, 0, 0, NULL, sizeof(options.swap),
	  "ram:<size>, nvme or none" },
	{ "reclaim_sampling", OPT_ENUM, &options.reclaim_sampling, 0, 0, off_on_names, 0,
	  "on or off" },
	{ "hints", OPT_ENUM, &options.hints, 0, 0, off_on_names, 0, "on or off" },
	{ "hint_order", OPT_INT, &options.hint_order, 0, 18, NULL, 0, "a number from 0 to 18" },
	{ "trace", OPT_STRING, options.trace, 0, 0, NULL, sizeof(options.trace),
	  "a list of events, name_* patterns or all" },
	{ "trace_buf", OPT_INT, &options.trace_buf, 16, 1 << 20, NULL, 0,
	  "a number of entries from 16 to 1048576" },
	{ "trace_dump", OPT_ENUM, &options.trace_dump, 0, 0, dump_names, 0, "stream or end" },
	{ "sample_ms", OPT_INT, &options.sample_ms, 0, 100000, NULL, 0,
	  "milliseconds from 0 (off) to 100000" },
	{ "poison_freed", OPT_ENUM, &options.poison_freed, 0, 0, off_on_names, 0, "on or off" },
	{ "swap_inject", OPT_STRING, options.swap_inject, 0, 0, NULL, sizeof(options.swap_inject),
	  "write@N,read@N,corrupt@N" },
};

int parse_u64(const char *s, size_t len, u64 *out)
{
	unsigned int base = 10;
	u64 v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		if (v > (~0UL - d) / base)
			return -EINVAL; /* overflow */
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, size_t len, u64 *out)
{
	unsigned int shift = 0;
	u64 v;

	if (len && !(len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
		switch (s[len - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		}
		if (shift)
			len--;
	}
	if (parse_u64(s, len, &v))
		return -EINVAL;
	if (shift && v > (~0UL >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static void apply_option(const struct option_desc *o, const char *val, size_t len)
{
	u64 v;

	switch (o->kind) {
	case OPT_INT:
	case OPT_SIZE: {
		int err = o->kind == OPT_INT ? parse_u64(val, len, &v) : parse_size(val, len, &v);

		if (err || (s64)v < o->min || (s64)v > o->max)
			break;
		if (o->kind == OPT_INT)
			*(int *)o->dest = (int)v;
		else
			*(u64 *)o->dest = v;
		return;
	}
	case OPT_ENUM:
		for (int i = 0; o->names[i]; i++) {
			if (strlen(o->names[i]) == len && !strncmp(o->names[i], val, len)) {
				*(int *)o->dest = i;
				return;
			}
		}
		break;
	case OPT_STRING:
		if (len < o->dest_size) {
			memcpy(o->dest, val, len);
			((char *)o->dest)[len] = 0;
			return;
		}
		break;
	}
	pr_err("tide: bad value '%.*s' for %s= (expected %s); using the default\n",
	       (int)len, val, o->key, o->expected);
}

static bool memchr_char(const char *s, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == c)
			return true;
	return false;
}

static void parse_token(const char *tok, size_t len, bool first)
{
	const char *eq = NULL;

	for (size_t i = 0; i < len; i++) {
		if (tok[i] == '=') {
			eq = tok + i;
			break;
		}
	}
	if (!eq) {
		/* QEMU and GRUB's Multiboot1 put the image path first */
		if (first && (memchr_char(tok, len, '/') || memchr_char(tok, len, '.')))
			return;
		pr_warn("tide: option '%.*s' has no value, ignored\n", (int)len, tok);
		return;
	}
	size_t klen = eq - tok;

	for (size_t i = 0; i < ARRAY_SIZE(option_table); i++) {
		const struct option_desc *o = &option_table[i];

		if (strlen(o->key) == klen && !strncmp(o->key, tok, klen)) {
			apply_option(o, eq + 1, len - klen - 1);
			return;
		}
	}
	pr_warn("tide: unknown option '%.*s', ignored\n", (int)len, tok);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void cmdline_parse(const char *cmdline)
{
	const char *p = cmdline;
	bool first = true;

	while (*p) {
		while (is_space(*p))
			p++;
		const char *start = p;

		while (*p && !is_space(*p))
			p++;
		if (p == start)
			break;
		for (const char *c = start; c < p; c++) {
			if (*c < 0x20 || *c > 0x7e) {
				pr_warn("tide: option with unprintable characters ignored\n");
				goto next;
			}
		}
		parse_token(start, p - start, first);
next:
		first = false;
	}
}
