/*
 * Guests from Tide's Multiboot modules. Each module string reads
 *     <image-name> [key=value ...] [-- <guest command line>]
 * with keys name=, mem= and initrd=<image-name of another module>; a module
 * named by some guest's initrd= is that guest's data, not a guest. A module
 * that cannot become a guest is refused with a message naming it, and the
 * others still run. Also owns stopping a guest and giving back its memory.
 */
#include <stdarg.h>

#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/guest.h"
#include "kernel/guest_loader.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/trace.h"
#include "kernel/vpc.h"
#include "kernel/boot.h"
#include "mm/frame_alloc.h"
#include "mm/shadow.h"

#define DEFAULT_GUEST_MEM (32 * MiB)
#define MIN_GUEST_MEM (2 * MiB)
/* 32-bit guests with paging off see 4 GiB; the top GiB is device space */
#define MAX_GUEST_MEM (3 * GiB)

struct guest *guests[MAX_GUESTS];
unsigned int nr_guests;
static struct guest guest_pool[MAX_GUESTS];

struct module_spec {
	const char *image; /* first word */
	size_t image_len;
	char name[GUEST_NAME_MAX];
	u64 mem;
	const char *initrd; /* image name of the data module, or NULL */
	size_t initrd_len;
	const char *guest_args; /* after "--", or "" */
	bool hints, pinned;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static const char *next_word(const char *p, const char **start, size_t *len)
{
	while (is_space(*p))
		p++;
	*start = p;
	while (*p && !is_space(*p))
		p++;
	*len = p - *start;
	return p;
}

static bool word_is(const char *w, size_t len, const char *s)
{
	return strlen(s) == len && !strncmp(w, s, len);
}

/* The default name: the image's file name without directory or extension. */
static void default_name(const char *image, size_t len, char *out)
{
	const char *base = image;
	size_t n;

	for (size_t i = 0; i < len; i++)
		if (image[i] == '/')
			base = image + i + 1;
	n = len - (base - image);
	for (size_t i = 0; i < n; i++)
		if (base[i] == '.') {
			n = i;
			break;
		}
	n = MIN(n, (size_t)GUEST_NAME_MAX - 1);
	memcpy(out, base, n);
	out[n] = 0;
}

static int parse_module(const char *s, unsigned int index, struct module_spec *m)
{
	const char *w;
	size_t len;
	const char *p = next_word(s, &m->image, &m->image_len);

	if (!m->image_len) {
		pr_err("tide: module %u has an empty command line; it needs an image name\n", index);
		return -EINVAL;
	}
	default_name(m->image, m->image_len, m->name);
	m->mem = DEFAULT_GUEST_MEM;
	m->initrd = NULL;
	m->guest_args = "";
	m->hints = true;
	m->pinned = false;
	for (;;) {
		p = next_word(p, &w, &len);
		if (!len)
			break;
		if (word_is(w, len, "--")) {
			while (is_space(*p))
				p++;
			m->guest_args = p;
			break;
		}
		const char *eq = strchr(w, '=');

		if (!eq || eq >= w + len) {
			pr_err("tide: module %u (%.*s): '%.*s' is not key=value\n", index,
			       (int)m->image_len, m->image, (int)len, w);
			return -EINVAL;
		}
		size_t klen = eq - w, vlen = len - klen - 1;

		if (word_is(w, klen, "name") && vlen && vlen < GUEST_NAME_MAX) {
			memcpy(m->name, eq + 1, vlen);
			m->name[vlen] = 0;
		} else if (word_is(w, klen, "mem")) {
			if (parse_size(eq + 1, vlen, &m->mem) || m->mem < MIN_GUEST_MEM ||
			    m->mem > MAX_GUEST_MEM) {
				pr_err("tide: module %u (%.*s): bad mem=%.*s (from 2M to 3G)\n",
				       index, (int)m->image_len, m->image, (int)vlen, eq + 1);
				return -EINVAL;
			}
			m->mem = ALIGN_UP(m->mem, PAGE_SIZE);
		} else if (word_is(w, klen, "hints") && (word_is(eq + 1, vlen, "on") ||
							    word_is(eq + 1, vlen, "off"))) {
			m->hints = word_is(eq + 1, vlen, "on");
		} else if (word_is(w, klen, "pinned") && (word_is(eq + 1, vlen, "on") ||
							     word_is(eq + 1, vlen, "off"))) {
			m->pinned = word_is(eq + 1, vlen, "on");
		} else if (word_is(w, klen, "initrd") && vlen) {
			m->initrd = eq + 1;
			m->initrd_len = vlen;
		} else {
			pr_err("tide: module %u (%.*s): unknown or bad option '%.*s'\n", index,
			       (int)m->image_len, m->image, (int)len, w);
			return -EINVAL;
		}
	}
	return 0;
}

/* The module whose image name is name[0..len), or -1. */
static int find_module(const struct boot_info *bi, const char *name, size_t len)
{
	for (unsigned int i = 0; i < bi->nr_modules; i++) {
		const char *w;
		size_t wlen;

		next_word(bi->modules[i].cmdline, &w, &wlen);
		if (wlen == len && !strncmp(w, name, len))
			return (int)i;
	}
	return -1;
}

static void release_guest(struct guest *g)
{
	shadow_vcpu_destroy(&g->vcpu); /* first: its reverse map points into stage 2 */
	if (g->vcpu.arch)
		vcpu_ops->vcpu_destroy(&g->vcpu);
	stage2_destroy(g);
	if (g->arch)
		vcpu_ops->guest_destroy(g);
}

static struct guest *create_guest(const struct boot_info *bi, unsigned int index,
				  const struct module_spec *m)
{
	struct guest *g = &guest_pool[nr_guests];
	const struct boot_module *mod = &bi->modules[index];
	int err;

	memset(g, 0, sizeof(*g));
	g->id = nr_guests;
	strlcpy(g->name, m->name, sizeof(g->name));
	snprintf(g->cmdline, sizeof(g->cmdline), "%.*s%s%s", (int)m->image_len, m->image,
		 m->guest_args[0] ? " " : "", m->guest_args);
	g->hints = m->hints;
	g->pinned = m->pinned;
	g->image_phys = mod->start;
	g->image_size = mod->end - mod->start;
	if (m->initrd) {
		int d = find_module(bi, m->initrd, m->initrd_len);

		if (d < 0) {
			pr_err("tide: guest %s: initrd=%.*s names no module\n", g->name,
			       (int)m->initrd_len, m->initrd);
			return NULL;
		}
		g->initrd_phys = bi->modules[d].start;
		g->initrd_size = bi->modules[d].end - bi->modules[d].start;
		snprintf(g->initrd_name, sizeof(g->initrd_name), "%.*s", (int)m->initrd_len,
			 m->initrd);
	}
	err = vcpu_ops->guest_init(g);
	if (!err)
		err = stage2_init(g, m->mem);
	g->vcpu.guest = g;
	if (!err)
		err = vcpu_ops->vcpu_create(&g->vcpu);
	if (!err && shadow_paging)
		err = shadow_vcpu_init(&g->vcpu);
	if (!err)
		err = guest_load(g);
	if (err) {
		pr_err("tide: guest %s not started (%d)\n", g->name, err);
		release_guest(g);
		return NULL;
	}
	vpc_reset(g);
	g->state = GUEST_RUNNABLE;
	TRACE(TE_GUEST_START, TRACE_STR(g->name), m->mem);
	guests[nr_guests++] = g;
	pr_info("tide: guest %s: %lu MiB RAM, image %lu KiB, command line '%s'\n", g->name,
		m->mem / MiB, g->image_size / KiB, g->cmdline);
	return g;
}

unsigned int guests_create_from_modules(void)
{
	unsigned int refused = 0;

	const struct boot_info *bi = boot_information;
	struct module_spec specs[BOOT_MAX_MODULES];
	bool ok[BOOT_MAX_MODULES], is_data[BOOT_MAX_MODULES] = { false };

	for (unsigned int i = 0; i < bi->nr_modules; i++) {
		ok[i] = parse_module(bi->modules[i].cmdline, i, &specs[i]) == 0;
		if (ok[i] && specs[i].initrd) {
			int d = find_module(bi, specs[i].initrd, specs[i].initrd_len);

			if (d >= 0)
				is_data[d] = true;
		}
	}
	for (unsigned int i = 0; i < bi->nr_modules; i++) {
		if (is_data[i])
			continue;
		if (!ok[i]) {
			refused++;
		} else if (nr_guests == MAX_GUESTS) {
			pr_err("tide: more than %u guests; module %u ignored\n", MAX_GUESTS, i);
			refused++;
		} else if (!create_guest(bi, i, &specs[i])) {
			refused++;
		}
	}
	return refused;
}

static const char *const exit_names[NR_EXIT_REASONS] = {
	[EXIT_IO] = "io", [EXIT_STAGE2_FAULT] = "stage2", [EXIT_CPUID] = "cpuid",
	[EXIT_MSR_READ] = "rdmsr", [EXIT_MSR_WRITE] = "wrmsr", [EXIT_HLT] = "hlt",
	[EXIT_HYPERCALL] = "hypercall", [EXIT_VIRT_INSN] = "virt", [EXIT_CR_WRITE] = "cr",
	[EXIT_INTERRUPT] = "interrupt", [EXIT_PREEMPTED] = "preempt",
	[EXIT_SHUTDOWN] = "shutdown", [EXIT_EXCEPTION] = "exception",
	[EXIT_ENTRY_FAILED] = "entry_failed", [EXIT_UNHANDLED] = "unhandled",
	[EXIT_CR_READ] = "cr_read", [EXIT_PAGE_FAULT] = "page_fault",
	[EXIT_TASK_SWITCH] = "task_switch",
};

/* One line of counters per guest when it stops: what `make bench` reads. */
static void print_summary(const struct guest *g)
{
	char by_reason[256];
	size_t n = 0;

	by_reason[0] = 0;
	for (unsigned int r = 0; r < NR_EXIT_REASONS; r++)
		if (g->stats.exits_by_reason[r] && exit_names[r] && n < sizeof(by_reason))
			n += snprintf(by_reason + n, sizeof(by_reason) - n, " %s=%lu", exit_names[r],
				      g->stats.exits_by_reason[r]);
	pr_info("tide: guest %s counters: exits=%lu%s stage2_faults=%lu zero_fills=%lu huge=%lu "
		"hypercalls=%lu peak_resident=%lu\n",
		g->name, g->stats.exits, by_reason, g->stats.stage2_faults, g->stats.zero_fills,
		g->stats.huge_mappings, g->stats.hypercalls, g->stats.peak_resident);
	pr_info("tide: guest %s memory: resident=%lu swapped_now=%lu swap_ins=%lu swap_outs=%lu "
		"zero_pages=%lu reclaim_scans=%lu sample_refaults=%lu swap_in_ticks=%lu "
		"swap_out_ticks=%lu pages_hinted=%lu hint_frames_freed=%lu\n",
		g->name, g->stats.resident_pages, g->stats.swapped_now, g->stats.swap_ins,
		g->stats.swap_outs, g->stats.zero_pages, g->stats.reclaim_scans,
		g->stats.sample_refaults, g->stats.swap_in_ticks, g->stats.swap_out_ticks,
		g->stats.pages_hinted, g->stats.hint_frames_freed);
	if (shadow_paging)
		pr_info("tide: guest %s shadow: faults=%lu fills=%lu injected_pf=%lu "
			"pt_writes=%lu unshadowed=%lu cr3_loads=%lu root_hits=%lu pages_peak=%lu "
			"evictions=%lu\n",
			g->name, g->stats.shadow_faults, g->stats.shadow_fills,
			g->stats.guest_page_faults, g->stats.pt_writes_emulated,
			g->stats.pt_unprotects, g->stats.cr3_loads, g->stats.root_hits,
			g->stats.shadow_pages_peak, g->stats.shadow_evictions);
}

static void stop(struct guest *g)
{
	TRACE(TE_GUEST_STOP, TRACE_STR(g->name), (u64)(s64)g->exit_status, g->crashed);
	print_summary(g);
	release_guest(g);
	g->state = GUEST_STOPPED;
}

void guest_stop(struct guest *g, int status)
{
	if (g->state == GUEST_STOPPED)
		return;
	g->exit_status = status;
	pr_info("tide: guest %s exited status=%d\n", g->name, status);
	stop(g);
}

void guest_crash(struct guest *g, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	if (g->state == GUEST_STOPPED)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	g->crashed = true;
	g->exit_status = -1;
	pr_err("tide: guest %s crashed: %s rip=%#lx\n", g->name, why,
	       g->vcpu.arch ? vcpu_get(&g->vcpu, VCPU_RIP) : 0);
	stop(g);
}
