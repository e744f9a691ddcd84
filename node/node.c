/*
 * The node: a directory with the working database, its history and its
 * configuration.
 *
 *   NODE/tiersync.db   working SQLite database (WAL, synchronous=FULL)
 *   NODE/history.git   bare git repository of the database's history
 *   NODE/config        git-config file: node.id, node.tier, user.name,
 *                      remote.upstream.url, node.key
 *   NODE/id_ed25519    the node's signing key (node/signing.c)
 *
 * A node is created in a temporary sibling directory and renamed into
 * place once complete, so a crash during init leaves no half node.
 */
#include "node.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "error.h"
#include "history.h"
#include "schema.h"
#include "statements.h"
#include "verify.h"

/*
 * libgit2 keeps up to 256 MB of parsed objects by default; the objects a
 * merge or an apply reads once are not worth keeping, and a node keeps to
 * a handheld's budget. The limit counts the objects' bytes, not the
 * memory their parsed form takes: at 16 MB, a 100,000-row commit onto a
 * 200,000-row node peaked 50 MB higher than at 4 MB, in the same time.
 * Trees are not kept at all: libgit2 makes room for 31 entries in each one
 * it parses, and a node's leaf trees hold one or two rows, each read about
 * once (a 10,000-row merge into 100,000 cases: 49 MB -> 29 MB, in the same
 * time).
 *
 * libgit2 maps packs in windows of up to 1 GB and keeps up to 8 GB mapped:
 * every page a merge or a fetch touched stayed in the process's memory. A
 * 10,000-row merge into 1,000,000 cases peaked at 125 MB, most of it
 * pages of packs. Windows of 8 MB, at most 32 MB mapped, the least recently used
 * unmapped first: the same merge peaks at 54 MB in about the same time
 * (1.30-1.72 s before, 1.55-1.59 s after), and a street's first pull of
 * 100,000 cases at 86 MB instead of 137 (its merge about a tenth slower).
 */
#define OBJECT_CACHE_BYTES (4 * 1024 * 1024)
#define PACK_WINDOW_BYTES (8 * 1024 * 1024)
#define PACK_MAPPED_BYTES (32 * 1024 * 1024)

/*
 * libgit2 hashes every object it reads again, to compare with its id: a
 * sixth to a fifth of a push's or a merge's time. git checks an object's
 * id where it arrives (index-pack) and in fsck, not at every read, and so
 * does a node: what arrives is indexed or rebuilt to the id it was sent
 * under before anything reads it, and ts_node_verify() reads with the
 * check on (strict()).
 *
 * The switch is libgit2's, for the whole process: it stays on while any
 * thread verifies, so that one verify ending does not turn it off under
 * another still reading.
 */
static pthread_mutex_t strict_lock = PTHREAD_MUTEX_INITIALIZER;
static int strict_users;

static void strict(int on)
{
	pthread_mutex_lock(&strict_lock);
	strict_users += on ? 1 : -1;
	if (strict_users == (on ? 1 : 0))
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, on);
	pthread_mutex_unlock(&strict_lock);
}

static void init_once(void)
{
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)OBJECT_CACHE_BYTES);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)PACK_WINDOW_BYTES);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)PACK_MAPPED_BYTES);
}

static void global_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_once);
}

/* The bytes the write-ahead log may keep on disk (see open_db()). */
#define LOG_LIMIT 4194304
#define STR(x) #x
#define XSTR(x) STR(x)

/*
 * SQLite cuts the log's file back to journal_size_limit only when a write
 * starts the log over, which a connection does only if it began reading
 * once the log was all copied: a log one large transaction made long can
 * stay long through any number of short commands. Past LOG_LIMIT bytes it
 * is copied into the database and emptied here, when no other process is
 * using it this moment (else a later opening does it).
 */
static void trim_log(sqlite3 *db, const char *path)
{
	char wal[4096];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) < 0 || st.st_size <= LOG_LIMIT)
		return;
	sqlite3_busy_timeout(db, 0);
	sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(db, 5000);
}

