/* Self-tests of the console formatter and the option value parsers. */
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"
#include "kernel/string.h"

static bool formats_as(const char *expected, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, expected) || n != (int)strlen(expected)) {
		pr_err("selftest: format '%s' gave '%s', expected '%s'\n", fmt, buf, expected);
		return false;
	}
	return true;
}

static void printk_selftest(void)
{
	char small[6];
	int n;

	selftest_check("printk", formats_as("42 -7 ff FF 0x1f 017", "%d %i %x %X %#x %#o", 42, -7, 255, 255, 31, 15),
		       "integers");
	selftest_check("printk", formats_as("18446744073709551615 -9223372036854775808",
					    "%lu %ld", ~0UL, (long)(1UL << 63)),
		       "64_bit");
	selftest_check("printk", formats_as("[  7] [7  ] [007] [0x0000ab]", "[%3d] [%-3d] [%03d] [%#08x]", 7, 7, 7, 0xab),
		       "width_and_padding");
	selftest_check("printk", formats_as("ab|(null)|x|%", "%.2s|%s|%c|%%", "abc", (char *)NULL, 'x'),
		       "strings");
	n = snprintf(small, sizeof(small), "%s", "truncated");
	selftest_check("printk", n == 9 && !strcmp(small, "trunc"), "truncation");
}
DEFINE_SELFTEST(printk, "printk", printk_selftest);

static bool size_is(const char *s, u64 expected)
{
	u64 v = 0;

	return parse_size(s, strlen(s), &v) == 0 && v == expected;
}

static bool size_rejected(const char *s)
{
	u64 v;

	return parse_size(s, strlen(s), &v) != 0;
}

static void cmdline_selftest(void)
{
	selftest_check("cmdline", size_is("4096", 4096) && size_is("64K", 64 * KiB) &&
				   size_is("512M", 512 * MiB) && size_is("2g", 2 * GiB) &&
				   size_is("0x1000", 0x1000),
		       "sizes");
	selftest_check("cmdline", size_rejected("") && size_rejected("M") && size_rejected("12Q") &&
				   size_rejected("0x") && size_rejected("99999999999999999999") &&
				   size_rejected("17179869184G"),
		       "bad_sizes_rejected");
}
DEFINE_SELFTEST(cmdline, "cmdline", cmdline_selftest);
