/*
 * Statements kept prepared for a connection (statements.h).
 *
 * The registered connections are few (a node's one, a test's), each with
 * a short list of statements found by a hash of their text and then the
 * text itself. One lock guards the lists; a statement is used by the one
 * thread that holds it, as its connection is.
 */
#include "statements.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The statements one connection keeps at most; past them, one asked for
 * is prepared and finalized as on a connection not registered. */
#define KEEP_MAX 128

typedef struct {
	uint32_t hash;
	sqlite3_stmt *st;
	int out;             /* handed to a holder, not yet done */
} kept;

typedef struct conn {
	sqlite3 *db;
	kept v[KEEP_MAX];
	size_t n;
	struct conn *next;
} conn;

static conn *conns;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t text_hash(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* With the lock held. */
static conn *find_conn(sqlite3 *db)
{
	conn *c;
	for (c = conns; c && c->db != db; c = c->next)
		;
	return c;
}

int ts_statements__keep(sqlite3 *db)
{
	conn *c;

	pthread_mutex_lock(&lock);
	if (!(c = find_conn(db)) && (c = calloc(1, sizeof(*c)))) {
		c->db = db;
		c->next = conns;
		conns = c;
	}
	pthread_mutex_unlock(&lock);
	return c ? 0 : -1;
}

void ts_statements__drop(sqlite3 *db)
{
	conn **p, *c = NULL;
	size_t i;

	pthread_mutex_lock(&lock);
	for (p = &conns; *p; p = &(*p)->next)
		if ((*p)->db == db) {
			c = *p;
			*p = c->next;
			break;
		}
	pthread_mutex_unlock(&lock);
	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		sqlite3_finalize(c->v[i].st);
	free(c);
}

int ts_statements__prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	uint32_t hash = text_hash(sql);
	sqlite3_stmt *st = NULL;
	conn *c;
	size_t i;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&lock);
	if ((c = find_conn(db))) {
		for (i = 0; i < c->n; i++)
			if (c->v[i].hash == hash && !c->v[i].out && !strcmp(sqlite3_sql(c->v[i].st), sql)) {
				c->v[i].out = 1;
				*out = c->v[i].st;
				pthread_mutex_unlock(&lock);
				return SQLITE_OK;
			}
	}
	pthread_mutex_unlock(&lock);

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK || !st)
		return rc;   /* an error, or text with no statement in it: not kept */
	pthread_mutex_lock(&lock);
	if ((c = find_conn(db)) && c->n < KEEP_MAX) {
		c->v[c->n].hash = hash;
		c->v[c->n].st = st;
		c->v[c->n].out = 1;
		c->n++;
	}
	pthread_mutex_unlock(&lock);
	*out = st;
	return SQLITE_OK;
}

void ts_statements__done(sqlite3_stmt *st)
{
	conn *c;
	size_t i;

	if (!st)
		return;
	pthread_mutex_lock(&lock);
	if ((c = find_conn(sqlite3_db_handle(st))))
		for (i = 0; i < c->n; i++)
			if (c->v[i].st == st) {
				sqlite3_reset(st);
				sqlite3_clear_bindings(st);
				c->v[i].out = 0;
				pthread_mutex_unlock(&lock);
				return;
			}
	pthread_mutex_unlock(&lock);
	sqlite3_finalize(st);
}

int ts_statements__exec(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (strchr(sql, ';'))   /* more than one statement: parsed each time */
		return sqlite3_exec(db, sql, NULL, NULL, NULL);
	if ((rc = ts_statements__prepare(db, sql, &st)) != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	ts_statements__done(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
