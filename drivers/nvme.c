/*
 * swap=nvme's device: the first NVMe controller on PCI (class 01/08/02) and
 * its first active namespace, behind mm/swap_device.h. This file owns that
 * controller: its registers (BAR0, mapped uncached), one admin queue pair and
 * one I/O queue pair (one 4 KiB page each, from the frame allocator), and
 * the identify buffer. It follows the NVMe base specification 1.4.
 *
 * Polling only: one command is in flight at a time, submitted by writing the
 * SQ tail doorbell and completed by watching the phase bit of the next CQ
 * entry, with a time bound. A command that times out or a completion that
 * makes no sense disables the controller (which aborts whatever it still
 * holds, so it cannot DMA into a page we have reused) and the device answers
 * -EIO from then on; a new probe starts over.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/pci.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/frame_alloc.h"
#include "mm/page_table.h"
#include "mm/swap_device.h"

/* controller registers (spec 3.1) */
#define REG_CAP 0x00
#define REG_VS 0x08
#define REG_CC 0x14
#define REG_CSTS 0x1c
#define REG_AQA 0x24
#define REG_ASQ 0x28
#define REG_ACQ 0x30
#define REG_DOORBELLS 0x1000

#define CAP_MQES(cap) ((u32)((cap) & 0xffff)) /* 0's based */
#define CAP_TO(cap) ((u32)(((cap) >> 24) & 0xff)) /* 500 ms units */
#define CAP_DSTRD(cap) ((u32)(((cap) >> 32) & 0xf))
#define CAP_CSS_NVM(cap) (((cap) >> 37) & 1)
#define CAP_MPSMIN(cap) ((u32)(((cap) >> 48) & 0xf))

#define CC_EN BIT(0)
#define CC_CSS_NVM (0u << 4)
#define CC_MPS_4K (0u << 7) /* 2^(12 + 0) */
#define CC_IOSQES (6u << 16) /* 64-byte SQ entries */
#define CC_IOCQES (4u << 20) /* 16-byte CQ entries */
#define CSTS_RDY BIT(0)
#define CSTS_CFS BIT(1)

/* opcodes */
#define ADMIN_CREATE_SQ 0x01
#define ADMIN_CREATE_CQ 0x05
#define ADMIN_IDENTIFY 0x06
#define ADMIN_SET_FEATURES 0x09
#define FEAT_NUM_QUEUES 0x07
#define NVM_FLUSH 0x00
#define NVM_WRITE 0x01
#define NVM_READ 0x02

#define CNS_NAMESPACE 0
#define CNS_CONTROLLER 1
#define CNS_ACTIVE_NS_LIST 2

#define ADMIN_DEPTH 16
#define IO_MAX_DEPTH 16 /* one command in flight: a few slots are plenty */
#define CMD_TIMEOUT_MS 30000 /* Linux's default I/O timeout */

struct nvme_sqe {
	u32 cdw0; /* opcode 7:0, PRPs (PSDT 0), command id 31:16 */
	u32 nsid;
	u32 rsvd[2];
	u64 mptr;
	u64 prp1, prp2;
	u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	u32 dw0; /* command specific */
	u32 rsvd;
	u16 sq_head, sq_id;
	u16 cid;
	u16 status; /* bit 0: phase tag; 15:1: status field (SC 7:0, SCT 10:8) */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "SQ entry is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQ entry is 16 bytes");

struct nvme_queue {
	u16 qid, depth, sq_tail, cq_head;
	u16 phase; /* the phase tag a new entry carries on this pass */
	u64 sq_phys, cq_phys;
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	volatile u32 *sq_doorbell, *cq_doorbell;
};

struct nvme_ctrl {
	struct pci_dev pci;
	u8 *regs;
	u64 cap;
	u64 ready_timeout_ms; /* CAP.TO */
	struct nvme_queue admin, io;
	u64 buf_phys; /* identify data */
	u16 next_cid;
	u32 nsid;
	unsigned int lba_shift; /* 9 or 12 */
	bool vwc; /* volatile write cache present: sync must flush */
	bool dead; /* set up failed or gave up: every command gets -EIO */
};

