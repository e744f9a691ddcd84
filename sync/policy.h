/*
 * Policies: what a merge puts in while a conflict waits for review, as the
 * schema declares it, per table or per column (DESIGN.md, "Between nodes").
 *
 * The declarations are the rows of the synced table
 *
 *     sync_policies(table_name TEXT, column_name TEXT, policy TEXT,
 *                   settles INTEGER, PRIMARY KEY (table_name, column_name))
 *
 * which any schema may create and fill (the case schema does so in
 * schema/0002_policies.sql); the engine only reads it and knows nothing of
 * what the tables mean. column_name '*' stands for every column of the
 * table and for its whole-row (delete) conflicts; a row naming the column
 * overrides it; a table or column with no row gets ts_merge__default_policy.
 *
 *   order:v1,v2,...  the value later in the list wins; a value not in the
 *                    list (NULL included) loses to any listed value; two
 *                    unlisted values: the default. A TEXT value is listed
 *                    when its bytes equal an item, an INTEGER when its
 *                    decimal form does; REAL and BLOB values never are.
 *   max, min         the greater / lesser value: numbers numerically
 *                    (INTEGER and REAL compared exactly), text and blobs
 *                    bytewise, and across types SQLite's order (numbers <
 *                    text < blob). NULL loses to any value under both. Two
 *                    values that compare equal (1 and 1.0): the default.
 *   upper, lower     the side from the higher (lower) tier wins, as the
 *                    context says; when it cannot say (-1), the default.
 *   append-only      the table's rows are immutable, so any conflict there
 *                    is damage: the merge aborts with TS_ECORRUPT.
 *   manual           the default's provisional value, for review.
 *
 * Delete conflicts (a row deleted on one side, changed on the other) use
 * the table's '*' row: upper and lower keep the row when their side
 * updated it and delete it when their side deleted it; append-only aborts;
 * every other policy keeps the row, unsettled.
 *
 * A policy's settles = 1 closes the conflict without review (it is still
 * recorded, as 'settled'), but only when the policy itself made the choice:
 * whenever it falls back to the default, the conflict stays open. manual
 * and append-only take settles 0.
 *
 * Determinism: a choice depends only on the values, the declaration and
 * ours_is_upper, never on which node merges, so every node merging the same
 * commits with the same declarations writes the same tree. The
 * declarations are read from the merging node's database, so they change
 * only by migration, which every node applies alike.
 */
#ifndef TS_SYNC_POLICY_H
#define TS_SYNC_POLICY_H

#include <sqlite3.h>

#include "merge.h"

#define TS_POLICIES_TABLE "sync_policies"

/* The declarations of one database; opaque. */
typedef struct ts_policies ts_policies;

/*
 * Reads every row of sync_policies into *out (caller frees with
 * ts_policies__free). A database without that table has no declarations:
 * every conflict gets the default. A malformed declaration (unknown
 * policy, an empty or repeated item of an order list, settles other than
 * 0 or 1, or 1 on manual or append-only, a NULL field) is TS_EINVALID,
 * naming the row. On failure *out is NULL.
 */
int ts_policies__load(ts_policies **out, sqlite3 *db);

/* NULL-safe. */
void ts_policies__free(ts_policies *policies);

/*
 * The declaration that applies to `table`.`column` (column NULL: the
 * table's whole-row conflicts, i.e. its '*' row), as written in
 * sync_policies (e.g. "order:open,closed"), with its settles flag in
 * *settles (may be NULL); NULL when none applies. Owned by `policies`.
 */
const char *ts_policies__lookup(const ts_policies *policies, const char *table,
	const char *column, int *settles);

/* What ts_policy__decide needs to know besides the declarations. */
typedef struct {
	ts_policies *policies;   /* NULL: every conflict gets the default */
	int ours_is_upper;       /* 1: ours comes from the higher tier, 0: theirs does,
	                          * -1: unknown (upper and lower then give the default) */
} ts_policy_context;

/*
 * A ts_merge_policy (merge.h) applying the declarations: pass it as
 * ts_merge_options.policy (or to ts_integrate) with a ts_policy_context as
 * its payload. *chosen is always one of base/ours/theirs. Returns 0, or
 * TS_ECORRUPT ("append-only table X changed on both sides") for a conflict
 * in an append-only table, which aborts the merge.
 */
int ts_policy__decide(void *payload, ts_merge_kind kind, const char *table,
	const char *column, const ts_value *base, const ts_value *ours, const ts_value *theirs,
	const ts_value **chosen, int *keep_row, int *settles);

#endif
