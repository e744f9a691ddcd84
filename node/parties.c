/*
 * Parties (当事人): the persons and business units a case is against, one
 * `parties` row each, and the repeat offenders (屡查屡犯) among them: a
 * party found on two or more cases of a period.
 *
 * A party is the same across cases by its key: its identity number when
 * recorded (a person's 身份证号, a business's 统一社会信用代码), else a
 * person's name and phone, a business's name and address. Identity numbers
 * are personal data: a person's is taken only once the case has had an
 * on-site step (教育核录 records who the party is) and is required once the
 * case is at the penalize step; the lists mask them unless asked.
 * docs/PARTIES.md has the rules and the repeat query.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifecycle.h"
#include "node.h"
#include "tiers.h"

/* --- identity numbers ---------------------------------------------------- */

/* 统一社会信用代码: its alphabet, a character's value being its index. */
static const char credit_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int resident_id_parse(char out[19], const char *t)
{
	static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int i, sum = 0, y, m, d;
	char check;
	struct tm tm;
	time_t when;

	for (i = 0; i < 17; i++) {
		if (t[i] < '0' || t[i] > '9')
			return ts_error_set(TS_EINVALID, "'%s' is not a 身份证号: its first 17 characters are "
				"digits", t);
		sum += (t[i] - '0') * weight[i];
	}
	y = (t[6] - '0') * 1000 + (t[7] - '0') * 100 + (t[8] - '0') * 10 + (t[9] - '0');
	m = (t[10] - '0') * 10 + (t[11] - '0');
	d = (t[12] - '0') * 10 + (t[13] - '0');
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	when = timegm(&tm);
	gmtime_r(&when, &tm);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || tm.tm_mday != d || tm.tm_mon != m - 1)
		return ts_error_set(TS_EINVALID, "'%s' is not a 身份证号: %.8s is not a birth date", t, t + 6);
	check = "10X98765432"[sum % 11];
	if (toupper((unsigned char)t[17]) != check)
		return ts_error_set(TS_EINVALID, "'%s' is not a 身份证号: its check character is wrong "
			"(a typing error?)", t);
	for (i = 0; i < 18; i++)
		out[i] = (char)toupper((unsigned char)t[i]);
	out[18] = '\0';
	return 0;
}

static int credit_code_parse(char out[19], const char *t)
{
	static const int weight[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 };
	int i, sum = 0;
	const char *at;

	for (i = 0; i < 18; i++) {
		char c = (char)toupper((unsigned char)t[i]);
		if (!c || !(at = strchr(credit_alphabet, c)))
			return ts_error_set(TS_EINVALID, "'%s' is not a 统一社会信用代码: its characters are digits "
				"and the letters A-Y but I, O, S, V", t);
		out[i] = c;
		if (i < 17)
			sum += (int)(at - credit_alphabet) * weight[i];
	}
	out[18] = '\0';
	if (out[17] != credit_alphabet[(31 - sum % 31) % 31])
		return ts_error_set(TS_EINVALID, "'%s' is not a 统一社会信用代码: its check character is wrong "
			"(a typing error?)", t);
	return 0;
}

int ts_party_id_number_parse(char out[19], const char *kind, const char *text)
{
	int person;

	out[0] = '\0';
	if (!kind || (strcmp(kind, "person") && strcmp(kind, "business")))
		return ts_error_set(TS_EINVALID, "a party is a person or a business, not '%s'", kind ? kind : "");
	person = !strcmp(kind, "person");
	if (!text || strlen(text) != 18)
		return ts_error_set(TS_EINVALID, "'%s' is not a %s: it has 18 characters", text ? text : "",
			person ? "身份证号" : "统一社会信用代码");
	return person ? resident_id_parse(out, text) : credit_code_parse(out, text);
}

void ts_party_id_mask(char *out, const char *id_number)
{
	size_t i, n = id_number ? strlen(id_number) : 0;

	for (i = 0; i < n; i++)
		out[i] = n > 8 && (i < 6 || i >= n - 4) ? id_number[i] : '*';
	out[n] = '\0';
}

/* The masked form of `id_number` in `buf` (of `size` bytes); a number too
 * long for it, which only a row from elsewhere can hold, is all '*'. */
static const char *masked_into(char *buf, size_t size, const char *id_number)
{
	size_t n = strlen(id_number);

	if (n < size)
		ts_party_id_mask(buf, id_number);
	else {
		memset(buf, '*', size - 1);
		buf[size - 1] = '\0';
	}
	return buf;
}

