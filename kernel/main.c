/*
 * kernel_main: the boot sequence in C, from the first line on the console to
 * the power-off at the end of a run. boot/entry.asm calls it in long mode on
 * the boot stack with the loader's magic and info block address.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/poweroff.h"
#include "arch/x86/serial.h"
#include "kernel/boot.h"
#include "kernel/cmdline.h"
#include "kernel/guest.h"
#include "kernel/sched.h"
#include "kernel/trace.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/selftest_table.h"
#include "kernel/version.h"
#include "mm/bootinfo.h"
#include "mm/frame_alloc.h"
#include "mm/hint.h"
#include "mm/reclaim.h"
#include "mm/shadow.h"
#include "mm/swap.h"

static struct boot_info boot_info;
const struct boot_info *boot_information = &boot_info;
u32 boot_loader_magic;
u64 boot_info_phys;

/*
 * Before the final page tables the boot tables map the first 4 GiB at the
 * direct-map base; afterwards the direct map covers RAM and boot structures.
 */
static const void *direct_map_access(void *ctx __unused, u64 phys, u64 len)
{
	if (!len || phys + len < phys || phys + len > DIRECT_MAP_SIZE)
		return NULL;
	if (!paging_is_mapped(DIRECT_MAP_BASE + phys) ||
	    !paging_is_mapped(DIRECT_MAP_BASE + phys + len - 1))
		return NULL;
	return phys_to_virt(phys);
}

const struct phys_access boot_phys_access = { direct_map_access, NULL };

static void print_banner(void)
{
	pr_emerg("tide %s (%s family %#x model %#x, %s, %s)\n", tide_version,
		 boot_cpu.vendor_string, boot_cpu.family, boot_cpu.model,
		 cpu_virt_name(), cpu_tdp_name());
	if (boot_cpu.brand[0])
		pr_info("cpu: %s, %u physical address bits%s%s%s\n", boot_cpu.brand,
			boot_cpu.phys_addr_bits, boot_cpu.nx ? ", NX" : "",
			boot_cpu.gbpages ? ", 1 GiB pages" : "",
			boot_cpu.hypervisor ? ", running under a hypervisor" : "");
	if (boot_cpu.virt == VIRT_NONE)
		pr_warn("tide: this CPU has neither VMX nor SVM: guests cannot run\n");
}

/* Global counters: every guest's, added up. */
static void print_totals(void)
{
	struct guest_stats t = { 0 };

	for (unsigned int i = 0; i < nr_guests; i++) {
		const struct guest_stats *s = &guests[i]->stats;

		t.exits += s->exits;
		t.stage2_faults += s->stage2_faults;
		t.zero_fills += s->zero_fills;
		t.huge_mappings += s->huge_mappings;
		t.swap_ins += s->swap_ins;
		t.swap_outs += s->swap_outs;
		t.zero_pages += s->zero_pages;
		t.reclaim_scans += s->reclaim_scans;
		t.pages_hinted += s->pages_hinted;
		t.hint_frames_freed += s->hint_frames_freed;
		t.hypercalls += s->hypercalls;
	}
	pr_info("tide: totals: exits=%lu stage2_faults=%lu zero_fills=%lu huge=%lu swap_ins=%lu "
		"swap_outs=%lu zero_pages=%lu reclaim_scans=%lu pages_hinted=%lu "
		"hint_frames_freed=%lu hypercalls=%lu\n",
		t.exits, t.stage2_faults, t.zero_fills, t.huge_mappings, t.swap_ins, t.swap_outs,
		t.zero_pages, t.reclaim_scans, t.pages_hinted, t.hint_frames_freed, t.hypercalls);
}

/*
 * Runs the guests of the modules to the end; returns how many failed (a
 * refused module counts). Checks that every frame came back.
 */
static unsigned int run_guests(void)
{
	unsigned int refused, failed, ok;
	u64 free_before, free_after;

	if (vcpu_backend_init()) {
		pr_emerg("tide: done: 0 ok, %u failed\n", boot_info.nr_modules);
		return boot_info.nr_modules;
	}
	if (lapic_init())
		pr_warn("tide: no slice timer: a guest runs until it halts or stops\n");
	stage2_huge = options.stage2_huge;
	shadow_page_limit = options.shadow_pages;
	shadow_root_cache = options.shadow_roots;
	slice_us = (u64)options.slice_ms * 1000;
	swap_init(options.swap, options.swap_inject);
	reclaim_init(options.guest_mem, options.reclaim_sampling);
	trace_init(options.trace, options.trace_buf, options.trace_dump);
	sample_ms = options.sample_ms;
	hints_enabled = options.hints;
	hint_min_order = options.hint_order;

	free_before = frame_allocator.stats.free_frames;
	refused = guests_create_from_modules();
	failed = sched_run();
	free_after = frame_allocator.stats.free_frames;

	trace_finish();
	print_totals();
	ok = nr_guests - failed;
	failed += refused;
	pr_emerg("tide: done: %u ok, %u failed\n", ok, failed);
	if (swap_slots_used())
		pr_err("tide: swap: LEAKED %lu slots\n", swap_slots_used());
	else if (swap_dev)
		pr_info("tide: swap: all slots free\n");
	if (free_after == free_before)
		pr_info("tide: memory: all guest frames returned, %lu frames free\n", free_after);
	else
		pr_err("tide: memory: LEAKED %ld frames (%lu free before the guests, %lu after)\n",
		       (long)(free_before - free_after), free_before, free_after);
	return failed + (free_after != free_before) + (swap_slots_used() != 0);
}

void kernel_main(u32 magic, u64 info)
{
	int err;

	serial_init();
	gdt_init();
	idt_init();
	pic_disable();
	/* the console works and exceptions are reported from here on */

	boot_loader_magic = magic;
	boot_info_phys = info;
	err = bootinfo_parse(&boot_info, magic, info, &boot_phys_access);
	/* even a broken info block may have yielded the command line */
	cmdline_parse(boot_info.cmdline);
	console_loglevel = options.loglevel;
	poweroff_mode = options.poweroff;
	acpi_rsdp_hint = boot_info.acpi_rsdp;

	cpu_detect();
	print_banner();
	pr_info("boot: Multiboot%d from %s, command line '%s'\n", boot_info.protocol,
		boot_info.loader_name[0] ? boot_info.loader_name : "an unnamed loader",
		boot_info.cmdline);
	if (err) {
		pr_emerg("tide: cannot continue without a valid boot information block\n");
		machine_poweroff(false, "bad boot information");
	}
	for (unsigned int i = 0; i < boot_info.nr_modules; i++)
		pr_info("boot: module %u at [%#lx-%#lx) '%s'\n", i, boot_info.modules[i].start,
			boot_info.modules[i].end, boot_info.modules[i].cmdline);

	err = mm_init(&boot_info, options.mem_limit);
	if (err) {
		pr_emerg("tide: cannot set up physical memory (%d)\n", err);
		machine_poweroff(false, "no memory");
	}

	selftest_run_all();

	unsigned int failed = 0;

	if (boot_info.nr_modules)
		failed = run_guests();
	else
		pr_info("tide: no guests to run\n");
	machine_poweroff(selftest_failures() == 0 && failed == 0, "done");
}
