/*
 * Pack files as git lays them out (pack format v2, index v2): the index
 * written for a pack, a new file put in place, and packs combined into one
 * by copying their entries as they are.
 */
#ifndef TS_SYNC_PACK_H
#define TS_SYNC_PACK_H

#include <stdint.h>
#include <git2.h>

#include "buf.h"

/* One object of a pack: its id, where its entry starts, the CRC-32 of the entry. */
typedef struct {
	git_oid id;
	uint64_t offset;
	uint32_t crc;
} ts_pack__entry;

/*
 * Appends to `idx` the version 2 index of a pack holding the `n` objects
 * of `entries` (sorted here by id; no id twice) whose own checksum, its
 * last 20 bytes, is `pack_sum`.
 */
int ts_pack__index(ts_buf *idx, ts_pack__entry *entries, size_t n, const unsigned char pack_sum[20]);

/*
 * Writes `data` as the new file `dir`/`name` (read-only, through a
 * temporary name); with `durable`, synced before it gets its name, and the
 * directory after.
 */
int ts_pack__write_file(const char *dir, const char *name, const ts_buf *data, int durable);

/*
 * Combines the packs `names` ("pack-<id>", without a suffix) of `dir` into
 * one new pack with its index, made durable, and names it in `out`
 * ("pack-<id>"). The entries are copied as they are, compressed and
 * deltified as they were, in the order of `names`: no object is
 * decompressed, deltified or compressed again. An object held by more than
 * one pack is kept once (a delta on a copy left out names its base by id).
 * Every entry copied must match the CRC-32 its index gives, or nothing is
 * written. The parts stay; removing them is the caller's.
 */
int ts_pack__combine(char out[64], const char *dir, char *const *names, size_t n);

#endif
