/*
 * symbol_lookup(): a binary search in the table that tools/gen-symbols.sh
 * generates from this very image (see arch/x86/symbols.h). It only reads
 * rodata, so the panic path may call it whatever state Tide is in.
 */
#include "arch/x86/symbols.h"

extern const u8 __text_end[];

const char *symbol_lookup(u64 addr, u64 *offset)
{
	unsigned int lo = 0, hi = symbol_count;

	if (!hi || addr < symbol_table[0].addr || addr >= (u64)__text_end)
		return NULL;
	/* the last entry at or below addr: symbol_table[lo].addr <= addr always */
	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (symbol_table[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (offset)
		*offset = addr - symbol_table[lo].addr;
	return symbol_table[lo].name;
}