/* One controller: a second probe resets it and reuses its pages. */
static struct nvme_ctrl ctrl;
static struct swap_device nvme_dev;

/* ---- time: TSC deadlines ------------------------------------------------ */

static u64 ticks_per_ms;

/*
 * The probe may run before lapic_init() has measured the TSC, so measure it
 * here the same way (10 ms of PIT channel 2) when needed. Without a PIT,
 * assume a 10 GHz TSC: waits then last longer than asked, never shorter.
 */
static void timebase_init(void)
{
	u64 start, spins = 0;

	if (ticks_per_ms)
		return;
	if (tsc_ticks_per_ms) {
		ticks_per_ms = tsc_ticks_per_ms;
		return;
	}
	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, 11932 & 0xff); /* 10 ms at 1.193182 MHz */
	outb(0x42, 11932 >> 8);
	start = rdtsc();
	while (!(inb(0x61) & 0x20) && ++spins < 100000000)
		;
	ticks_per_ms = spins < 100000000 ? (rdtsc() - start) / 10 : 0;
	if (!ticks_per_ms)
		ticks_per_ms = 10000000;
}

static u64 deadline_after(u64 ms)
{
	return rdtsc() + ms * ticks_per_ms;
}

static bool expired(u64 deadline)
{
	return (s64)(rdtsc() - deadline) >= 0;
}

/* ---- registers ---------------------------------------------------------- */

/*
 * BAR0 is mapped uncached (UC): UC accesses are neither cached, combined nor
 * reordered with other memory accesses, and x86 does not reorder stores with
 * older stores. So a queue entry written to ordinary memory is visible to the
 * controller (DMA is cache-coherent on x86) before the doorbell write that
 * announces it; all that is needed is that the compiler keeps the order,
 * which the "memory" clobber below enforces. Same on the read side: loads
 * are not reordered with older loads, so after seeing a fresh phase bit the
 * rest of the completion entry is read as the controller wrote it.
 */
#define compiler_barrier() asm volatile("" ::: "memory")

static u32 reg_read32(struct nvme_ctrl *c, u32 off)
{
	return *(volatile u32 *)(c->regs + off);
}

static void reg_write32(struct nvme_ctrl *c, u32 off, u32 val)
{
	compiler_barrier();
	*(volatile u32 *)(c->regs + off) = val;
}

/* 64-bit registers as two dword accesses, low first: every controller takes that */
static u64 reg_read64(struct nvme_ctrl *c, u32 off)
{
	u64 lo = reg_read32(c, off);

	return lo | (u64)reg_read32(c, off + 4) << 32;
}

static void reg_write64(struct nvme_ctrl *c, u32 off, u64 val)
{
	reg_write32(c, off, (u32)val);
	reg_write32(c, off + 4, (u32)(val >> 32));
}

/* Waits (bounded by CAP.TO) until CSTS.RDY equals `ready`. */
static int wait_ready(struct nvme_ctrl *c, bool ready, const char *what)
{
	u64 deadline = deadline_after(c->ready_timeout_ms);

	for (;;) {
		u32 csts = reg_read32(c, REG_CSTS);

		if (csts == ~0u) {
			pr_err("nvme: controller gone (CSTS reads all ones) while %s\n", what);
			return -EIO;
		}
		/* a fatal status while enabling will not clear by waiting */
		if (ready && (csts & CSTS_CFS)) {
			pr_err("nvme: controller fatal status (CSTS.CFS) while %s\n", what);
			return -EIO;
		}
		if (!!(csts & CSTS_RDY) == ready)
			return 0;
		if (expired(deadline)) {
			pr_err("nvme: CSTS.RDY did not become %d within CAP.TO (%lu ms) while %s\n",
			       ready, c->ready_timeout_ms, what);
			return -ETIMEDOUT;
		}
		cpu_relax();
	}
}

