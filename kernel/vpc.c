/*
 * The virtual PC's devices (see kernel/vpc.h). They are deliberately small:
 * enough for Multiboot test kernels written for QEMU to find what they
 * expect. Nothing here can interrupt a guest.
 */
#include "kernel/guest.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/vpc.h"

#define COM1_BASE 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define PIC1_BASE 0x20
#define PIC2_BASE 0xa0
#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511

#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LCR_DLAB 0x80

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_RAM 0x11

/* xAPIC register offsets */
#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_PPR 0xa0
#define APIC_EOI 0xb0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_FIRST 0x320
#define APIC_LVT_LAST 0x380
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_LVT_MASKED BIT(16)

#define LOGGED_MAX 32

void vpc_reset(struct guest *g)
{
	struct guest_devices *d = &g->dev;

	memset(d, 0, sizeof(*d));
	d->pic_mask[0] = d->pic_mask[1] = 0xff;
	d->apic_dfr = 0xffffffff;
	d->apic_svr = 0xff;
	for (int i = 0; i < 7; i++)
		d->apic_lvt[i] = APIC_LVT_MASKED;
}

void vpc_flush_serial(struct guest *g)
{
	struct guest_devices *d = &g->dev;

	if (!d->serial_len)
		return;
	d->serial_line[d->serial_len] = 0;
	printk_level(LOG_EMERG, "[%s] %s\n", g->name, d->serial_line);
	d->serial_len = 0;
}

