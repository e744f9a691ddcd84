/*
 * Git bundles, version 2: writing one with git_packbuilder behind a
 * header of our own, and reading one back through git_odb_write_pack
 * (sync/bundle.h describes the format).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "bundle.h"
#include "changes.h"
#include "error.h"
#include "store.h"

/* ------------------------------------------------------------ writing */

typedef struct {
	FILE *f;
	uint64_t bytes;
} pack_out;

static int pack_chunk(void *buf, size_t size, void *payload)
{
	pack_out *o = payload;
	if (fwrite(buf, 1, size, o->f) != size)
		return -1;
	o->bytes += size;
	return 0;
}

/* Makes the directory entry of `path` durable. */
static int sync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

static int file_write(const void *data, size_t len, void *payload)
{
	pack_out *o = payload;
	return pack_chunk((void *)data, len, o) < 0 ? ts_error_set(TS_ERROR, "cannot write the bundle: %s",
		strerror(errno)) : 0;
}

/* The commits of the refs less the prerequisites, as a changes stream. */
static int write_changes(size_t *objects, pack_out *out, git_repository *repo,
	const ts_bundle__ref *refs, size_t nrefs, const git_oid *prereqs, size_t nprereqs)
{
	ts_changes__stats st;
	git_oid *tips;
	size_t i;
	int error;

	if (!(tips = calloc(nrefs + 1, sizeof(*tips))))
		return ts_error_set(TS_ERROR, "out of memory");
	for (i = 0; i < nrefs; i++)
		git_oid_cpy(&tips[i], &refs[i].id);
	error = ts_changes__send(&st, repo, tips, nrefs, prereqs, nprereqs, TS_CHANGES_LEVEL, file_write, out, NULL, NULL);
	free(tips);
	*objects = st.commits + st.entries;
	return error;
}