/* CC.EN = 0: the controller deletes its queues and aborts what they held. */
static int ctrl_disable(struct nvme_ctrl *c)
{
	u32 cc = reg_read32(c, REG_CC);

	if (!(cc & CC_EN))
		return wait_ready(c, false, "disabling");
	/*
	 * Clearing EN while RDY is still 0 is undefined (spec 3.1.5): let an
	 * enable still in progress (firmware's) finish first. A failure here
	 * is reported; we clear EN anyway, a reset is all we can do.
	 */
	if (!(reg_read32(c, REG_CSTS) & (CSTS_RDY | CSTS_CFS)))
		wait_ready(c, true, "finishing an earlier enable");
	reg_write32(c, REG_CC, cc & ~CC_EN);
	return wait_ready(c, false, "disabling");
}

/* ---- queues and commands ------------------------------------------------ */

static void queue_init(struct nvme_ctrl *c, struct nvme_queue *q, u16 qid, u16 depth)
{
	u32 stride = 4u << CAP_DSTRD(c->cap);

	/* zeroed: a stale phase bit from an earlier probe must not look new */
	memset(phys_to_virt(q->sq_phys), 0, PAGE_SIZE);
	memset(phys_to_virt(q->cq_phys), 0, PAGE_SIZE);
	q->sq = phys_to_virt(q->sq_phys);
	q->cq = phys_to_virt(q->cq_phys);
	q->qid = qid;
	q->depth = depth;
	q->sq_tail = 0;
	q->cq_head = 0;
	q->phase = 1; /* the controller posts the first pass with phase 1 */
	q->sq_doorbell = (volatile u32 *)(c->regs + REG_DOORBELLS + (2 * qid) * stride);
	q->cq_doorbell = (volatile u32 *)(c->regs + REG_DOORBELLS + (2 * qid + 1) * stride);
}

/* Gives up on the controller: no command is trusted to finish any more. */
static void ctrl_give_up(struct nvme_ctrl *c)
{
	c->dead = true;
	if (ctrl_disable(c))
		pr_err("nvme: controller did not stop either; its queue pages stay reserved\n");
}

/*
 * Submits `cmd` on `q`, waits for its completion and checks it. Returns 0
 * (with the completion's dword 0 in *dw0 when asked) or -EIO after a message
 * naming `what`.
 */
static int submit_wait(struct nvme_ctrl *c, struct nvme_queue *q, struct nvme_sqe *cmd,
		       u32 *dw0, const char *what)
{
	volatile struct nvme_cqe *cqe;
	u16 cid, status;
	u64 deadline;

	if (c->dead)
		return -EIO;
	cid = c->next_cid++;
	cmd->cdw0 = (cmd->cdw0 & 0xffff) | (u32)cid << 16;
	memcpy(&q->sq[q->sq_tail], cmd, sizeof(*cmd));
	q->sq_tail = (q->sq_tail + 1) % q->depth;
	compiler_barrier(); /* the entry before the doorbell: see reg_write32 */
	*q->sq_doorbell = q->sq_tail;

	deadline = deadline_after(CMD_TIMEOUT_MS);
	cqe = &q->cq[q->cq_head];
	while ((cqe->status & 1) != q->phase) {
		if (expired(deadline)) {
			pr_err("nvme: %s: no completion within %u ms; disabling the controller\n",
			       what, CMD_TIMEOUT_MS);
			ctrl_give_up(c);
			return -EIO;
		}
		cpu_relax();
	}
	status = cqe->status >> 1;
	if (dw0)
		*dw0 = cqe->dw0;
	if (cqe->cid != cid || cqe->sq_id != q->qid) {
		pr_err("nvme: %s: completion for command %u on queue %u, expected %u on %u; "
		       "disabling the controller\n", what, cqe->cid, cqe->sq_id, cid, q->qid);
		ctrl_give_up(c);
		return -EIO;
	}
	/* consume the entry; the phase flips each time the head wraps */
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	compiler_barrier();
	*q->cq_doorbell = q->cq_head;

	if (status) {
		pr_err("nvme: %s failed: status %#x (type %u, code %#x%s)\n", what, status,
		       (status >> 8) & 7, status & 0xff, status & BIT(14) ? ", do not retry" : "");
		return -EIO;
	}
	return 0;
}

