/*
 * tiersync/parties.h — the parties of a case (当事人): the persons and
 * business units a case is against, and the repeat offenders (屡查屡犯)
 * among them. See docs/PARTIES.md.
 * Part of the public API; include "tiersync.h" for all of it.
 */
#ifndef TIERSYNC_PARTIES_H
#define TIERSYNC_PARTIES_H

#include <stddef.h>
#include <stdint.h>
#include "tiersync/node.h"
#include "tiersync/cases.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parties (node/parties.c).
 *
 * A party is one row of `parties`: its kind ("person" 自然人 or "business"
 * 单位), name, identity number (a person's 身份证号, a business's
 * 统一社会信用代码), phone and address, on one case. Every write goes
 * through ts_node_write() with the author's real name (NULL: the node's
 * identity) and adds a 'note' event to the case's whole-process record in
 * the same write; the event names the party and its kind, never its
 * identity number or phone. Only a node whose jurisdiction covers the case
 * (a device acts for its street) may write its parties, and only while the
 * case is open (neither closed nor transferred). A refused write returns
 * TS_EDENIED (jurisdiction, a closed case), TS_EINVALID (bad input) or
 * TS_ENOTFOUND (no such case or party), with one clear message, and writes
 * nothing.
 *
 * Identity numbers are personal data, kept only where the work needs them:
 *   - a person's 身份证号 only once the case has had an on-site step (its
 *     stage is educate, warn or penalize: 教育核录 verifies and records who
 *     the party is); before that it is refused;
 *   - a business's 统一社会信用代码 (public registry data) at any time;
 *   - for either, it is required once the case is at the penalize step
 *     (依法处罚): a penalty decision names its party.
 * The lists give them masked unless the caller asks for them
 * (ts_party_id_mask).
 */

/* What a party is when it is added. `kind` and `name` are required; the
 * rest may be NULL (or "", the same). */
typedef struct {
	const char *kind;        /* "person" or "business" */
	const char *name;        /* the person's name or the business's name */
	const char *id_number;   /* 身份证号 (person) or 统一社会信用代码 (business) */
	const char *phone;       /* digits; spaces and '-' between them are dropped */
	const char *address;     /* home or business address */
} ts_party_options;

/*
 * Adds a party to the open case `case_id`, with a 'note' event on the case,
 * in one write. The same party twice on one case (by the repeat rule's key,
 * see ts_party_repeats) is refused. The new party's id goes to *id_out
 * (free() it).
 */
int ts_party_add(char **id_out, ts_node *node, const char *author, const char *case_id,
	const ts_party_options *party);

/*
 * Edits a party's contact fields: `sets` name "phone", "address" or
 * "id_number" (the identity number under the rules above; it may be given
 * later, but not removed once the case is at the penalize step). A value
 * NULL or "" clears the field. Any other column (kind, name, case_id, id)
 * is refused: a different party is a new party. Adds a 'note' event naming
 * the fields changed, not their values. Nothing changed writes nothing and
 * returns 0.
 */
int ts_party_edit(ts_node *node, const char *author, const char *party_id, const ts_field *sets,
	size_t nsets);

/*
 * Checks an identity number of a party of `kind` and writes its normal form
 * (upper case, 18 characters) to `out`: a person's 身份证号 is 17 digits, a
 * birth date among them (positions 7-14), and a check character (0-9 or X,
 * ISO 7064 MOD 11-2); a business's 统一社会信用代码 is 18 characters of
 * 0-9 and A-Y without I, O, S, V (GB 32100-2015), the last its check
 * character (MOD 31). TS_EINVALID, saying what is wrong, otherwise.
 */
int ts_party_id_number_parse(char out[19], const char *kind, const char *text);

/*
 * Masks an identity number for display: the first six characters (the
 * region of a 身份证号) and the last four stay, the rest become '*'
 * ("110105********002X"). A text of eight characters or fewer is all '*'.
 * `out` needs strlen(id_number) + 1 bytes; NULL gives "".
 */
void ts_party_id_mask(char *out, const char *id_number);

/* One party, as the lists report it. A field not recorded is NULL. */
typedef struct {
	const char *id;
	const char *case_id;
	const char *kind;        /* "person" or "business" */
	const char *name;
	const char *id_number;   /* masked (ts_party_id_mask) unless the filter reveals it */
	const char *phone;
	const char *address;
} ts_party_info;

#define TS_PARTY_FILTER_VERSION 1

typedef struct {
	unsigned int version;    /* TS_PARTY_FILTER_VERSION */
	int reveal_id_numbers;   /* 1: identity numbers whole; 0: masked */
} ts_party_filter;

#define TS_PARTY_FILTER_INIT { TS_PARTY_FILTER_VERSION, 0 }

/*
 * Calls `cb` for each party of case `case_id` (any case this node holds),
 * in the order they were recorded (by id). TS_ENOTFOUND when there is no
 * such case. The record's strings live until the callback returns; a
 * non-zero return stops the list and is returned as it is. A NULL filter
 * is its _INIT (identity numbers masked).
 */
int ts_party_list(ts_node *node, const char *case_id, const ts_party_filter *filter,
	int (*cb)(const ts_party_info *party, void *payload), void *payload);

/* One case of a repeat offender. */
typedef struct {
	const char *case_id;
	const char *reported_at;
	const char *party_id;    /* the party's row on that case */
	const char *category;    /* the case's 违法形态 */
} ts_party_repeat_case;

/* A repeat offender (屡查屡犯): one party found on two or more cases. */
typedef struct {
	const char *kind;        /* "person" or "business" */
	const char *matched_by;  /* "id_number", "name_phone" (a person) or "name_address" (a business) */
	const char *name;        /* as recorded on its latest case */
	const char *id_number;   /* masked unless revealed; NULL when matched otherwise */
	const char *phone;       /* as recorded on its latest case */
	const char *address;
	int64_t ncases;          /* the cases of the period it is a party of, >= 2 */
	const ts_party_repeat_case *cases;  /* those cases, by report time, then id */
} ts_party_repeat_info;

#define TS_PARTY_REPEAT_FILTER_VERSION 1

typedef struct {
	unsigned int version;    /* TS_PARTY_REPEAT_FILTER_VERSION */
	const char *from, *to;   /* the cases reported in from <= reported_at < to (schema time
	                            form, as ts_report_period() gives it); NULL: this year */
	int reveal_id_numbers;   /* 1: identity numbers whole; 0: masked */
	int64_t min_cases;       /* 0: 2 (a repeat); more to see only the worst */
} ts_party_repeat_filter;

#define TS_PARTY_REPEAT_FILTER_INIT { TS_PARTY_REPEAT_FILTER_VERSION, NULL, NULL, 0, 0 }

/*
 * Calls `cb` for each repeat offender among the parties of the cases of
 * this node's jurisdiction (a device: its street's) reported in the
 * filter's period: a party found on at least two of those cases. One party
 * is the same across cases by its key: a person by identity number when it
 * is recorded, else by name and phone; a business by its credit code when
 * recorded, else by name and address. A party with neither an identity
 * number nor the second field is not matched (a bare name is no identity).
 * In order of the number of cases (most first), then kind and key. The SQL is in
 * docs/PARTIES.md. The record and everything it points to live until the
 * callback returns; a non-zero return stops the list and is returned.
 */
int ts_party_repeats(ts_node *node, const ts_party_repeat_filter *filter,
	int (*cb)(const ts_party_repeat_info *offender, void *payload), void *payload);

#ifdef __cplusplus
}
#endif

#endif
