/*
 * Function names for addresses in Tide's text, for panic backtraces.
 *
 * The table is generated from the image itself at build time: the Makefile
 * links Tide once with an empty table (build/tide-nosyms.elf), lists that
 * image's text symbols with `nm -n` (tools/gen-symbols.sh writes
 * build/symbols.c), and links again with the table. The table is rodata,
 * which comes after text in linker.ld, so no text address moves between
 * the two links; gen-symbols.sh --check verifies that after the second one.
 */
#ifndef TIDE_X86_SYMBOLS_H
#define TIDE_X86_SYMBOLS_H

#include "kernel/types.h"

struct symbol {
	u64 addr;
	const char *name;
};

/* sorted by address, one entry per address (build/symbols.c) */
extern const struct symbol symbol_table[];
extern const unsigned int symbol_count;

/*
 * The name of the function containing addr (the nearest text symbol at or
 * below it), with addr's offset from it in *offset (if offset is not NULL);
 * NULL if addr is not in Tide's text.
 */
const char *symbol_lookup(u64 addr, u64 *offset);

#endif
