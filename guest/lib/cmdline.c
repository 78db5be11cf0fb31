/* The option parser of cmdline.h: words separated by spaces, no quoting. */
#include "guest/lib/cmdline.h"
#include "guest/lib/guest.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"

static const char *args = "";

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static size_t word_len(const char *s)
{
	size_t n = 0;

	while (s[n] && !is_space(s[n]))
		n++;
	return n;
}

static size_t key_len(const char *w, size_t wlen)
{
	size_t n = 0;

	while (n < wlen && w[n] != '=')
		n++;
	return n;
}

void cmdline_init(const char *line)
{
	const char *s = skip_space(line);
	size_t n = word_len(s);

	if (key_len(s, n) == n) /* no '=': the image name */
		s += n;
	args = skip_space(s);
}

const char *cmdline_args(void)
{
	return args;
}

/* Finds word "key" or "key=..."; returns it and its length, or NULL. */
static const char *find(const char *key, size_t *wlen)
{
	size_t klen = strlen(key);

	for (const char *s = skip_space(args); *s; s = skip_space(s + *wlen)) {
		*wlen = word_len(s);
		if (key_len(s, *wlen) == klen && !strncmp(s, key, klen))
			return s;
	}
	return NULL;
}

bool cmdline_has(const char *key)
{
	size_t wlen;

	return find(key, &wlen) != NULL;
}

int cmdline_u64(const char *key, u64 *val)
{
	size_t wlen, klen = strlen(key);
	const char *w = find(key, &wlen), *p, *end;
	unsigned int base = 10, shift = 0;
	u64 v = 0;

	if (!w)
		return 0;
	if (wlen <= klen + 1)
		return -1; /* "key" or "key=" */
	p = w + klen + 1;
	end = w + wlen;
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	switch (end[-1]) {
	case 'K': case 'k': shift = 10; end--; break;
	case 'M': case 'm': shift = 20; end--; break;
	case 'G': case 'g': shift = 30; end--; break;
	}
	if (p == end)
		return -1;
	for (; p < end; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -1;
		if (v >> 59)
			return -1; /* would overflow */
		v = v * base + d;
	}
	if (shift && (v >> (64 - shift)))
		return -1;
	*val = v << shift;
	return 1;
}

int cmdline_check(const char *const known[])
{
	int unknown = 0;
	size_t wlen;

	for (const char *s = skip_space(args); *s; s = skip_space(s + wlen)) {
		size_t klen;
		bool ok = false;

		wlen = word_len(s);
		klen = key_len(s, wlen);
		for (int i = 0; known[i]; i++)
			if (strlen(known[i]) == klen && !strncmp(s, known[i], klen))
				ok = true;
		if (!ok) {
			printf("%s: unknown option '%.*s'\n", guest_name, (int)wlen, s);
			unknown++;
		}
	}
	return unknown;
}
