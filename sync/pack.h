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

/* fsync() of the file at `path` (with `dir`, of the directory: its names).
 * 0, or -1 with errno set. */
int ts_pack__fsync(const char *path, int dir);

/*
 * Writes `data` as the new file `dir`/`name` (read-only, through a
 * temporary name); with `durable`, synced before it gets its name, and the
 * directory after.
 */
int ts_pack__write_file(const char *dir, const char *name, const ts_buf *data, int durable);

/*
 * A new pack written as it is built, never whole in memory: opened with
 * the number of objects it will hold, given each entry's bytes in turn
 * (ts_pack__writer_put() adds them to `*crc` when given one; an entry
 * starts at ts_pack__writer_size()), then named after its checksum with
 * its index written from the `n` entries (sorted there), synced first
 * when `durable`, its name ("pack-<id>") in `name`. Freed unfinished, it
 * leaves nothing behind.
 */
typedef struct ts_pack__writer ts_pack__writer;

int ts_pack__writer_open(ts_pack__writer **out, const char *dir, size_t count);
int ts_pack__writer_put(ts_pack__writer *w, const void *data, size_t len, uint32_t *crc);
uint64_t ts_pack__writer_size(const ts_pack__writer *w);
int ts_pack__writer_finish(ts_pack__writer *w, char name[64], ts_pack__entry *entries, size_t n, int durable);
void ts_pack__writer_free(ts_pack__writer *w);

/*
 * Combines the packs `names` ("pack-<id>", without a suffix) of `dir` into
 * one new pack with its index, made durable with `durable`, and names it in `out`
 * ("pack-<id>"). The entries are copied as they are, compressed and
 * deltified as they were, in the order of `names`: no object is
 * decompressed, deltified or compressed again. An object held by more than
 * one pack is kept once (a delta on a copy left out names its base by id).
 * Every entry copied must match the CRC-32 its index gives, or nothing is
 * written. The parts stay; removing them is the caller's.
 */
int ts_pack__combine(char out[64], const char *dir, char *const *names, size_t n, int durable);

#endif
