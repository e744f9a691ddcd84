/*
 * Fuzz target for the check of an incoming tree (sync/admit.c through
 * ts_node_admit): a district with its street bj.dc.a enrolled is offered a
 * commit of that street, signed with the street's own key, whose tree is
 * the district's with the entries the input describes put in or taken out.
 * The input is a list of records:
 *
 *     kind (1 byte) | path length (1 byte) | path | content length (2 bytes, big-endian) | content
 *
 * kind % 6: 0 a regular file, 1 an executable file, 2 a symlink, 3 a
 * gitlink (its id the content's hash), 4 an empty tree, 5 a removal. A
 * path that git cannot hold ends the input. Whatever the records, the check
 * must neither crash, leak nor take the offer with an entry of a mode other
 * than a regular file or a tree.
 */
#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "sshsig.h"
#include "tiersync.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ts_node *district;
static ts_sshsig_key *street_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ts_init_options dc = { TS_INIT_OPTIONS_VERSION, TS_TIER_DISTRICT, "bj.dc", NULL, "张敏", NULL };
	ts_init_options st = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, "bj.dc.a", NULL, "王伟", NULL };
	ts_enroll_options eo = { TS_ENROLL_OPTIONS_VERSION, NULL, "/bin/false", "张敏", 0 };
	static char keys[512];
	char dir[] = "/tmp/tiersync-fuzz-XXXXXX", path[512], line[512], id[41];
	ts_node *street = NULL;
	FILE *f;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(keys, sizeof(keys), "%s/authorized_keys", dir);
	eo.authorized_keys = keys;
	snprintf(path, sizeof(path), "%s/dc", dir);
	if (ts_node_init(&district, path, &dc) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/a", dir);
	if (ts_node_init(&street, path, &st) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/a/id_ed25519.pub", dir);
	if (!(f = fopen(path, "r")) || !fgets(line, sizeof(line), f))
		abort();
	fclose(f);
	if (ts_node_enroll(id, district, "bj.dc.a", line, &eo) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/a/id_ed25519", dir);
	if (ts_sshsig__key_load(&street_key, path) < 0)
		abort();
	ts_node_free(street);
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void check_offer(const uint8_t *data, size_t size)
{
	static const git_filemode_t modes[] = { GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE,
		GIT_FILEMODE_LINK, GIT_FILEMODE_COMMIT, GIT_FILEMODE_TREE };
	git_repository *repo = ts_store__repo(district->store);
	git_tree_update updates[32];
	char paths[32][256];
	git_odb *odb = NULL;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_signature *who = NULL;
	git_buf raw = GIT_BUF_INIT;
	ts_buf signed_raw = TS_BUF_INIT;
	git_oid head, tree_id, commit_id;
	char hex[41];
	git_oid empty_tree;
	size_t n = 0, at = 0;

	/* the empty tree, so that an empty-tree entry names an object */
	if (git_repository_odb(&odb, repo) < 0 || git_odb_write(&empty_tree, odb, "", 0, GIT_OBJECT_TREE) < 0)
		abort();
	while (n < 32 && at + 2 <= size) {
		int kind = data[at] % 6;
		size_t plen = data[at + 1], clen;
		const uint8_t *content;

		at += 2;
		if (at + plen + 2 > size || plen == 0 || memchr(data + at, '\0', plen))
			break;
		memcpy(paths[n], data + at, plen);
		paths[n][plen] = '\0';
		at += plen;
		clen = be16(data + at);
		at += 2;
		if (at + clen > size)
			clen = size - at;
		content = data + at;
		at += clen;
		memset(&updates[n], 0, sizeof(updates[n]));
		updates[n].path = paths[n];
		if (kind == 5) {
			updates[n].action = GIT_TREE_UPDATE_REMOVE;
		} else {
			updates[n].action = GIT_TREE_UPDATE_UPSERT;
			updates[n].filemode = modes[kind];
			if (kind == 4) {
				git_oid_cpy(&updates[n].id, &empty_tree);
			} else if (kind == 3) {
				if (git_odb_hash(&updates[n].id, content, clen, GIT_OBJECT_COMMIT) < 0)
					goto done;
			} else if (git_blob_create_from_buffer(&updates[n].id, repo, content, clen) < 0)
				goto done;
		}
		n++;
	}
	if (ts_node_head(hex, district) < 0 || git_oid_fromstr(&head, hex) < 0 ||
	    git_commit_lookup(&parent, repo, &head) < 0 || git_commit_tree(&base, parent) < 0)
		abort();
	if (git_tree_create_updated(&tree_id, repo, base, n, updates) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0)
		goto done;   /* a tree git cannot make */
	if (git_signature_new(&who, "bj.dc.a", "bj.dc.a", 1796482352, 480) < 0 ||
	    git_commit_create_buffer(&raw, repo, who, who, "UTF-8", "offer\n", tree, 1,
		(const git_commit **)&parent) < 0 ||
	    ts_sshsig__commit_sign(&signed_raw, street_key, raw.ptr, raw.size) < 0 ||
	    git_odb_write(&commit_id, odb, signed_raw.ptr, signed_raw.size, GIT_OBJECT_COMMIT) < 0)
		abort();
	git_oid_tostr(hex, sizeof(hex), &commit_id);
	if (ts_node_admit(district, "bj.dc.a", hex, NULL) == 0) {
		/* taken: then no entry it changed may be anything but a regular file */
		git_diff *diff = NULL;
		size_t i;
		if (git_diff_tree_to_tree(&diff, repo, base, tree, NULL) < 0)
			abort();
		for (i = 0; i < git_diff_num_deltas(diff); i++) {
			const git_diff_delta *d = git_diff_get_delta(diff, i);
			if (d->status != GIT_DELTA_DELETED && d->new_file.mode != GIT_FILEMODE_BLOB)
				abort();
		}
		git_diff_free(diff);
	}
done:
	ts_store__discard(district->store);   /* nothing of the input stays */
	ts_buf__dispose(&signed_raw);
	git_buf_dispose(&raw);
	git_signature_free(who);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	git_odb_free(odb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_offer(data, size);
	return 0;
}