int ts_bundle__write(size_t *objects, uint64_t *bytes, const char *path, git_repository *repo,
	const ts_bundle__ref *refs, size_t nrefs, const git_oid *prereqs, size_t nprereqs, int changes)
{
	size_t written = 0;
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	ts_buf tmp = TS_BUF_INIT;
	pack_out out = { NULL, 0 };
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;
	int error = 0, fd = -1;

	if (objects)
		*objects = 0;
	if (bytes)
		*bytes = 0;
	if (git_revwalk_new(&walk, repo) < 0 || git_packbuilder_new(&pb, repo) < 0) {
		error = ts_store__git_error(TS_ERROR, "preparing the bundle");
		goto done;
	}
	for (i = 0; i < nrefs; i++)
		if (git_revwalk_push(walk, &refs[i].id) < 0) {
			git_oid_tostr(hex, sizeof(hex), &refs[i].id);
			error = ts_error_set(TS_ENOTFOUND, "commit %s is not in this history", hex);
			goto done;
		}
	for (i = 0; i < nprereqs; i++)
		if (git_revwalk_hide(walk, &prereqs[i]) < 0) {
			git_oid_tostr(hex, sizeof(hex), &prereqs[i]);
			error = ts_error_set(TS_ENOTFOUND, "commit %s, which the bundle would build on, is not "
				"in this history", hex);
			goto done;
		}
	if (!changes && git_packbuilder_insert_walk(pb, walk) < 0) {
		error = ts_store__git_error(TS_ERROR, "choosing the objects of the bundle");
		goto done;
	}
	ts_buf__printf(&tmp, "%s.tmp-XXXXXX", path);
	if (ts_buf__oom(&tmp)) {
		error = TS_ERROR;
		goto done;
	}
	if ((fd = mkstemp(tmp.ptr)) < 0 || !(out.f = fdopen(fd, "w"))) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	fd = -1;
	fputs(changes ? TS_BUNDLE_CHANGES_SIGNATURE : TS_BUNDLE_SIGNATURE, out.f);
	for (i = 0; i < nprereqs; i++)
		fprintf(out.f, "-%s\n", git_oid_tostr(hex, sizeof(hex), &prereqs[i]));
	for (i = 0; i < nrefs; i++)
		fprintf(out.f, "%s %s\n", git_oid_tostr(hex, sizeof(hex), &refs[i].id), refs[i].name);
	fputc('\n', out.f);
	if (changes) {
		if ((error = write_changes(&written, &out, repo, refs, nrefs, prereqs, nprereqs)) < 0)
			goto done;
	} else if (git_packbuilder_foreach(pb, pack_chunk, &out) < 0) {
		error = ferror(out.f) ? ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno)) :
			ts_store__git_error(TS_ERROR, "writing the bundle's pack");
		goto done;
	}
	if (fflush(out.f) != 0 || fsync(fileno(out.f)) < 0) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	if (fclose(out.f) != 0) {
		out.f = NULL;
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	out.f = NULL;
	if (rename(tmp.ptr, path) < 0) {
		error = ts_error_set(TS_ERROR, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	ts_buf__clear(&tmp);
	(void)sync_parent(path);
	if (objects)
		*objects = changes ? written : git_packbuilder_object_count(pb);
	if (bytes) {
		struct stat st;
		*bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : out.bytes;
	}
done:
	if (out.f)
		fclose(out.f);
	if (fd >= 0)
		close(fd);
	if (tmp.size)
		unlink(tmp.ptr);
	ts_buf__dispose(&tmp);
	git_packbuilder_free(pb);
	git_revwalk_free(walk);
	return error;
}

/* ------------------------------------------------------------ reading */

void ts_bundle__header_dispose(ts_bundle__header *h)
{
	size_t i;

	for (i = 0; i < h->nrefs; i++)
		free(h->refs[i].name);
	free(h->refs);
	free(h->prerequisites);
	memset(h, 0, sizeof(*h));
}

/* 40 lowercase hex digits at `s` into *id: what we write and git writes. */
static int parse_id(git_oid *id, const char *s, size_t len)
{
	return len < GIT_OID_HEXSZ ? -1 : ts_changes__parse_id(id, s, GIT_OID_HEXSZ);
}

static int bad(const char *path, const char *what)
{
	return ts_error_set(TS_ECORRUPT, "%s is not a whole git bundle: %s", path, what);
}

static int parse_line(ts_bundle__header *h, const char *path, const char *line, size_t len)
{
	git_oid id;

	if (line[0] == '-') {
		git_oid *grown;
		/* "-<oid>" or "-<oid> <comment>" */
		if (parse_id(&id, line + 1, len - 1) < 0 || (len > 41 && line[41] != ' '))
			return bad(path, "a malformed prerequisite line");
		if (!(grown = realloc(h->prerequisites, (h->nprerequisites + 1) * sizeof(*grown))))
			return ts_error_set(TS_ERROR, "out of memory");
		h->prerequisites = grown;
		git_oid_cpy(&h->prerequisites[h->nprerequisites++], &id);
		return 0;
	}
	{
		ts_bundle__ref *grown;
		char *name;
		int valid = 0;
		if (parse_id(&id, line, len) < 0 || len < 42 || line[40] != ' ')
			return bad(path, "a malformed ref line");
		if (!(name = strndup(line + 41, len - 41)))
			return ts_error_set(TS_ERROR, "out of memory");
		if (strlen(name) != len - 41 || git_reference_name_is_valid(&valid, name) < 0 || !valid ||
		    strncmp(name, "refs/", 5)) {
			free(name);
			return bad(path, "a ref with an invalid name");
		}
		if (!(grown = realloc(h->refs, (h->nrefs + 1) * sizeof(*grown)))) {
			free(name);
			return ts_error_set(TS_ERROR, "out of memory");
		}
		h->refs = grown;
		h->refs[h->nrefs].name = name;
		git_oid_cpy(&h->refs[h->nrefs++].id, &id);
		return 0;
	}
}

int ts_bundle__read_header(ts_bundle__header *out, const char *path)
{
	FILE *f;
	struct stat st;
	ts_buf line = TS_BUF_INIT;
	uint64_t off = 0;
	char magic[4];
	int c, error = 0, first = 1, ended = 0;

	memset(out, 0, sizeof(*out));
	if (!(f = fopen(path, "rb")))
		return ts_error_set(TS_ENOTFOUND, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return ts_error_set(TS_EINVALID, "%s is not a file", path);
	}
	out->size = (uint64_t)st.st_size;
	while (!error && !ended) {
		ts_buf__clear(&line);
		while ((c = getc(f)) != EOF && c != '\n') {
			if (off + line.size >= TS_BUNDLE_HEADER_MAX) {
				error = bad(path, "no end to its header");
				break;
			}
			ts_buf__putc(&line, (char)c);
		}
		if (error)
			break;
		if (ts_buf__oom(&line)) {
			error = TS_ERROR;
			break;
		}
		if (c == EOF) {
			error = first ? bad(path, "it does not begin \"# v2 git bundle\"") : bad(path, "its header is cut short");
			break;
		}
		off += line.size + 1;
		if (memchr(line.ptr ? line.ptr : "", '\0', line.size)) {
			error = bad(path, "a NUL byte in its header");
			break;
		}
		if (first) {
			out->changes = !strncmp(ts_buf__cstr(&line), TS_BUNDLE_CHANGES_SIGNATURE, line.size) &&
				line.size + 1 == strlen(TS_BUNDLE_CHANGES_SIGNATURE);
			if (!out->changes && strcmp(ts_buf__cstr(&line), "# v2 git bundle"))
				error = bad(path, "it does not begin \"# v2 git bundle\"");
			first = 0;
			continue;
		}
		if (line.size == 0) {
			ended = 1;
			break;
		}
		error = parse_line(out, path, line.ptr, line.size);
	}
	if (!error && !out->nrefs)
		error = bad(path, "it carries no ref");
	if (!error && (fread(magic, 1, 4, f) != 4 || memcmp(magic, out->changes ? TS_CHANGES_MAGIC : "PACK", 4)))
		error = bad(path, out->changes ? "no changes after its header" : "no pack after its header");
	out->pack_offset = off;
	fclose(f);
	ts_buf__dispose(&line);
	if (error < 0)
		ts_bundle__header_dispose(out);
	return error;
}

typedef struct {
	ts_transfer_progress_cb progress;
	void *payload;
	ts_transfer_stats stats;
	struct timespec start, last;
} unpack_progress;

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int indexer_progress(const git_indexer_progress *st, void *payload)
{
	unpack_progress *p = payload;
	struct timespec now;

	if (!p->progress)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	p->stats.objects = st->received_objects;
	p->stats.total_objects = st->total_objects;
	p->stats.bytes = st->received_bytes;
	if (since(&p->last, &now) < 0.1)
		return 0;
	p->last = now;
	p->stats.seconds = since(&p->start, &now);
	p->progress(&p->stats, p->payload);
	return 0;
}

static int file_read(void *data, size_t size, size_t *got, void *payload)
{
	FILE *f = payload;
	*got = fread(data, 1, size, f);
	return ferror(f) ? ts_error_set(TS_ERROR, "cannot read the bundle: %s", strerror(errno)) : 0;
}

static void changes_progress(const ts_changes__stats *st, void *payload)
{
	unpack_progress *p = payload;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ts_changes__transfer_stats(&p->stats, st);
	if (!p->progress || since(&p->last, &now) < 0.1)
		return;
	p->last = now;
	p->stats.seconds = since(&p->start, &now);
	p->progress(&p->stats, p->payload);
}

/* The compact form: its commits rebuilt from their changes into `repo`. */
static int unpack_changes(size_t *objects, git_repository *repo, FILE *f, const char *path, unpack_progress *p)
{
	ts_store *into = NULL;
	ts_changes__stats st;
	int error;

	memset(&st, 0, sizeof(st));
	if ((error = ts_store__open(&into, git_repository_path(repo), 0)) < 0)
		return error;
	error = ts_changes__receive(&st, into, file_read, f, changes_progress, p);
	ts_store__free(into);
	if (error == TS_ENET)
		return ts_error_set(TS_ECORRUPT, "%s is cut short: %s", path, ts_error_last());
	if (error < 0)
		return ts_error_set(error, "%s is damaged: %s", path, ts_error_last());
	if (fgetc(f) != EOF)
		return ts_error_set(TS_ECORRUPT, "%s is damaged: data after its changes", path);
	ts_changes__transfer_stats(&p->stats, &st);
	*objects = p->stats.objects;
	return 0;
}

int ts_bundle__unpack(size_t *objects, git_repository *repo, const char *path, const ts_bundle__header *h,
	ts_transfer_progress_cb progress, void *payload)
{
	git_odb *odb = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress st;
	unpack_progress p;
	char buf[65536];
	size_t n;
	FILE *f = NULL;
	int error = 0, called = 0;

	*objects = 0;
	memset(&st, 0, sizeof(st));
	memset(&p, 0, sizeof(p));
	p.progress = progress;
	p.payload = payload;
	clock_gettime(CLOCK_MONOTONIC, &p.start);
	p.last = p.start;
	if (!(f = fopen(path, "rb")) || fseeko(f, (off_t)h->pack_offset, SEEK_SET) < 0) {
		error = ts_error_set(TS_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
		goto done;
	}
	if (h->changes) {
		called = progress != NULL;
		error = unpack_changes(objects, repo, f, path, &p);
		p.stats.bytes = h->size - h->pack_offset;
		goto done;
	}
	if (git_repository_odb(&odb, repo) < 0 || git_odb_write_pack(&wp, odb, indexer_progress, &p) < 0) {
		error = ts_store__git_error(TS_ERROR, "preparing to take the bundle's objects");
		goto done;
	}
	called = progress != NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (wp->append(wp, buf, n, &st) < 0) {
			error = ts_error_set(TS_ECORRUPT, "%s is damaged: %s", path,
				git_error_last() && git_error_last()->message ? git_error_last()->message : "a bad pack");
			goto done;
		}
	if (ferror(f)) {
		error = ts_error_set(TS_ERROR, "cannot read %s: %s", path, strerror(errno));
		goto done;
	}
	if (wp->commit(wp, &st) < 0) {
		error = ts_error_set(TS_ECORRUPT, "%s is damaged or cut short: %s", path,
			git_error_last() && git_error_last()->message ? git_error_last()->message : "a bad pack");
		goto done;
	}
	*objects = st.indexed_objects;
	p.stats.objects = st.indexed_objects;
	p.stats.bytes = h->size - h->pack_offset;
done:
	if (called) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		p.stats.seconds = since(&p.start, &now);
		p.stats.done = 1;
		progress(&p.stats, payload);
	}
	if (wp)
		wp->free(wp);
	git_odb_free(odb);
	if (f)
		fclose(f);
	return error;
}