static int admin_cmd(struct nvme_ctrl *c, u8 opcode, u32 nsid, u64 prp1, u32 cdw10,
		     u32 cdw11, u32 *dw0, const char *what)
{
	struct nvme_sqe cmd = {
		.cdw0 = opcode, .nsid = nsid, .prp1 = prp1, .cdw10 = cdw10, .cdw11 = cdw11,
	};

	return submit_wait(c, &c->admin, &cmd, dw0, what);
}

static int identify(struct nvme_ctrl *c, u32 cns, u32 nsid, const char *what)
{
	return admin_cmd(c, ADMIN_IDENTIFY, nsid, c->buf_phys, cns, 0, NULL, what);
}

/* ---- the swap device ---------------------------------------------------- */

static int nvme_rw(struct swap_device *dev, u64 slot, u64 page_phys, u8 opcode)
{
	struct nvme_ctrl *c = dev->priv;
	unsigned int per_slot = PAGE_SHIFT - c->lba_shift; /* log2(LBAs per slot) */
	u64 lba = slot << per_slot;
	struct nvme_sqe cmd = {
		.cdw0 = opcode, .nsid = c->nsid,
		.prp1 = page_phys, /* 4 KiB from a page boundary: PRP2 is not used */
		.cdw10 = (u32)lba, .cdw11 = (u32)(lba >> 32),
		.cdw12 = (1u << per_slot) - 1, /* number of LBAs, 0's based */
	};
	char what[48];

	if (slot >= dev->nr_slots || !page_phys || !IS_ALIGNED(page_phys, PAGE_SIZE))
		return -EINVAL;
	snprintf(what, sizeof(what), "%s of slot %lu", opcode == NVM_READ ? "read" : "write",
		 slot);
	return submit_wait(c, &c->io, &cmd, NULL, what);
}

static int nvme_read_page(struct swap_device *dev, u64 slot, u64 page_phys)
{
	return nvme_rw(dev, slot, page_phys, NVM_READ);
}

static int nvme_write_page(struct swap_device *dev, u64 slot, u64 page_phys)
{
	return nvme_rw(dev, slot, page_phys, NVM_WRITE);
}

static int nvme_sync(struct swap_device *dev)
{
	struct nvme_ctrl *c = dev->priv;
	struct nvme_sqe cmd = { .cdw0 = NVM_FLUSH, .nsid = c->nsid };

	if (c->dead)
		return -EIO;
	/* without a volatile write cache a completed write is already durable */
	if (!c->vwc)
		return 0;
	return submit_wait(c, &c->io, &cmd, NULL, "flush");
}

/* ---- probe -------------------------------------------------------------- */

/* An identify string (space padded, not terminated) as a C string. */
static void id_string(char *out, const u8 *in, unsigned int len)
{
	while (len && (in[len - 1] == ' ' || in[len - 1] == 0))
		len--;
	memcpy(out, in, len);
	out[len] = 0;
}

static u64 *const queue_pages[] = {
	&ctrl.admin.sq_phys, &ctrl.admin.cq_phys, &ctrl.io.sq_phys, &ctrl.io.cq_phys,
	&ctrl.buf_phys,
};

static void free_pages(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(queue_pages); i++) {
		if (*queue_pages[i])
			frame_free_page(*queue_pages[i]);
		*queue_pages[i] = 0;
	}
}

/* Maps [bar, bar + size) uncached; refuses a range someone mapped cacheable. */
static int map_registers(u64 bar, u64 size)
{
	u64 attrs;

	if (paging_map_direct(bar, size, true))
		return -ENOMEM;
	for (u64 off = 0; off < size; off += PAGE_SIZE)
		if (paging_lookup((u64)phys_to_virt(bar + off), NULL, &attrs) ||
		    !(attrs & PT_UNCACHED))
			return -EINVAL;
	return 0;
}