/* --- the case a party belongs to ---------------------------------------- */

typedef struct {
	char *jurisdiction, *status, *stage;
} case_row;

static void case_row_clear(case_row *c)
{
	free(c->jurisdiction);
	free(c->status);
	free(c->stage);
	memset(c, 0, sizeof(*c));
}

static char *dup_column(sqlite3_stmt *st, int c)
{
	const char *t = (const char *)sqlite3_column_text(st, c);
	return t ? strdup(t) : NULL;
}

/* Reads the case and refuses it unless this node may write its parties:
 * in its jurisdiction, and open. */
static int case_writable(case_row *out, ts_node *node, const char *case_id)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!case_id || !*case_id)
		return ts_error_set(TS_EINVALID, "name the case the party is on");
	if (sqlite3_prepare_v2(node->db, "SELECT jurisdiction, status, stage FROM cases WHERE id = ?1",
			-1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the case");
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		error = ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
		goto done;
	}
	out->jurisdiction = dup_column(st, 0);
	out->status = dup_column(st, 1);
	out->stage = dup_column(st, 2);
	if (!out->jurisdiction || !out->status) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	if ((error = ts_case__in_reach(node, case_id, out->jurisdiction)) < 0)
		goto done;
	if (!strcmp(out->status, "closed") || !strcmp(out->status, "transferred"))
		error = ts_error_set(TS_EDENIED, "case %s is %s; its parties can no longer change", case_id,
			out->status);
done:
	sqlite3_finalize(st);
	if (error < 0)
		case_row_clear(out);
	return error;
}

/* The identity-number rule of docs/PARTIES.md, for a party of `kind` on a
 * case at `stage` whose number is `id_number` (normalised, or NULL). */
static int id_number_allowed(const char *case_id, const case_row *c, const char *kind, const char *id_number)
{
	int person = !strcmp(kind, "person");

	if (id_number && person && !c->stage)
		return ts_error_set(TS_EINVALID, "case %s has had no on-site step yet: a person's 身份证号 is "
			"recorded from the educate step (教育核录) on", case_id);
	if (!id_number && c->stage && !strcmp(c->stage, "penalize"))
		return ts_error_set(TS_EINVALID, "case %s is at the penalize step: the party of a penalty "
			"needs its %s", case_id, person ? "身份证号" : "统一社会信用代码");
	return 0;
}

/* A copy of `text` without surrounding blanks; NULL for NULL or blanks only. */
static char *trimmed(const char *text)
{
	const char *end;

	if (!text)
		return NULL;
	while (*text == ' ' || *text == '\t')
		text++;
	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end > text ? strndup(text, (size_t)(end - text)) : NULL;
}

/* --- add ------------------------------------------------------------------ */

typedef struct {
	ts_node *node;
	const char *author;
	const char *case_id;
	const char *party_id;       /* edit */
	const char *kind;
	char *name, *phone, *address;
	char id_number[19];         /* "" when none */
	int set_phone, set_address, set_id;  /* edit: which fields change */
	char *new_id;
} party_op;

static void party_op_dispose(party_op *op)
{
	free(op->name);
	free(op->phone);
	free(op->address);
	free(op->new_id);
}

/* Reads the fields of `given` into `op`, normalised and checked. */
static int party_fields(party_op *op, const ts_party_options *given)
{
	if (!given->kind || (strcmp(given->kind, "person") && strcmp(given->kind, "business")))
		return ts_error_set(TS_EINVALID, "a party is a person or a business, not '%s'",
			given->kind ? given->kind : "");
	op->kind = !strcmp(given->kind, "person") ? "person" : "business";
	if (!(op->name = trimmed(given->name)))
		return ts_error_set(TS_EINVALID, "a party needs a name: the %s", !strcmp(op->kind, "person") ?
			"person's name" : "business's registered name");
	if (given->phone && *given->phone && !(op->phone = ts_node__phone_digits(given->phone)))
		return ts_error_set(TS_EINVALID, "'%s' is not a phone number (5 to %d digits; spaces and '-' "
			"may separate them)", given->phone, TS_NODE_PHONE_DIGITS);
	op->address = trimmed(given->address);
	if (given->id_number && *given->id_number)
		return ts_party_id_number_parse(op->id_number, op->kind, given->id_number);
	return 0;
}