static int open_db(sqlite3 **out, const char *path, int create)
{
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	sqlite3 *db = NULL;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		int code = ts_sqlite__error_as(create ? TS_ERROR : TS_ENOTFOUND, db, "opening %s", path);
		sqlite3_close(db);
		return code;
	}
	sqlite3_busy_timeout(db, 5000);
	/*
	 * A new database gives back pages freed in bulk (a large import's
	 * staged changes, a checkpoint's journal) when history asks
	 * (ts_history__trim()); the mode can only be chosen before its
	 * first table.
	 */
	if (create && sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) != SQLITE_OK) {
		int code = ts_sqlite__error(db, "setting up %s", path);
		sqlite3_close(db);
		return code;
	}
	/*
	 * The write-ahead log outlives the connection: SQLite's last close
	 * would copy it into the database (two fsyncs) and delete it, and the
	 * next command would create it again (an fsync of the directory), in
	 * every short command. What a transaction commits is durable in the
	 * log already; SQLite's automatic checkpoint copies the log into the
	 * database as it reaches 1,000 pages, and trim_log() keeps its file
	 * from growing past LOG_LIMIT.
	 */
	if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
			"PRAGMA journal_size_limit = " XSTR(LOG_LIMIT) ";", NULL, NULL, NULL) != SQLITE_OK) {
		int code = ts_sqlite__error(db, "setting up %s", path);
		sqlite3_close(db);
		return code;
	}
	trim_log(db, path);
	*out = db;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int config_get(char **out, git_config *cfg, const char *name)
{
	git_buf buf = GIT_BUF_INIT;
	*out = NULL;
	if (git_config_get_string_buf(&buf, cfg, name) < 0)
		return TS_ENOTFOUND;
	*out = strdup(buf.ptr);
	git_buf_dispose(&buf);
	return *out ? 0 : ts_error_set(TS_ERROR, "out of memory");
}

void ts_node__who(ts_store_who *who, const char *node_id, const char *name, int64_t when)
{
	who->name = name;
	who->node = node_id;
	who->time = when;
	who->offset = TS_UTC_OFFSET_SECONDS / 60;
}

