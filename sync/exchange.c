/*
 * The exchange around a changes stream: see exchange.h.
 */
#include "exchange.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"

#define LINE_BYTES 512

int ts_exchange__fd_read(void *data, size_t size, size_t *got, void *payload)
{
	int fd = *(const int *)payload;
	ssize_t n;

	do
		n = read(fd, data, size);
	while (n < 0 && errno == EINTR);
	*got = n > 0 ? (size_t)n : 0;
	return n < 0 ? ts_error_set(TS_ENET, "reading from the other side: %s", strerror(errno)) : 0;
}

int ts_exchange__fd_write(const void *data, size_t len, void *payload)
{
	int fd = *(const int *)payload;
	size_t done = 0;

	while (done < len) {
		/* a socket whose other end is gone: EPIPE, not SIGPIPE */
		ssize_t n = send(fd, (const char *)data + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, (const char *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ts_error_set(TS_ENET, "writing to the other side: %s", strerror(errno));
		done += (size_t)n;
	}
	return 0;
}

int ts_exchange__read_line(char *line, size_t size, const ts_exchange__io *io)
{
	size_t n = 0, got;
	int error;

	for (;;) {
		char c;
		if ((error = io->read(&c, 1, &got, io->payload)) < 0)
			return error;
		if (got == 0)
			return ts_error_set(TS_ENET, "the other side hung up");
		if (c == '\n')
			break;
		if (c == '\0' || n + 1 >= size)
			return ts_error_set(TS_ECORRUPT, "the other side sent a malformed line");
		line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

static int write_line(const ts_exchange__io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int write_line(const ts_exchange__io *io, const char *fmt, ...)
{
	char line[LINE_BYTES + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	return io->write(line, (size_t)n, io->payload);
}

/* The last error as one line for "refused <why>". */
static int write_refusal(const ts_exchange__io *io, int code)
{
	char why[LINE_BYTES], *p;

	snprintf(why, sizeof(why), "%s%s%s", io->name ? io->name : "", io->name ? ": " : "",
		ts_error_last() ? ts_error_last() : "refused");
	for (p = why; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	io->write("refused ", 8, io->payload);
	write_line(io, "%s", why);
	return ts_error_set(code, "%s", why);
}

/* "<40 hex>" at s, followed by `end`. */
static int parse_id(git_oid *out, const char *s, char end)
{
	return strnlen(s, GIT_OID_HEXSZ) == GIT_OID_HEXSZ && s[GIT_OID_HEXSZ] == end ?
		ts_changes__parse_id(out, s, GIT_OID_HEXSZ) : -1;
}

static int advertise(const ts_exchange__ref *refs, size_t n, const ts_exchange__io *io)
{
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;
	int error;

	if ((error = write_line(io, TS_EXCHANGE_GREETING)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		git_oid_tostr(hex, sizeof(hex), &refs[i].id);
		if ((error = write_line(io, "ref %s %s", hex, refs[i].name)) < 0)
			return error;
	}
	return write_line(io, "%s", "");
}

/* The server's refs; 1 when it hangs up or says anything else before its
 * greeting: it speaks no exchange (and has said why on its own, on SSH's
 * stderr). */
static int read_advert(ts_exchange__ref *refs, size_t *n, const ts_exchange__io *io)
{
	char line[LINE_BYTES];
	int error;

	*n = 0;
	if ((error = ts_exchange__read_line(line, sizeof(line), io)) < 0 || strcmp(line, TS_EXCHANGE_GREETING)) {
		ts_error_set(TS_ENET, "the other side does not speak the exchange (version 1)");
		return 1;
	}
	for (;;) {
		if ((error = ts_exchange__read_line(line, sizeof(line), io)) < 0)
			return error;
		if (!line[0])
			return 0;
		if (*n == TS_EXCHANGE_MAX_REFS || strncmp(line, "ref ", 4) || parse_id(&refs[*n].id, line + 4, ' ') < 0 ||
		    strlen(line + 45) >= sizeof(refs[*n].name) || !line[45])
			return ts_error_set(TS_ECORRUPT, "the other side shows a malformed ref: %.80s", line);
		strcpy(refs[*n].name, line + 45);
		(*n)++;
	}
}

int ts_exchange__refuse(const ts_exchange__io *io, int code)
{
	char why[LINE_BYTES];

	snprintf(why, sizeof(why), "%s", ts_error_last() ? ts_error_last() : "refused");
	if (advertise(NULL, 0, io) < 0)
		return ts_error_set(code, "%s", why);
	ts_error_set(code, "%s", why);
	return write_refusal(io, code);
}

int ts_exchange__serve_fetch(ts_changes__stats *stats, git_repository *repo,
	const ts_exchange__ref *refs, size_t nrefs, const ts_exchange__io *io)
{
	git_oid want, haves[TS_EXCHANGE_MAX_HAVES];
	char line[LINE_BYTES];
	size_t nhaves = 0, i;
	int error, wanted = 0;

	memset(stats, 0, sizeof(*stats));
	if ((error = advertise(refs, nrefs, io)) < 0)
		return error;
	for (;;) {
		if ((error = ts_exchange__read_line(line, sizeof(line), io)) < 0)
			return error;
		if (!line[0])
			break;
		if (!strncmp(line, "want ", 5) && !wanted && parse_id(&want, line + 5, '\0') == 0)
			wanted = 1;
		else if (!strncmp(line, "have ", 5) && nhaves < TS_EXCHANGE_MAX_HAVES &&
			 parse_id(&haves[nhaves], line + 5, '\0') == 0)
			nhaves++;
		else {
			ts_error_set(TS_EDENIED, "a malformed fetch request: %.80s", line);
			return write_refusal(io, TS_EDENIED);
		}
	}
	for (i = 0; wanted && i < nrefs && !git_oid_equal(&refs[i].id, &want); i++)
		;
	if (!wanted || i == nrefs) {
		ts_error_set(TS_EDENIED, "a fetch may ask only for a ref it was shown");
		return write_refusal(io, TS_EDENIED);
	}
	if ((error = write_line(io, "ok")) < 0)
		return error;
	return ts_changes__send(stats, repo, &want, 1, haves, nhaves, io->level, io->write, io->payload, NULL, NULL);
}

int ts_exchange__serve_push(ts_changes__stats *stats, ts_store *into,
	const ts_exchange__ref *refs, size_t nrefs, const ts_exchange__push_rules *rules,
	const ts_exchange__io *io)
{
	ts_exchange__ref updates[TS_EXCHANGE_MAX_REFS];
	char line[LINE_BYTES];
	size_t n = 0, i;
	int error;

	memset(stats, 0, sizeof(*stats));
	if ((error = advertise(refs, nrefs, io)) < 0)
		return error;
	for (;;) {
		if ((error = ts_exchange__read_line(line, sizeof(line), io)) < 0)
			return error;
		if (!line[0])
			break;
		if (n == TS_EXCHANGE_MAX_REFS || strncmp(line, "update ", 7) ||
		    parse_id(&updates[n].id, line + 7, ' ') < 0 || !line[48] ||
		    strlen(line + 48) >= sizeof(updates[n].name)) {
			ts_error_set(TS_EDENIED, "a malformed push request: %.80s", line);
			return write_refusal(io, TS_EDENIED);
		}
		strcpy(updates[n].name, line + 48);
		if ((error = rules->check(updates[n].name, rules->payload)) < 0)
			return write_refusal(io, error);
		n++;
	}
	if (n == 0) {
		ts_error_set(TS_EDENIED, "a push that moves no ref");
		return write_refusal(io, TS_EDENIED);
	}
	if ((error = ts_changes__receive(stats, into, io->read, io->payload, NULL, NULL)) < 0)
		return error == TS_ENET ? error : write_refusal(io, error);
	for (i = 0; i < n; i++) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, ts_store__repo(into), &updates[i].id) < 0) {
			char hex[GIT_OID_HEXSZ + 1];
			git_error_clear();
			ts_error_set(TS_ECORRUPT, "%s would point at %s, which the push did not bring",
				updates[i].name, git_oid_tostr(hex, sizeof(hex), &updates[i].id));
			return write_refusal(io, TS_ECORRUPT);
		}
		git_commit_free(c);
	}
	if ((error = rules->accept(updates, n, rules->payload)) < 0)
		return write_refusal(io, error);
	return write_line(io, "ok");
}

/* The server's answer: "ok", or its refusal as TS_EDENIED. */
static int read_answer(const ts_exchange__io *io, const char *doing)
{
	char line[LINE_BYTES];
	int error;

	if ((error = ts_exchange__read_line(line, sizeof(line), io)) < 0)
		return error;
	if (!strcmp(line, "ok"))
		return 0;
	if (!strncmp(line, "refused ", 8))
		return ts_error_set(TS_EDENIED, "%s", line + 8);
	return ts_error_set(TS_ECORRUPT, "the other side answered the %s with '%.80s'", doing, line);
}

int ts_exchange__fetch(git_oid *id, ts_changes__stats *stats, ts_store *into, const char *ref,
	const git_oid *haves, size_t nhaves, const ts_exchange__io *io,
	ts_changes__progress_fn progress, void *payload)
{
	ts_exchange__ref refs[TS_EXCHANGE_MAX_REFS];
	char hex[GIT_OID_HEXSZ + 1];
	size_t n, i;
	int error;

	memset(stats, 0, sizeof(*stats));
	if ((error = read_advert(refs, &n, io)) != 0)
		return error;
	for (i = 0; i < n && strcmp(refs[i].name, ref); i++)
		;
	if (i == n)
		return ts_error_set(TS_ENOTFOUND, "the other side has no %s", ref);
	git_oid_cpy(id, &refs[i].id);
	if ((error = write_line(io, "want %s", git_oid_tostr(hex, sizeof(hex), id))) < 0)
		return error;
	for (i = 0; i < nhaves && i < TS_EXCHANGE_MAX_HAVES; i++)
		if ((error = write_line(io, "have %s", git_oid_tostr(hex, sizeof(hex), &haves[i]))) < 0)
			return error;
	if ((error = write_line(io, "%s", "")) < 0 || (error = read_answer(io, "fetch")) < 0)
		return error;
	return ts_changes__receive(stats, into, io->read, io->payload, progress, payload);
}

int ts_exchange__push(ts_changes__stats *stats, int *updated, git_repository *repo, const git_oid *tip,
	const char *ref, const git_oid *haves, size_t nhaves, const ts_exchange__io *io,
	ts_changes__progress_fn progress, void *payload)
{
	ts_exchange__ref refs[TS_EXCHANGE_MAX_REFS];
	git_oid held[TS_EXCHANGE_MAX_REFS + TS_EXCHANGE_MAX_HAVES];
	char hex[GIT_OID_HEXSZ + 1];
	size_t n, nheld = 0, i;
	int error, sent;

	memset(stats, 0, sizeof(*stats));
	*updated = 1;
	if ((error = read_advert(refs, &n, io)) != 0)
		return error;
	for (i = 0; i < n; i++) {
		if (!strcmp(refs[i].name, ref) && git_oid_equal(&refs[i].id, tip))
			*updated = 0;
		git_oid_cpy(&held[nheld++], &refs[i].id);
	}
	for (i = 0; i < nhaves && i < TS_EXCHANGE_MAX_HAVES; i++)
		git_oid_cpy(&held[nheld++], &haves[i]);
	if ((error = write_line(io, "update %s %s", git_oid_tostr(hex, sizeof(hex), tip), ref)) < 0 ||
	    (error = write_line(io, "%s", "")) < 0)
		return error;
	/* a server that refuses at once stops reading (the write fails): its
	 * answer says why; what cannot be sent is this side's own refusal */
	sent = ts_changes__send(stats, repo, tip, 1, held, nheld, io->level, io->write, io->payload, progress, payload);
	if (sent < 0 && sent != TS_ENET)
		return sent;
	if ((error = read_answer(io, "push")) < 0 || sent == 0)
		return error < 0 ? error : 0;
	return sent;
}
