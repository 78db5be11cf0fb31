/*
 * key=value options of the guest command line. The loader's command line
 * starts with the image name (QEMU -kernel: the file path; Tide: the
 * module's name); that first word is skipped unless it has an '=' (a
 * loader that passes only the options).
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include "guest/lib/types.h"

void cmdline_init(const char *line);

/* The options part ("" if none). */
const char *cmdline_args(void);

/*
 * Number option: decimal or 0x hex, optional K, M or G suffix (powers of
 * 1024). Returns 1 and sets *val when present and well formed, 0 when
 * absent (*val untouched), -1 when malformed.
 */
int cmdline_u64(const char *key, u64 *val);

/* The key appears, as key or key=anything. */
bool cmdline_has(const char *key);

/*
 * Prints "<guest>: unknown option 'word'" for each word whose key is not in
 * the NULL-terminated list; returns how many there were.
 */
int cmdline_check(const char *const known[]);

#endif