/* Everything after finding the device; the caller cleans up on failure. */
static int ctrl_setup(struct nvme_ctrl *c, u64 max_slots)
{
	u64 bar, bar_size, regs_size, nsze;
	u32 vs, lbaf, depth;
	const u8 *id;
	char model[41], serial[21];
	unsigned int fmt;

	if (pci_read_bar(&c->pci, 0, &bar, &bar_size)) {
		pr_err("nvme: BAR0 is not an assigned memory BAR\n");
		return -ENODEV;
	}
	pci_enable_mem_master(&c->pci);
	pci_disable_msi(&c->pci);
	if (map_registers(bar, PAGE_SIZE)) {
		pr_err("nvme: cannot map BAR0 at %#lx uncached\n", bar);
		return -ENOMEM;
	}
	c->regs = phys_to_virt(bar);
	c->cap = reg_read64(c, REG_CAP);
	if (c->cap == ~0ull) {
		pr_err("nvme: controller does not answer (CAP reads all ones)\n");
		return -ENODEV;
	}
	c->ready_timeout_ms = MAX(CAP_TO(c->cap), 1u) * 500ull;
	/* doorbells of queues 0 and 1, CAP.DSTRD apart */
	regs_size = REG_DOORBELLS + 4 * (4u << CAP_DSTRD(c->cap));
	if (regs_size > bar_size || map_registers(bar, regs_size)) {
		pr_err("nvme: cannot map %#lx bytes of registers (BAR0 has %#lx)\n", regs_size,
		       bar_size);
		return -ENOMEM;
	}
	if (!CAP_CSS_NVM(c->cap) || CAP_MPSMIN(c->cap) != 0) {
		pr_err("nvme: controller lacks the NVM command set or 4 KiB pages (CAP %#lx)\n",
		       c->cap);
		return -ENODEV;
	}
	pr_debug("nvme: BAR0 at %#lx (%lu KiB), CAP %#lx: doorbell stride %u, CAP.TO %lu ms\n",
		 bar, bar_size >> 10, c->cap, 4u << CAP_DSTRD(c->cap), c->ready_timeout_ms);

	if (ctrl_disable(c))
		return -EIO; /* firmware may have left it running */
	for (unsigned int i = 0; i < ARRAY_SIZE(queue_pages); i++) {
		if (!*queue_pages[i])
			*queue_pages[i] = frame_alloc_page(OWNER_HYPERVISOR);
		if (!*queue_pages[i]) {
			pr_err("nvme: out of memory for the queues\n");
			return -ENOMEM;
		}
	}
	depth = MIN(CAP_MQES(c->cap) + 1, (u32)IO_MAX_DEPTH);
	queue_init(c, &c->admin, 0, ADMIN_DEPTH);
	queue_init(c, &c->io, 1, depth);
	reg_write32(c, REG_AQA, (ADMIN_DEPTH - 1) << 16 | (ADMIN_DEPTH - 1));
	reg_write64(c, REG_ASQ, c->admin.sq_phys);
	reg_write64(c, REG_ACQ, c->admin.cq_phys);
	reg_write32(c, REG_CC, CC_CSS_NVM | CC_MPS_4K | CC_IOSQES | CC_IOCQES);
	reg_write32(c, REG_CC, CC_CSS_NVM | CC_MPS_4K | CC_IOSQES | CC_IOCQES | CC_EN);
	if (wait_ready(c, true, "enabling"))
		return -EIO;
	c->dead = false;

	id = phys_to_virt(c->buf_phys);
	if (identify(c, CNS_CONTROLLER, 0, "identify controller"))
		return -EIO;
	id_string(serial, id + 4, 20);
	id_string(model, id + 24, 40);
	c->vwc = id[525] & 1;
	if ((id[512] & 0xf) > 6 || (id[513] & 0xf) > 4) {
		pr_err("nvme: controller needs larger queue entries (SQES %#x, CQES %#x)\n",
		       id[512], id[513]);
		return -ENODEV;
	}

	/* the first active namespace; NVMe 1.0 has no list, take namespace 1 */
	vs = reg_read32(c, REG_VS);
	c->nsid = 1;
	if (vs >= 0x10100) {
		if (identify(c, CNS_ACTIVE_NS_LIST, 0, "identify active namespace list"))
			return -EIO;
		c->nsid = *(const u32 *)id;
		if (!c->nsid) {
			pr_err("nvme: controller has no active namespace\n");
			return -ENODEV;
		}
	}
	if (identify(c, CNS_NAMESPACE, c->nsid, "identify namespace"))
		return -EIO;
	nsze = *(const u64 *)id;
	fmt = id[26] & 0xf; /* FLBAS: the LBA format in use */
	lbaf = *(const u32 *)(id + 128 + 4 * fmt);
	c->lba_shift = (lbaf >> 16) & 0xff; /* LBADS */
	if (fmt > id[25]) {
		pr_err("nvme: namespace %u: FLBAS names LBA format %u, but it has only %u\n",
		       c->nsid, fmt, id[25] + 1);
		return -ENODEV;
	}
	/* metadata would need an extra buffer (or extended LBAs): not used */
	if (lbaf & 0xffff) {
		pr_err("nvme: namespace %u: its LBAs carry %u bytes of metadata; only formats "
		       "without metadata are supported\n", c->nsid, lbaf & 0xffff);
		return -ENODEV;
	}
	if (c->lba_shift != 9 && c->lba_shift != 12) {
		pr_err("nvme: namespace %u: %lu-byte LBAs; only 512 and 4096 are supported\n",
		       c->nsid, c->lba_shift < 32 ? 1ul << c->lba_shift : 0);
		return -ENODEV;
	}
	nvme_dev.nr_slots = MIN(max_slots, nsze >> (PAGE_SHIFT - c->lba_shift));
	if (!nvme_dev.nr_slots) {
		pr_err("nvme: namespace %u holds no 4 KiB slot (%lu LBAs)\n", c->nsid, nsze);
		return -ENODEV;
	}

	/* one I/O queue pair, polled: the CQ without interrupts (IEN = 0) */
	if (admin_cmd(c, ADMIN_SET_FEATURES, 0, 0, FEAT_NUM_QUEUES, 0, NULL,
		      "set number of queues"))
		return -EIO;
	if (admin_cmd(c, ADMIN_CREATE_CQ, 0, c->io.cq_phys, (depth - 1) << 16 | 1,
		      BIT(0) /* physically contiguous */, NULL, "create I/O completion queue") ||
	    admin_cmd(c, ADMIN_CREATE_SQ, 0, c->io.sq_phys, (depth - 1) << 16 | 1,
		      1u << 16 /* its CQ */ | BIT(0), NULL, "create I/O submission queue"))
		return -EIO;

	pr_info("nvme: %02x:%02x.%x [%04x:%04x] '%s' serial '%s', NVMe %u.%u, namespace %u: "
		"%lu x %u-byte LBAs (%lu MiB), %lu swap slots, write cache: %s\n",
		c->pci.bus, c->pci.dev, c->pci.fn, c->pci.vendor, c->pci.device, model, serial,
		vs >> 16, (vs >> 8) & 0xff, c->nsid, nsze, 1u << c->lba_shift,
		nsze >> (20 - c->lba_shift), nvme_dev.nr_slots, c->vwc ? "yes" : "no");
	return 0;
}

struct swap_device *nvme_swap_probe(u64 max_slots)
{
	struct nvme_ctrl *c = &ctrl;

	/* a device returned by an earlier probe fails cleanly from here on */
	c->dead = true;
	if (pci_find_class(0x01, 0x08, 0x02, &c->pci)) {
		pr_err("nvme: no NVMe controller on PCI (class 01, subclass 08, prog-if 02)\n");
		return NULL;
	}
	timebase_init();
	if (ctrl_setup(c, max_slots)) {
		pr_err("nvme: %02x:%02x.%x: set-up failed; no NVMe swap\n", c->pci.bus,
		       c->pci.dev, c->pci.fn);
		c->dead = true;
		/* the pages go back only once the controller can no longer DMA */
		if (c->regs && ctrl_disable(c) == 0)
			free_pages();
		return NULL;
	}
	nvme_dev.name = "nvme";
	nvme_dev.read_page = nvme_read_page;
	nvme_dev.write_page = nvme_write_page;
	nvme_dev.sync = nvme_sync;
	nvme_dev.priv = c;
	return &nvme_dev;
}