static int load(ts_node *node)
{
	char *cfgpath = join(node->path, "config"), *dbpath = join(node->path, "tiersync.db");
	char *gitpath = join(node->path, "history.git"), *tier = NULL;
	struct stat st;
	int error = 0;

	if (!cfgpath || !dbpath || !gitpath) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (stat(cfgpath, &st) < 0 || stat(dbpath, &st) < 0 || stat(gitpath, &st) < 0) {
		error = ts_error_set(TS_ENOTFOUND, "%s is not a tiersync node (no config, tiersync.db "
			"and history.git there)", node->path);
		goto done;
	}
	if (git_config_open_ondisk(&node->config, cfgpath) < 0) {
		error = ts_store__git_error(TS_ECORRUPT, cfgpath);
		goto done;
	}
	if (config_get(&node->id, node->config, "node.id") < 0 || !ts_node_id_valid(node->id) ||
	    config_get(&tier, node->config, "node.tier") < 0 || ts_tier_parse(&node->tier, tier) < 0) {
		error = ts_error_set(TS_ECORRUPT, "%s: node.id or node.tier missing or invalid", cfgpath);
		goto done;
	}
	config_get(&node->identity, node->config, "user.name");
	if (!(node->scope = strdup(node->id))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if (node->tier == TS_TIER_DEVICE && strrchr(node->scope, '.'))
		*strrchr(node->scope, '.') = '\0';
	if ((error = open_db(&node->db, dbpath, 0)) < 0)
		goto done;
	ts_statements__keep(node->db);   /* out of memory: each is parsed anew */
	if ((error = ts_store__open(&node->store, gitpath, 0)) < 0 ||
	    (error = ts_node__key_load(node)) < 0)
		goto done;
done:
	free(cfgpath);
	free(dbpath);
	free(gitpath);
	free(tier);
	return error;
}

static int migrate(ts_node *node)
{
	int before = 0, after = 0, error;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(node->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		before = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (before > ts_schema__latest())
		return ts_error_set(TS_EINVALID, "this node's schema (version %d) is newer than this "
			"tiersync knows (version %d); upgrade tiersync", before, ts_schema__latest());
	/* engine tables first: a node made by an older tiersync may lack one */
	if ((error = ts_history__setup(node->db)) < 0)
		return error;
	if (before == ts_schema__latest())
		return 0;
	if ((error = ts_schema__migrate(node->db, &after)) < 0)
		return error;
	/* what the migration wrote is history too: one commit of the whole state,
	 * made by the node */
	{
		ts_store_who who;
		ts_buf msg = TS_BUF_INIT;
		git_oid id;
		ts_node__who(&who, node->id, node->id, ts_node__now());
		ts_buf__printf(&msg, "schema migration %d -> %d\n", before, after);
		error = ts_history__commit_all(&id, node->db, node->store, &who, &who, msg.ptr);
		ts_buf__dispose(&msg);
	}
	return error;
}

static int write_config(const char *dir, const ts_init_options *opts)
{
	char *path = join(dir, "config");
	git_config *cfg = NULL;
	int error = 0;

	if (!path)
		return ts_error_set(TS_ERROR, "out of memory");
	if (git_config_open_ondisk(&cfg, path) < 0 ||
	    git_config_set_string(cfg, "node.id", opts->id) < 0 ||
	    git_config_set_string(cfg, "node.tier", ts_tier_name(opts->tier)) < 0 ||
	    (opts->identity && git_config_set_string(cfg, "user.name", opts->identity) < 0) ||
	    (opts->upstream && git_config_set_string(cfg, "remote.upstream.url", opts->upstream) < 0))
		error = ts_store__git_error(TS_ERROR, path);
	git_config_free(cfg);
	free(path);
	return error;
}

static int check_author(const char *author);

/* 1 when a node may be created at `path`: nothing there, or an empty
 * directory (which rename(2) then replaces in one step). */
static int room_for_node(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int empty = 1;

	if (!d)
		return errno == ENOENT;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int ts_node_init(ts_node **out, const char *given_path, const ts_init_options *opts)
{
	char *path = NULL, *tmp = NULL, *dbpath = NULL, *gitpath = NULL;
	int64_t now = ts_node__now();
	size_t len;
	ts_store_who who, node_who;
	git_oid commit;
	sqlite3 *db = NULL;
	ts_store *store = NULL;
	ts_sshsig_key *key = NULL;
	ts_buf msg = TS_BUF_INIT;
	int error;

	*out = NULL;
	if (opts && (error = ts_error__version(opts->version, TS_INIT_OPTIONS_VERSION, "init options")) < 0)
		return error;
	global_init();
	if (!opts || !ts_node_id_valid(opts->id))
		return ts_error_set(TS_EINVALID, "invalid node id '%s': use dot-separated lowercase labels "
			"of letters, digits and '_', e.g. bj.dc.jingshan", opts && opts->id ? opts->id : "");
	if (!ts_tier_name(opts->tier))
		return ts_error_set(TS_EINVALID, "invalid tier");
	if (opts->identity && (error = check_author(opts->identity)) < 0)
		return error;
	if (!(path = strdup(given_path)))
		return ts_error_set(TS_ERROR, "out of memory");
	for (len = strlen(path); len > 1 && path[len - 1] == '/'; len--)
		path[len - 1] = '\0';
	if (!*path || !room_for_node(path)) {
		error = ts_error_set(TS_EEXISTS, "%s already exists and is not an empty directory", given_path);
		goto done;
	}

	if (!(tmp = malloc(strlen(path) + 16))) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	sprintf(tmp, "%s.init-XXXXXX", path);
	if (!mkdtemp(tmp)) {
		error = ts_error_set(TS_ERROR, "creating %s: %s", path, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto done;
	}
	dbpath = join(tmp, "tiersync.db");
	gitpath = join(tmp, "history.git");
	if (!dbpath || !gitpath) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = write_config(tmp, opts)) < 0 ||
	    (error = open_db(&db, dbpath, 1)) < 0 ||
	    (error = ts_history__setup(db)) < 0 ||
	    (error = ts_schema__migrate(db, NULL)) < 0 ||
	    (error = ts_store__open(&store, gitpath, 1)) < 0 ||
	    (error = ts_node__key_init(&key, tmp, opts)) < 0)
		goto done;
	/* the first commit is signed too; the city, enrolled by no one, enrolls itself */
	ts_store__set_signer(store, key);
	if (opts->tier == TS_TIER_CITY && (error = ts_node__key_enroll_self(db, key, opts->id, now)) < 0)
		goto done;

	ts_node__who(&who, opts->id, opts->identity ? opts->identity : opts->id, now);
	ts_node__who(&node_who, opts->id, opts->id, now);
	ts_buf__printf(&msg, "init %s node %s\n", ts_tier_name(opts->tier), opts->id);
	if ((error = ts_history__commit_all(&commit, db, store, &who, &node_who, msg.ptr)) < 0)
		goto done;
	sqlite3_close(db);
	db = NULL;
	ts_store__free(store);
	store = NULL;
	if (rename(tmp, path) < 0) {
		error = ts_error_set(TS_ERROR, "moving the new node to %s: %s", path, strerror(errno));
		goto done;
	}
	free(tmp);
	tmp = NULL;
	if ((error = ts_node_open(out, path)) == 0 && (error = ts_node__key_as_identity(*out)) < 0) {
		ts_node_free(*out);
		*out = NULL;
	}
done:
	sqlite3_close(db);
	ts_store__free(store);
	ts_sshsig__key_free(key);
	if (tmp) {
		/* leave nothing of a failed init behind */
		nftw(tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
		free(tmp);
	}
	free(dbpath);
	free(gitpath);
	free(path);
	ts_buf__dispose(&msg);
	return error;
}

int ts_node_open(ts_node **out, const char *path)
{
	ts_node *node;
	int repaired = 0, undone = 0, error;

	*out = NULL;
	global_init();
	if (!(node = calloc(1, sizeof(*node))) || !(node->path = strdup(path))) {
		free(node);
		return ts_error_set(TS_ERROR, "out of memory");
	}
	node->schema_cookie = -1;
	if ((error = load(node)) < 0 ||
	    (error = ts_history__repair(node->db, node->store, &repaired)) < 0 ||
	    (error = ts_integrate__recover(node->db, node->store, &undone)) < 0 ||
	    (error = migrate(node)) < 0) {
		ts_node_free(node);
		return error;
	}
	node->repaired = repaired || undone;
	/* derived from the head: a failure leaves the old file until the next commit */
	ts_node_signers_refresh(node);
	*out = node;
	return 0;
}

void ts_node_free(ts_node *node)
{
	if (!node)
		return;
	/* deferred commits reach history.git; should that fail, the journal
	 * has them for the next open */
	ts_store__publish(node->store);
	ts_tables__free(node->tables);   /* its statements first: they belong to db */
	ts_ownership__free(node->rules);
	ts_store__free(node->store);   /* before the key it signs with */
	if (node->db) {
		ts_statements__drop(node->db);
		sqlite3_close(node->db);
	}
	git_config_free(node->config);
	free(node->path);
	free(node->id);
	free(node->scope);
	free(node->identity);
	free(node->signers);
	ts_sshsig__key_free(node->key);
	free(node);
}

int ts_node_repaired(const ts_node *node) { return node->repaired; }
const char *ts_node_path(const ts_node *node) { return node->path; }
const char *ts_node_id(const ts_node *node) { return node->id; }
ts_tier ts_node_tier(const ts_node *node) { return node->tier; }
const char *ts_node_identity(const ts_node *node) { return node->identity; }
sqlite3 *ts_node_db(ts_node *node) { return node->db; }

static int check_author(const char *author)
{
	if (!author || !*author)
		return ts_error_set(TS_EINVALID, "no author: name the officer, or set "
			"the node's identity (user.name in its config)");
	if (strchr(author, '<') || strchr(author, '>') || strchr(author, '\n'))
		return ts_error_set(TS_EINVALID, "an author's name may not contain '<', '>' or a newline");
	return 0;
}

int ts_node_write(ts_node *node, const char *author, const char *summary,
	int (*fn)(sqlite3 *db, void *payload), void *payload)
{
	return ts_node__write_as(node, node->id, author, summary, fn, payload);
}

int ts_node__write_as(ts_node *node, const char *writer, const char *author, const char *summary,
	int (*fn)(sqlite3 *db, void *payload), void *payload)
{
	ts_capture *cap = NULL;
	int error;

	if (!author)
		author = node->identity;
	if ((error = check_author(author)) < 0)
		return error;
	if ((error = ts_capture__begin(&cap, node->db)) < 0)
		return error;
	if ((error = fn(node->db, payload)) != 0 || (error = ts_node__check_write(node, writer, cap)) < 0) {
		ts_capture__rollback(cap);
		return error;
	}
	return ts_capture__commit(cap, author, ts_node__now(), summary ? summary : "");
}

/* The tables whose ids each prefix mints. */
static const struct {
	const char *prefix, *tables[3];
} minted[] = {
	{ "c", { "cases" } }, { "e", { "case_events", "evidence" } }, { "k", { "key_areas" } },
	{ "m", { "major_events" } }, { "x", { "exposures" } }, { "p", { "parties" } },
	{ "r", { "patrols" } }, { "z", { "responsibility_zones" } }, { "h", { "responsibility_checks" } },
	{ "a", { "small_ad_phones" } }, { "s", { "supervision_items" } }, { "f", { "supervision_feedback" } },
	{ "u", { "urgent_reports" } },
};

/* Whether a row of the tables `prefix` mints for already has id `id`: so
 * a node enrolled anew (its device replaced), whose count of the day starts
 * again, never mints an id its old device gave. */
static int minted_before(ts_node *node, const char *prefix, const char *id, int *taken)
{
	const char *const *t;
	char sql[96];
	size_t i;
	int rc;

	*taken = 0;
	for (i = 0; i < sizeof(minted) / sizeof(minted[0]); i++) {
		if (strcmp(minted[i].prefix, prefix))
			continue;
		for (t = minted[i].tables; *t && !*taken; t++) {
			sqlite3_stmt *st = NULL;
			snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" WHERE id = ?1", *t);
			if (ts_statements__prepare(node->db, sql, &st) != SQLITE_OK)
				return ts_sqlite__error(node->db, "minting an id");
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			ts_statements__done(st);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				return ts_sqlite__error(node->db, "minting an id");
			*taken = rc == SQLITE_ROW;
		}
	}
	return 0;
}

int ts_node_mint_id(char **out, ts_node *node, const char *prefix)
{
	char date[16], key[64], value[32], now[32];
	char *last;
	long long n = 0;
	size_t len;
	int error, taken;

	*out = NULL;
	/* the date of the id is the service's date: "YYYY-MM-DD" of Beijing time */
	ts_time_format(now, ts_node__now());
	snprintf(date, sizeof(date), "%.4s%.2s%.2s", now, now + 5, now + 8);
	snprintf(key, sizeof(key), "seq.%s%s", prefix, date);
	if ((last = ts_meta__get(node->db, key)))
		n = strtoll(last, NULL, 10);
	free(last);
	len = strlen(node->id) + strlen(prefix) + 40;
	if (!(*out = malloc(len)))
		return ts_error_set(TS_ERROR, "out of memory");
	do {
		n++;
		snprintf(*out, len, "%s-%s%s-%04lld", node->id, prefix, date, n);
		if ((error = minted_before(node, prefix, *out, &taken)) < 0)
			goto fail;
	} while (taken);
	snprintf(value, sizeof(value), "%lld", n);
	if ((error = ts_meta__set(node->db, key, value)) < 0)
		goto fail;
	return 0;
fail:
	free(*out);
	*out = NULL;
	return error;
}

typedef struct {
	int (*cb)(const ts_staged_info *info, void *payload);
	void *payload;
} staged_walk;

static int staged_one(const ts_staged_write *w, void *payload)
{
	staged_walk *walk = payload;
	ts_staged_info info;
	int error;

	info.seq = w->seq;
	info.author = w->author;
	info.time = w->time;
	info.summary = w->summary;
	if ((error = ts_changeset__count(w->changeset, w->size, &info.inserts, &info.updates, &info.deletes)) < 0)
		return error;
	return walk->cb(&info, walk->payload);
}

int ts_node_staged(ts_node *node, int (*cb)(const ts_staged_info *info, void *payload), void *payload)
{
	staged_walk walk = { cb, payload };
	return ts_capture__foreach(node->db, staged_one, &walk);
}

/* The staged authors, each once, in order, joined with ", "; and the
 * bytes of the staged changesets. */
typedef struct {
	ts_buf names;
	char **seen;
	size_t n;
	int64_t bytes;
} authors;

static int add_author(const ts_staged_write *w, void *payload)
{
	authors *a = payload;
	char **grown;
	size_t i;

	a->bytes += w->size;
	for (i = 0; i < a->n; i++)
		if (!strcmp(a->seen[i], w->author))
			return 0;
	if (!(grown = realloc(a->seen, (a->n + 1) * sizeof(*grown))) || !(grown[a->n] = strdup(w->author))) {
		if (grown)
			a->seen = grown;
		return ts_error_set(TS_ERROR, "out of memory");
	}
	a->seen = grown;
	a->n++;
	if (a->names.size)
		ts_buf__puts(&a->names, ", ");
	ts_buf__puts(&a->names, w->author);
	return 0;
}

static void authors_dispose(authors *a)
{
	size_t i;
	for (i = 0; i < a->n; i++)
		free(a->seen[i]);
	free(a->seen);
	ts_buf__dispose(&a->names);
}

/*
 * After a commit of this many bytes of changes (a bulk import), the memory
 * it freed goes back to the system: glibc keeps a heap its large work left
 * fragmented, and the next write would start from there; and the packs it
 * read stay mapped (ts_store__unmap()). It costs about as much as a small
 * commit, so a small one does not ask.
 */
#define RETURN_MEMORY_BYTES (1024 * 1024)

static void return_memory(ts_node *node)
{
	ts_store__unmap(node->store);   /* on a failure the next read says so */
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

int ts_node_commit(char id_out[41], ts_node *node, const char *message, const char *author)
{
	ts_store_who a, c;
	authors staged = { TS_BUF_INIT, NULL, 0, 0 };
	ts_buf msg = TS_BUF_INIT;
	ts_tables *tables;
	git_oid id;
	int64_t now = ts_node__now();
	int undone, error;

	id_out[0] = '\0';
	if (!message || !*message)
		return ts_error_set(TS_EINVALID, "a commit needs a message (-m MESSAGE)");
	/* a schema changed behind the node's back (a planted trigger) makes
	 * writes nobody recorded: nothing is committed while it differs */
	if ((error = ts_node__schema_check(node)) < 0)
		goto done;
	/* rows a pull left half-applied are not this node's work: undone first */
	if ((error = ts_integrate__recover(node->db, node->store, &undone)) < 0 ||
	    (error = ts_capture__foreach_header(node->db, add_author, &staged)) < 0)
		goto done;
	if (staged.n == 0) {
		error = ts_error_set(TS_ENOTFOUND, "nothing staged to commit");
		goto done;
	}
	if (!author)
		author = staged.names.ptr;
	if ((error = check_author(author)) < 0)
		goto done;
	ts_buf__puts(&msg, message);
	if (msg.size && msg.ptr[msg.size - 1] != '\n')
		ts_buf__putc(&msg, '\n');
	ts_node__who(&a, node->id, author, now);
	ts_node__who(&c, node->id, node->id, now);
	if ((error = ts_node__tables(&tables, node)) < 0)
		goto done;
	if ((error = ts_history__commit(&id, node->db, node->store, tables, &a, &c, msg.ptr)) < 0)
		goto done;
	git_oid_tostr(id_out, 41, &id);
	if (staged.bytes >= RETURN_MEMORY_BYTES)
		return_memory(node);
done:
	authors_dispose(&staged);
	ts_buf__dispose(&msg);
	return error;
}

int ts_node_batch_commits(ts_node *node, int on)
{
	return ts_store__defer_commits(node->store, on);
}

int ts_node_head(char id_out[41], ts_node *node)
{
	git_oid id;
	int error = ts_history__head(&id, node->db);
	if (error == 0)
		git_oid_tostr(id_out, 41, &id);
	return error;
}

int ts_node_verify(ts_node *node, int (*cb)(const ts_verify_problem *p, void *payload), void *payload)
{
	int rows, signatures;

	if ((rows = ts_store__publish(node->store)) < 0)
		return rows;
	strict(1);
	rows = ts_history__verify(node->db, node->store, cb, payload);
	if (rows < 0 && rows != TS_ECORRUPT)
		goto done;
	rows = ts_node__schema_verify(node, rows, cb, payload);
	if (rows < 0 && rows != TS_ECORRUPT)
		goto done;
	/* a failure to check wins over a problem found, which wins over none */
	signatures = ts_node__verify_signatures(node, cb, payload);
	if (rows >= 0 || (signatures < 0 && signatures != TS_ECORRUPT))
		rows = signatures;
done:
	strict(0);
	return rows;
}