static void serial_out(struct guest *g, u8 c)
{
	struct guest_devices *d = &g->dev;

	if (c == '\n') {
		vpc_flush_serial(g);
		if (!d->serial_len)
			return;
	}
	if (c == '\r')
		return;
	/* keep lines printable: control bytes become '.' */
	d->serial_line[d->serial_len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '.';
	if (d->serial_len == sizeof(d->serial_line) - 1)
		vpc_flush_serial(g);
}

static bool serial_io(struct guest *g, unsigned int reg, bool in, u32 *value)
{
	struct guest_devices *d = &g->dev;
	bool dlab = d->serial_regs[3] & UART_LCR_DLAB;

	if (!in) {
		if (reg == 0 && !dlab)
			serial_out(g, *value);
		else
			d->serial_regs[reg] = *value;
		return true;
	}
	switch (reg) {
	case 0:
		*value = dlab ? d->serial_regs[0] : 0; /* no input */
		break;
	case 2:
		*value = 0x01; /* IIR: no interrupt pending */
		break;
	case 5:
		*value = UART_LSR_THRE | UART_LSR_TEMT;
		break;
	case 6:
		*value = 0;
		break;
	default:
		*value = d->serial_regs[reg];
		break;
	}
	return true;
}

static bool pic_io(struct guest *g, unsigned int chip, unsigned int reg, bool in, u32 *value)
{
	struct guest_devices *d = &g->dev;

	if (in) {
		*value = reg ? d->pic_mask[chip] : 0; /* IRR/ISR read as empty */
		return true;
	}
	if (reg == 0 && (*value & 0x10)) {
		d->pic_init_step[chip] = 1; /* ICW1: ICW2-4 follow on the data port */
	} else if (reg == 1 && d->pic_init_step[chip]) {
		if (++d->pic_init_step[chip] > 3)
			d->pic_init_step[chip] = 0;
	} else if (reg == 1) {
		d->pic_mask[chip] = *value; /* OCW1 */
	}
	return true;
}

static u8 fw_cfg_byte(struct guest *g, u16 key, u32 offset)
{
	u64 v;
	u8 buf[8];

	switch (key) {
	case FW_CFG_SIGNATURE:
		return offset < 4 ? "QEMU"[offset] : 0;
	case FW_CFG_ID:
		v = 1;
		break;
	case FW_CFG_RAM_SIZE:
	case FW_CFG_MAX_RAM:
		v = g->stage2.ram_size;
		break;
	case FW_CFG_NB_CPUS:
		v = 1;
		break;
	default:
		return 0;
	}
	memcpy(buf, &v, 8);
	return offset < 8 ? buf[offset] : 0;
}

/* Logs the first access to something unassigned, once per place. */
static void log_unassigned(struct guest *g, const char *what, u64 where, bool write)
{
	static struct {
		const struct guest *g;
		u64 where;
	} logged[LOGGED_MAX];
	static unsigned int nr_logged;

	for (unsigned int i = 0; i < nr_logged; i++)
		if (logged[i].g == g && logged[i].where == where)
			return;
	if (nr_logged == LOGGED_MAX) {
		if (nr_logged++ == LOGGED_MAX)
			pr_info("tide: further unassigned accesses are not logged\n");
		return;
	}
	if (nr_logged > LOGGED_MAX)
		return;
	logged[nr_logged].g = g;
	logged[nr_logged++].where = where;
	pr_info("tide: guest %s: %s to unassigned %s %#lx (reads all ones, writes dropped)\n",
		g->name, write ? "write" : "read", what, where);
}

void vpc_io(struct guest *g, u16 port, u8 size, bool in, u32 *value)
{
	struct guest_devices *d = &g->dev;
	bool handled = false;

	if (port >= COM1_BASE && port < COM1_BASE + 8)
		handled = serial_io(g, port - COM1_BASE, in, value);
	else if (port == DEBUG_EXIT_PORT && !in)
		handled = true; /* the caller stops the guest */
	else if (port == PIC1_BASE || port == PIC1_BASE + 1)
		handled = pic_io(g, 0, port - PIC1_BASE, in, value);
	else if (port == PIC2_BASE || port == PIC2_BASE + 1)
		handled = pic_io(g, 1, port - PIC2_BASE, in, value);
	else if (port == FW_CFG_SELECTOR && !in && size == 2) {
		d->fw_cfg_key = *value;
		d->fw_cfg_offset = 0;
		handled = true;
	} else if (port == FW_CFG_DATA && in) {
		*value = fw_cfg_byte(g, d->fw_cfg_key, d->fw_cfg_offset++);
		handled = true;
	}
	if (!handled) {
		log_unassigned(g, "port", port, !in);
		if (in)
			*value = 0xffffffff;
	}
	if (in && size < 4)
		*value &= (1u << (size * 8)) - 1;
}

static bool apic_read(struct guest *g, u32 off, u32 *v)
{
	struct guest_devices *d = &g->dev;

	switch (off) {
	case APIC_ID:
		*v = 0;
		return true;
	case APIC_VERSION:
		*v = 0x14 | (5 << 16); /* integrated APIC, 6 LVT entries */
		return true;
	case APIC_TPR:
	case APIC_PPR:
		*v = d->apic_tpr;
		return true;
	case APIC_LDR:
		*v = d->apic_ldr;
		return true;
	case APIC_DFR:
		*v = d->apic_dfr;
		return true;
	case APIC_SVR:
		*v = d->apic_svr;
		return true;
	case APIC_ICR_LOW:
		*v = 0; /* delivery status: idle */
		return true;
	case APIC_ICR_HIGH:
		*v = d->apic_icr_high;
		return true;
	case APIC_TIMER_INITIAL:
		*v = d->apic_timer_initial;
		return true;
	case APIC_TIMER_DIVIDE:
		*v = d->apic_timer_divide;
		return true;
	}
	if (off >= APIC_LVT_FIRST && off < APIC_LVT_LAST) {
		*v = d->apic_lvt[(off - APIC_LVT_FIRST) >> 4];
		return true;
	}
	*v = 0; /* ISR, TMR, IRR, ESR, current count: nothing pending, no timer */
	return true;
}

static void apic_write(struct guest *g, u32 off, u32 v)
{
	struct guest_devices *d = &g->dev;

	switch (off) {
	case APIC_TPR:
		d->apic_tpr = v & 0xff;
		break;
	case APIC_LDR:
		d->apic_ldr = v & 0xff000000;
		break;
	case APIC_DFR:
		d->apic_dfr = v | 0x0fffffff;
		break;
	case APIC_SVR:
		d->apic_svr = v & 0x3ff;
		break;
	case APIC_ICR_HIGH:
		d->apic_icr_high = v;
		break;
	case APIC_ICR_LOW:
		/* one CPU: IPIs to others go nowhere; delivery completes at once */
		break;
	case APIC_TIMER_INITIAL:
		d->apic_timer_initial = v;
		break;
	case APIC_TIMER_DIVIDE:
		d->apic_timer_divide = v & 0xb;
		break;
	default:
		if (off >= APIC_LVT_FIRST && off < APIC_LVT_LAST)
			d->apic_lvt[(off - APIC_LVT_FIRST) >> 4] = v;
		break; /* EOI and read-only registers: nothing to do */
	}
}

void vpc_mmio(struct guest *g, u64 gpa, u8 size, bool write, u64 *value)
{
	if (gpa >= XAPIC_BASE && gpa < XAPIC_BASE + PAGE_SIZE && size == 4 && !(gpa & 3)) {
		u32 v = *value;

		if (write)
			apic_write(g, gpa - XAPIC_BASE, v);
		else if (apic_read(g, gpa - XAPIC_BASE, &v))
			*value = v;
		return;
	}
	log_unassigned(g, "address", ALIGN_DOWN(gpa, PAGE_SIZE), write);
	if (!write)
		*value = ~0UL;
}
