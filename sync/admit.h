/*
 * Admission: the checks an offered commit passes before any of it is
 * written to the receiving node's database or any ref moves (DESIGN.md,
 * "Every path in is checked"). What the offer changes is the difference
 * between the merge base and the offered tree, less what the receiving
 * node already holds (rows it carries along from above are never counted
 * against it). Every changed tree entry must be
 *
 *   - a regular file (mode 100644); trees only where trees belong;
 *   - a row of a known synced table, canonically encoded (it decodes and
 *     encodes back to the same bytes, with the table's columns in order),
 *     stored at the path of its own key, within the row size limit;
 *   - or an engine entry: the schema version (equal to the receiver's),
 *     or a file under _tiersync/files/ that is new, within the file size
 *     limit and whose content has the SHA-256 its name says: files are
 *     immutable, never changed or removed;
 *
 * and, for an offer from below, every row change must be allowed by the
 * ownership rules (ownership.h) for the offering node. Every commit the
 * receiver lacks goes through the caller's commit check (signatures).
 * The first failure refuses the whole offer, with one line naming the
 * offered commit, the table and key (or path), and the rule.
 *
 * Limits come from the synced table sync_limits (name, value): row_bytes
 * and file_bytes, with the defaults below when absent.
 */
#ifndef TS_SYNC_ADMIT_H
#define TS_SYNC_ADMIT_H

#include <git2.h>
#include <sqlite3.h>

#define TS_ADMIT_ROW_BYTES  (1024 * 1024)
#define TS_ADMIT_FILE_BYTES (1024 * 1024 * 1024)

typedef struct {
	sqlite3 *db;            /* the receiving node's: tables, rules, limits */
	const char *writer;     /* node id of the offering node; NULL: an offer from above,
	                         * whose rows the ownership rules do not limit */
	/* called for each offered commit the receiver lacks, oldest first;
	 * a negative return refuses the offer (may be NULL) */
	int (*commit_check)(git_repository *repo, const git_oid *commit, void *payload);
	void *payload;
	/* the tree the offer is merged against (ts_integrate__base), so that
	 * what is checked is what the merge takes from the offer; NULL: the
	 * best common ancestor's */
	const git_oid *base_tree;
	int no_base;            /* with base_tree NULL: there is no common ancestor */
	int commits_checked;    /* the offered commits passed commit_check and the
	                         * shape check already (the same offer, admitted
	                         * as it was fetched): only the tree is checked */
} ts_admit_options;

/*
 * Checks commit `theirs`, read from `repo` (which also holds `ours`, the
 * receiver's head, or NULL for none). 0 when admissible; TS_EDENIED or
 * TS_ECORRUPT with the reason otherwise.
 */
int ts_admit(git_repository *repo, const git_oid *ours, const git_oid *theirs,
	const ts_admit_options *opts);

#endif
