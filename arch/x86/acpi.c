/*
 * Just enough ACPI to power the machine off (poweroff=acpi): find the RSDP,
 * follow the RSDT/XSDT to the FADT for the PM1 control ports, and pull the
 * S5 sleep type out of the DSDT's \_S5 package without an AML interpreter
 * (the package is a constant in every firmware we know of). Every table is
 * checked (signature, length bounds, checksum) before it is trusted.
 */
#include "arch/x86/paging.h"
#include "arch/x86/poweroff.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define ACPI_MAX_TABLE (16 * MiB)

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;

static bool checksum_ok(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (u64 i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

/* Maps and validates the table at phys; NULL if it is not a good `sig`. */
static const struct acpi_header *map_table(u64 phys, const char *sig)
{
	const struct acpi_header *h;

	if (!phys || paging_map_direct(phys, sizeof(*h), false))
		return NULL;
	h = phys_to_virt(phys);
	if (memcmp(h->signature, sig, 4) || h->length < sizeof(*h) ||
	    h->length > ACPI_MAX_TABLE)
		return NULL;
	if (paging_map_direct(phys, h->length, false) || !checksum_ok(h, h->length))
		return NULL;
	return h;
}

static u64 rsdp_at(u64 phys)
{
	const u8 *p;

	if (paging_map_direct(phys, 36, false))
		return 0;
	p = phys_to_virt(phys);
	if (memcmp(p, "RSD PTR ", 8) || !checksum_ok(p, 20))
		return 0;
	return phys;
}

static u64 find_rsdp(void)
{
	u64 ebda;

	if (acpi_rsdp_hint && rsdp_at(acpi_rsdp_hint))
		return acpi_rsdp_hint;
	/* BIOS: the first KiB of the EBDA, then 0xe0000-0xfffff */
	paging_map_direct(0, MiB, false);
	ebda = (u64)*(const u16 *)phys_to_virt(0x40e) << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		for (u64 p = ebda; p < ebda + KiB; p += 16)
			if (rsdp_at(p))
				return p;
	for (u64 p = 0xe0000; p < 0x100000; p += 16)
		if (rsdp_at(p))
			return p;
	return 0;
}

static const struct acpi_header *find_fadt(u64 rsdp_phys)
{
	const u8 *rsdp = phys_to_virt(rsdp_phys);
	u8 revision = rsdp[15];
	const struct acpi_header *root = NULL;
	unsigned int entry_size = 4;

	if (revision >= 2 && paging_map_direct(rsdp_phys, 36, false) == 0 &&
	    checksum_ok(rsdp, 36)) {
		u64 xsdt;

		memcpy(&xsdt, rsdp + 24, 8);
		root = map_table(xsdt, "XSDT");
		entry_size = 8;
	}
	if (!root) {
		u32 rsdt;

		memcpy(&rsdt, rsdp + 16, 4);
		root = map_table(rsdt, "RSDT");
		entry_size = 4;
	}
	if (!root)
		return NULL;

	const u8 *entries = (const u8 *)(root + 1);
	u64 count = (root->length - sizeof(*root)) / entry_size;

	for (u64 i = 0; i < count; i++) {
		u64 phys = 0;
		const struct acpi_header *t;

		memcpy(&phys, entries + i * entry_size, entry_size);
		t = map_table(phys, "FACP");
		if (t)
			return t;
	}
	return NULL;
}

/* One AML integer of the \_S5 package: ZeroOp, OneOp or BytePrefix n. */
static int aml_small_int(const u8 **p, const u8 *end, u16 *out)
{
	if (*p >= end)
		return -EINVAL;
	switch (**p) {
	case 0x00: /* ZeroOp */
	case 0x01: /* OneOp */
		*out = **p;
		*p += 1;
		return 0;
	case 0x0a: /* BytePrefix */
		if (*p + 1 >= end)
			return -EINVAL;
		*out = (*p)[1];
		*p += 2;
		return 0;
	}
	return -EINVAL;
}

static int parse_s5(const struct acpi_header *dsdt, struct acpi_s5 *s5)
{
	const u8 *aml = (const u8 *)dsdt;
	const u8 *end = aml + dsdt->length;

	for (const u8 *p = aml + sizeof(*dsdt); p + 4 < end; p++) {
		if (memcmp(p, "_S5_", 4))
			continue;
		/* NameOp (optionally with a root prefix) then PackageOp */
		if (!(p[-1] == 0x08 || (p[-1] == '\\' && p[-2] == 0x08)))
			continue;
		const u8 *q = p + 4;

		if (q >= end || *q++ != 0x12)
			continue;
		if (q >= end)
			return -EINVAL;
		q += 1 + (*q >> 6); /* PkgLength: lead byte + 0-3 more */
		q += 1; /* NumElements */
		if (aml_small_int(&q, end, &s5->slp_typa) ||
		    aml_small_int(&q, end, &s5->slp_typb))
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

int acpi_find_s5(struct acpi_s5 *s5)
{
	u64 rsdp = find_rsdp();
	const struct acpi_header *fadt, *dsdt = NULL;
	const u8 *f;
	u32 dsdt32, v32;

	if (!rsdp) {
		pr_err("acpi: no RSDP found\n");
		return -ENODEV;
	}
	fadt = find_fadt(rsdp);
	if (!fadt || fadt->length < 72) {
		pr_err("acpi: no usable FADT\n");
		return -ENODEV;
	}
	f = (const u8 *)fadt;
	memset(s5, 0, sizeof(*s5));
	memcpy(&v32, f + 48, 4);
	s5->smi_cmd = v32;
	s5->acpi_enable = f[52];
	memcpy(&v32, f + 64, 4);
	s5->pm1a_cnt = v32;
	memcpy(&v32, f + 68, 4);
	s5->pm1b_cnt = v32;
	if (fadt->length >= 148) {
		u64 x_dsdt;

		memcpy(&x_dsdt, f + 140, 8);
		dsdt = map_table(x_dsdt, "DSDT");
	}
	memcpy(&dsdt32, f + 40, 4);
	if (!dsdt)
		dsdt = map_table(dsdt32, "DSDT");
	if (!dsdt || !s5->pm1a_cnt) {
		pr_err("acpi: no DSDT or no PM1a control block\n");
		return -ENODEV;
	}
	if (parse_s5(dsdt, s5)) {
		pr_err("acpi: no \\_S5 package in the DSDT\n");
		return -ENOENT;
	}
	return 0;
}