static int do_add(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf detail = TS_BUF_INIT;
	char now[32];
	int error;

	ts_time_format(now, ts_node__now());
	if ((error = ts_node_mint_id(&op->new_id, op->node, "p")) < 0)
		return error;
	if (sqlite3_prepare_v2(db, "INSERT INTO parties (id, case_id, kind, name, id_number, phone, address) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "recording the party");
	sqlite3_bind_text(st, 1, op->new_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->id_number[0] ? op->id_number : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, op->address, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "recording the party");
	sqlite3_finalize(st);
	if (error < 0)
		return error;
	/* the whole-process record names the party, never its identity number or phone */
	ts_buf__printf(&detail, "party %s recorded: %s %s", op->new_id, op->kind, op->name);
	error = ts_case__event(op->node, op->case_id, "note", op->author, ts_buf__cstr(&detail), now);
	ts_buf__dispose(&detail);
	return error;
}

/* Refuses a party already on the case: the same identity number, or with
 * none, the same kind, name and phone (person) or address (business). */
static int check_not_twice(ts_node *node, const party_op *op)
{
	char *same = NULL;
	sqlite3_stmt *st = NULL;
	int error = 0;

	if (sqlite3_prepare_v2(node->db, "SELECT id FROM parties WHERE case_id = ?1 AND kind = ?2 AND "
			"(id_number = ?3 OR (id_number IS NULL AND ?3 IS NULL AND name = ?4 AND "
			" CASE kind WHEN 'person' THEN phone IS ?5 ELSE address IS ?6 END)) "
			"ORDER BY id LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the parties");
	sqlite3_bind_text(st, 1, op->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->id_number[0] ? op->id_number : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op->address, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		same = dup_column(st, 0);
		error = ts_error_set(TS_EINVALID, "%s is already a party to case %s (%s)", op->name, op->case_id,
			same ? same : "");
	}
	free(same);
	sqlite3_finalize(st);
	return error;
}

int ts_party_add(char **id_out, ts_node *node, const char *author, const char *case_id,
	const ts_party_options *party)
{
	party_op op;
	case_row c;
	ts_buf summary = TS_BUF_INIT;
	int error;

	*id_out = NULL;
	memset(&op, 0, sizeof(op));
	memset(&c, 0, sizeof(c));
	if (!party)
		return ts_error_set(TS_EINVALID, "a party needs its kind and name");
	if ((error = case_writable(&c, node, case_id)) < 0)
		goto done;
	if ((error = party_fields(&op, party)) < 0)
		goto done;
	if ((error = id_number_allowed(case_id, &c, op.kind, op.id_number[0] ? op.id_number : NULL)) < 0)
		goto done;
	op.node = node;
	op.author = author && *author ? author : node->identity;
	op.case_id = case_id;
	if ((error = check_not_twice(node, &op)) < 0)
		goto done;
	ts_buf__printf(&summary, "party of %s: %s %s", case_id, op.kind, op.name);
	if ((error = ts_node_write(node, op.author, ts_buf__cstr(&summary), do_add, &op)) < 0)
		goto done;
	*id_out = op.new_id;
	op.new_id = NULL;
done:
	party_op_dispose(&op);
	case_row_clear(&c);
	ts_buf__dispose(&summary);
	return error;
}

/* --- edit ----------------------------------------------------------------- */

static int do_edit(sqlite3 *db, void *payload)
{
	party_op *op = payload;
	sqlite3_stmt *st = NULL;
	ts_buf detail = TS_BUF_INIT;
	char now[32];
	int error = 0;

	ts_time_format(now, ts_node__now());
	if (sqlite3_prepare_v2(db, "UPDATE parties SET "
			"phone = CASE WHEN ?2 THEN ?3 ELSE phone END, "
			"address = CASE WHEN ?4 THEN ?5 ELSE address END, "
			"id_number = CASE WHEN ?6 THEN ?7 ELSE id_number END WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "editing the party");
	sqlite3_bind_text(st, 1, op->party_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, op->set_phone);
	sqlite3_bind_text(st, 3, op->phone, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, op->set_address);
	sqlite3_bind_text(st, 5, op->address, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, op->set_id);
	sqlite3_bind_text(st, 7, op->id_number[0] ? op->id_number : NULL, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = ts_tiers__db_error(db, "editing the party");
	sqlite3_finalize(st);
	if (error < 0)
		return error;
	/* which fields changed, not what they now hold */
	ts_buf__printf(&detail, "party %s (%s) edited:%s%s%s", op->party_id, op->name,
		op->set_phone ? " phone" : "", op->set_address ? " address" : "", op->set_id ? " id_number" : "");
	error = ts_case__event(op->node, op->case_id, "note", op->author, ts_buf__cstr(&detail), now);
	ts_buf__dispose(&detail);
	return error;
}

typedef struct {
	char *case_id, *kind, *name, *phone, *address, *id_number;
} party_row;

static void party_row_clear(party_row *p)
{
	free(p->case_id);
	free(p->kind);
	free(p->name);
	free(p->phone);
	free(p->address);
	free(p->id_number);
	memset(p, 0, sizeof(*p));
}

static int party_read(party_row *out, sqlite3 *db, const char *party_id)
{
	sqlite3_stmt *st = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!party_id || !*party_id)
		return ts_error_set(TS_EINVALID, "name the party to edit");
	if (sqlite3_prepare_v2(db, "SELECT case_id, kind, name, phone, address, id_number FROM parties "
			"WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(db, "reading the party");
	sqlite3_bind_text(st, 1, party_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		error = ts_error_set(TS_ENOTFOUND, "no party %s", party_id);
	else if (!(out->case_id = dup_column(st, 0)) || !(out->kind = dup_column(st, 1)) ||
		 !(out->name = dup_column(st, 2)))
		error = ts_error_set(TS_ERROR, "out of memory");
	else {
		out->phone = dup_column(st, 3);
		out->address = dup_column(st, 4);
		out->id_number = dup_column(st, 5);
	}
	sqlite3_finalize(st);
	if (error < 0)
		party_row_clear(out);
	return error;
}

static int same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int ts_party_edit(ts_node *node, const char *author, const char *party_id, const ts_field *sets,
	size_t nsets)
{
	party_op op;
	party_row p;
	case_row c;
	ts_buf summary = TS_BUF_INIT;
	size_t i;
	int error;

	memset(&op, 0, sizeof(op));
	memset(&c, 0, sizeof(c));
	if ((error = party_read(&p, node->db, party_id)) < 0)
		return error;
	if ((error = case_writable(&c, node, p.case_id)) < 0)
		goto done;
	if (nsets == 0) {
		error = ts_error_set(TS_EINVALID, "name what changes: phone, address or id_number");
		goto done;
	}
	for (i = 0; i < nsets; i++) {
		const char *col = sets[i].column ? sets[i].column : "", *v = sets[i].value;
		int *seen = !strcmp(col, "phone") ? &op.set_phone : !strcmp(col, "address") ? &op.set_address :
			!strcmp(col, "id_number") ? &op.set_id : NULL;
		if (!seen) {
			error = ts_error_set(TS_EINVALID, "parties.%s cannot be edited: a party's phone, address and "
				"id_number can (a different party is a new party)", col);
			goto done;
		}
		if (*seen) {
			error = ts_error_set(TS_EINVALID, "parties.%s is given twice", col);
			goto done;
		}
		*seen = 1;
		if (seen == &op.set_phone && v && *v && !(op.phone = ts_node__phone_digits(v))) {
			error = ts_error_set(TS_EINVALID, "'%s' is not a phone number (5 to %d digits; spaces and '-' "
				"may separate them)", v, TS_NODE_PHONE_DIGITS);
			goto done;
		}
		if (seen == &op.set_address)
			op.address = trimmed(v);
		if (seen == &op.set_id && v && *v && (error = ts_party_id_number_parse(op.id_number, p.kind, v)) < 0)
			goto done;
	}
	if (op.set_id && (error = id_number_allowed(p.case_id, &c, p.kind,
			op.id_number[0] ? op.id_number : NULL)) < 0)
		goto done;
	/* what does not change is not written: no event, no staged write */
	if (op.set_phone && same_text(op.phone, p.phone))
		op.set_phone = 0;
	if (op.set_address && same_text(op.address, p.address))
		op.set_address = 0;
	if (op.set_id && same_text(op.id_number[0] ? op.id_number : NULL, p.id_number))
		op.set_id = 0;
	if (!op.set_phone && !op.set_address && !op.set_id)
		goto done;
	op.node = node;
	op.author = author && *author ? author : node->identity;
	op.case_id = p.case_id;
	op.party_id = party_id;
	op.kind = p.kind;
	op.name = p.name;
	p.name = NULL;
	ts_buf__printf(&summary, "edit party %s of %s", party_id, p.case_id);
	error = ts_node_write(node, op.author, ts_buf__cstr(&summary), do_edit, &op);
done:
	party_op_dispose(&op);
	party_row_clear(&p);
	case_row_clear(&c);
	ts_buf__dispose(&summary);
	return error;
}

/* --- the lists ------------------------------------------------------------ */

int ts_party_list(ts_node *node, const char *case_id, const ts_party_filter *filter,
	int (*cb)(const ts_party_info *party, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	char *found = NULL, masked[64];
	int rc, error;

	if (filter && filter->version != TS_PARTY_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown party filter version %u (this library knows %d)",
			filter->version, TS_PARTY_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing parties needs a callback");
	if (!case_id || !*case_id)
		return ts_error_set(TS_EINVALID, "name the case whose parties to list");
	if ((error = ts_tiers__query_text(&found, node->db, "SELECT id FROM cases WHERE id = ?1", case_id, NULL)) < 0)
		return error;
	free(found);
	if (error == 0)
		return ts_error_set(TS_ENOTFOUND, "no case %s", case_id);
	error = 0;
	if (sqlite3_prepare_v2(node->db, "SELECT id, case_id, kind, name, id_number, phone, address FROM parties "
			"WHERE case_id = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the parties");
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts_party_info p;
		p.id = (const char *)sqlite3_column_text(st, 0);
		p.case_id = (const char *)sqlite3_column_text(st, 1);
		p.kind = (const char *)sqlite3_column_text(st, 2);
		p.name = (const char *)sqlite3_column_text(st, 3);
		p.id_number = (const char *)sqlite3_column_text(st, 4);
		p.phone = (const char *)sqlite3_column_text(st, 5);
		p.address = (const char *)sqlite3_column_text(st, 6);
		if (p.id_number && !(filter && filter->reveal_id_numbers))
			p.id_number = masked_into(masked, sizeof(masked), p.id_number);
		if ((error = cb(&p, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the parties");
done:
	sqlite3_finalize(st);
	return error;
}

/*
 * The repeat offenders: the query of docs/PARTIES.md. ?1 the jurisdiction,
 * ?2 and ?3 the period, ?4 the least number of cases. One row per party row
 * of an offender, the rows of one offender together (by its key, `who`),
 * each offender's oldest case first.
 */
#define REPEATS_SQL \
	"WITH p AS (" \
	"  SELECT p.id AS party_id, p.case_id, p.kind, p.name, p.id_number, p.phone, p.address," \
	"         c.reported_at, c.category," \
	"         CASE WHEN p.id_number IS NOT NULL THEN json_array(p.kind, 'id_number', p.id_number)" \
	"              WHEN p.kind = 'person' AND p.phone IS NOT NULL THEN json_array(p.kind, 'name_phone', p.name, p.phone)" \
	"              WHEN p.kind = 'business' AND p.address IS NOT NULL" \
	"                THEN json_array(p.kind, 'name_address', p.name, p.address) END AS who" \
	"  FROM parties p JOIN cases c ON c.id = p.case_id" \
	"  WHERE (c.jurisdiction = ?1 OR c.jurisdiction GLOB ?1 || '.*')" \
	"    AND c.reported_at >= ?2 AND c.reported_at < ?3)," \
	"g AS (SELECT who, count(DISTINCT case_id) AS ncases FROM p WHERE who IS NOT NULL" \
	"      GROUP BY who HAVING count(DISTINCT case_id) >= ?4) " \
	"SELECT g.ncases, g.who, p.kind, json_extract(g.who, '$[1]'), p.name, p.id_number, p.phone, p.address," \
	"       p.case_id, p.reported_at, p.party_id, p.category " \
	"FROM g JOIN p ON p.who = g.who " \
	"ORDER BY g.ncases DESC, g.who, p.reported_at, p.case_id, p.party_id"

/* One offender being gathered from its rows. */
typedef struct {
	char *who, *kind, *matched_by, *name, *id_number, *phone, *address;
	ts_party_repeat_case *cases;
	size_t ncases, cap;
	int64_t count;
} offender;

static void offender_clear(offender *o)
{
	size_t i;

	for (i = 0; i < o->ncases; i++) {
		free((char *)o->cases[i].case_id);
		free((char *)o->cases[i].reported_at);
		free((char *)o->cases[i].party_id);
		free((char *)o->cases[i].category);
	}
	free(o->cases);
	free(o->who);
	free(o->kind);
	free(o->matched_by);
	free(o->name);
	free(o->id_number);
	free(o->phone);
	free(o->address);
	memset(o, 0, sizeof(*o));
}

static void replace(char **field, sqlite3_stmt *st, int c)
{
	free(*field);
	*field = dup_column(st, c);
}

/* Adds the row's case to the offender (a case named twice, by two rows of
 * one party, once); the rows come oldest first, so the latest name and
 * contacts win. */
static int offender_add(offender *o, sqlite3_stmt *st)
{
	const char *case_id = (const char *)sqlite3_column_text(st, 8);
	ts_party_repeat_case *k;

	replace(&o->name, st, 4);
	replace(&o->id_number, st, 5);
	replace(&o->phone, st, 6);
	replace(&o->address, st, 7);
	if (o->ncases && !strcmp(o->cases[o->ncases - 1].case_id, case_id))
		return 0;
	if (o->ncases == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4;
		ts_party_repeat_case *more = realloc(o->cases, cap * sizeof(*more));
		if (!more)
			return ts_error_set(TS_ERROR, "out of memory");
		o->cases = more;
		o->cap = cap;
	}
	k = &o->cases[o->ncases++];
	k->case_id = dup_column(st, 8);
	k->reported_at = dup_column(st, 9);
	k->party_id = dup_column(st, 10);
	k->category = dup_column(st, 11);
	if (!k->case_id || !k->reported_at || !k->party_id || !k->category)
		return ts_error_set(TS_ERROR, "out of memory");
	return 0;
}

static int offender_emit(offender *o, int reveal, int (*cb)(const ts_party_repeat_info *, void *), void *payload)
{
	ts_party_repeat_info r;
	char masked[64];

	r.kind = o->kind;
	r.matched_by = o->matched_by;
	r.name = o->name;
	r.id_number = !strcmp(o->matched_by, "id_number") ? o->id_number : NULL;
	if (r.id_number && !reveal)
		r.id_number = masked_into(masked, sizeof(masked), r.id_number);
	r.phone = o->phone;
	r.address = o->address;
	r.ncases = (int64_t)o->ncases;
	r.cases = o->cases;
	return cb(&r, payload);
}

int ts_party_repeats(ts_node *node, const ts_party_repeat_filter *filter,
	int (*cb)(const ts_party_repeat_info *offender, void *payload), void *payload)
{
	sqlite3_stmt *st = NULL;
	offender o;
	char from[32], to[32];
	int rc, error = 0, reveal = filter && filter->reveal_id_numbers;

	memset(&o, 0, sizeof(o));
	if (filter && filter->version != TS_PARTY_REPEAT_FILTER_VERSION)
		return ts_error_set(TS_EINVALID, "unknown repeat-offender filter version %u (this library knows %d)",
			filter->version, TS_PARTY_REPEAT_FILTER_VERSION);
	if (!cb)
		return ts_error_set(TS_EINVALID, "listing repeat offenders needs a callback");
	if (filter && (!filter->from != !filter->to))
		return ts_error_set(TS_EINVALID, "a period has both ends");
	if (filter && filter->from) {
		snprintf(from, sizeof(from), "%s", filter->from);
		snprintf(to, sizeof(to), "%s", filter->to);
	} else
		ts_report_this_year(from, to);
	if (filter && filter->min_cases && filter->min_cases < 2)
		return ts_error_set(TS_EINVALID, "a repeat offender is on at least 2 cases, not %lld",
			(long long)filter->min_cases);
	if (sqlite3_prepare_v2(node->db, REPEATS_SQL, -1, &st, NULL) != SQLITE_OK)
		return ts_tiers__db_error(node->db, "reading the parties");
	sqlite3_bind_text(st, 1, node->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, filter && filter->min_cases ? filter->min_cases : 2);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *who = (const char *)sqlite3_column_text(st, 1);
		if (o.who && strcmp(o.who, who)) {
			error = offender_emit(&o, reveal, cb, payload);
			offender_clear(&o);
			if (error)
				goto done;
		}
		if (!o.who && (!(o.who = dup_column(st, 1)) || !(o.kind = dup_column(st, 2)) ||
				!(o.matched_by = dup_column(st, 3)))) {
			error = ts_error_set(TS_ERROR, "out of memory");
			goto done;
		}
		if ((error = offender_add(&o, st)) < 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = ts_tiers__db_error(node->db, "reading the parties");
	else if (o.who)
		error = offender_emit(&o, reveal, cb, payload);
done:
	offender_clear(&o);
	sqlite3_finalize(st);
	return error;
}
