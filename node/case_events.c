/*
 * Case events: the append-only record of every step a case goes through
 * (case_events), written by intake, edits and the lifecycle alike, in the
 * same write as the step.
 */
#include <stdlib.h>

#include "lifecycle.h"
#include "node.h"
#include "statements.h"
#include "tiers.h"

int ts_case__event(ts_node *node, const char *case_id, const char *kind, const char *officer,
	const char *detail, const char *at)
{
	sqlite3_stmt *st = NULL;
	char *id = NULL;
	int error;

	if ((error = ts_node_mint_id(&id, node, "e")) < 0)
		return error;
	if (ts_statements__prepare(node->db, "INSERT INTO case_events (id, case_id, at, kind, officer, node, detail) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &st) != SQLITE_OK) {
		error = ts_tiers__db_error(node->db, "recording the case event");
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, officer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, node->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "recording the case event");
done:
	ts_statements__done(st);
	free(id);
	return error;
}
