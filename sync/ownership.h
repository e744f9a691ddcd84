/*
 * Ownership: which node may write which rows and columns, as the schema
 * declares it in the synced table sync_ownership (see
 * schema/0007_ownership.sql for the columns and their meaning). The engine
 * knows only node ids: a node's depth is the number of labels of its id,
 * and its jurisdiction is its id and every id that extends it by whole
 * labels. A database without the table has no rules: every write is
 * allowed. A column rule marked `sole` (schema/0011_duties.sql) takes its
 * column out of the table's '*' rules: only the column's own rules let it
 * change, or be set on an inserted row.
 */
#ifndef TS_SYNC_OWNERSHIP_H
#define TS_SYNC_OWNERSHIP_H

#include <sqlite3.h>

#include "rowcodec.h"

#define TS_OWNERSHIP_TABLE "sync_ownership"

typedef struct ts_ownership ts_ownership;

/* Reads the rules of `db` (none when it has no sync_ownership). */
int ts_ownership__load(ts_ownership **out, sqlite3 *db);
void ts_ownership__free(ts_ownership *rules);

/*
 * Reads a row a rule's scope names, as the checker sees the data: the row
 * stored at history path `path`, of `table`; `key` is its one-column
 * primary key when the rule names the row by key (a scope_table), NULL
 * when by path (scope_table '*'). Writes the row to *out (release with
 * ts_row__free). Returns 1 when found, 0 when there is no such row, < 0 on
 * error.
 */
typedef int (*ts_ownership_lookup)(ts_row **out, const char *table, const ts_value *key,
	const char *path, void *payload);

/*
 * Checks that node `writer` may change a row of `table` from `before`
 * (NULL: an insert) to `after` (NULL: a delete). Only the columns whose
 * values differ are checked, each against its own rules or the table's
 * '*' rules; inserts and deletes against the '*' rules. Columns whose
 * value in `after` equals the one in `held` (the receiver's row, or NULL)
 * are what the receiver holds already, not the writer's change. `key` is the row's
 * key as a person reads it, for the message. Returns 0 when allowed, else
 * TS_EDENIED with one line naming the table, key, column and the rule.
 */
int ts_ownership__check(const ts_ownership *rules, const char *writer, const char *table,
	const char *key, const ts_row *before, const ts_row *after, const ts_row *held,
	ts_ownership_lookup lookup, void *payload);

/* 1 if the table has any rule. */
int ts_ownership__covers(const ts_ownership *rules, const char *table);

/* 1 when node id `id` lies in the jurisdiction of node id `scope`. */
int ts_ownership__in_jurisdiction(const char *scope, const char *id);

/* The number of labels of a node id ("bj.dc" is 2). */
int ts_ownership__depth(const char *id);

#endif
