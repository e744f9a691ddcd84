/*
 * Unit tests of the parties of a case (node/parties.c): identity numbers,
 * adding and editing a party with its case event, each refusal (which must
 * leave the database and the staged writes as they were), the list, and
 * the repeat offenders of a period, judged with SQL written here.
 *
 * Cases reach the node here as if by sync (ts_test_arrive), so that these
 * tests set a case's stage and status without the lifecycle's rules.
 */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "nodes.h"
#include "tiersync.h"

/* Valid numbers: 身份证号 with their check characters, and real-shaped
 * 统一社会信用代码 whose check characters hold. */
#define ID_ZHANG "11010519491231002X"
#define ID_LI    "110101198001011232"
#define ID_WANG  "110102198512124569"
#define CODE_A   "91350100M000100Y43"
#define CODE_B   "91110000802100433B"

/* Everything a party operation may write: a refusal leaves it unchanged. */
static char *snapshot(ts_node *node)
{
	return strdup(ts_test_query_text(node,
		"SELECT (SELECT count(*) FROM ts_staged) || '|' || (SELECT count(*) FROM case_events) || '|' ||"
		" ifnull((SELECT group_concat(x, ';') FROM (SELECT id || ',' || kind || ',' || name || ','"
		"   || ifnull(id_number, '-') || ',' || ifnull(phone, '-') || ',' || ifnull(address, '-') AS x"
		"   FROM parties ORDER BY id)), '')"));
}

#define test_unchanged(node, before) ts_test_unchanged(snapshot, node, before)

/* A case of `jurisdiction` reported at `reported_at` (NULL: a fixed time in
 * 2015), at `stage` (NULL: none yet) and `status`, as it arrives by sync.
 * The caller frees the id. */
static char *new_case(ts_node *node, const char *jurisdiction, const char *reported_at, const char *stage,
	const char *status)
{
	static int n;
	char id[128], sql[1024];

	snprintf(id, sizeof(id), "%s-c20150301-%04d", jurisdiction, ++n);
	snprintf(sql, sizeof(sql), "INSERT INTO cases (id, source, category, address, jurisdiction, reported_at,"
		" deadline, created_by_node, status, stage, closed_at, transfer_to, transferred_at) VALUES ('%s', 'patrol',"
		" 'outside_store', '景山前街 4号', '%s', '%s', '2015-12-31T00:00:00+08:00', '%s', '%s', %s%s%s, %s, %s, %s)",
		id, jurisdiction, reported_at ? reported_at : "2015-03-01T10:00:00+08:00", jurisdiction,
		status ? status : "handling", stage ? "'" : "", stage ? stage : "NULL", stage ? "'" : "",
		status && !strcmp(status, "closed") ? "'2015-03-09T10:00:00+08:00'" : "NULL",
		status && !strcmp(status, "transferred") ? "'公安'" : "NULL",
		status && !strcmp(status, "transferred") ? "'2015-03-09T10:00:00+08:00'" : "NULL");
	return ts_test_arrive(node, sql) < 0 ? NULL : strdup(id);
}

static ts_party_options person(const char *name, const char *id_number, const char *phone)
{
	ts_party_options o = { "person", name, id_number, phone, NULL };
	return o;
}

static ts_party_options business(const char *name, const char *code, const char *address)
{
	ts_party_options o = { "business", name, code, NULL, address };
	return o;
}

/*
 * Identity numbers.
 */

void test_parties__resident_id(void)
{
	char out[19];

	test_ok(ts_party_id_number_parse(out, "person", ID_ZHANG));
	test_equal_s(out, ID_ZHANG);
	/* a lower-case x is the same number */
	test_ok(ts_party_id_number_parse(out, "person", "11010519491231002x"));
	test_equal_s(out, ID_ZHANG);
	test_ok(ts_party_id_number_parse(out, "person", ID_LI));
	/* one digit changed: the check character catches it */
	test_equal_i(ts_party_id_number_parse(out, "person", "11010519491231003X"), TS_EINVALID);
	test_error_says("check character");
	test_equal_i(ts_party_id_number_parse(out, "person", "110101198001011231"), TS_EINVALID);
	/* no 31st of April */
	test_equal_i(ts_party_id_number_parse(out, "person", "110101198004310000"), TS_EINVALID);
	test_error_says("birth date");
	test_equal_i(ts_party_id_number_parse(out, "person", "1101051949123100"), TS_EINVALID);
	test_error_says("18 characters");
	test_equal_i(ts_party_id_number_parse(out, "person", "11010519491231002XX"), TS_EINVALID);
	test_equal_i(ts_party_id_number_parse(out, "person", "1101A519491231002X"), TS_EINVALID);
	test_equal_i(ts_party_id_number_parse(out, "person", ""), TS_EINVALID);
	test_equal_i(ts_party_id_number_parse(out, "person", NULL), TS_EINVALID);
	/* a credit code is not a person's number */
	test_equal_i(ts_party_id_number_parse(out, "person", CODE_A), TS_EINVALID);
	test_equal_i(ts_party_id_number_parse(out, "robot", ID_ZHANG), TS_EINVALID);
}

void test_parties__credit_code(void)
{
	char out[19];

	test_ok(ts_party_id_number_parse(out, "business", CODE_A));
	test_equal_s(out, CODE_A);
	test_ok(ts_party_id_number_parse(out, "business", "91350100m000100y43"));
	test_equal_s(out, CODE_A);
	test_ok(ts_party_id_number_parse(out, "business", CODE_B));
	test_equal_i(ts_party_id_number_parse(out, "business", "91350100M000100Y44"), TS_EINVALID);
	test_error_says("check character");
	/* I, O, S, V and Z are not in its alphabet */
	test_equal_i(ts_party_id_number_parse(out, "business", "91350100M0001O0Y43"), TS_EINVALID);
	test_error_says("letters");
	test_equal_i(ts_party_id_number_parse(out, "business", "9135010"), TS_EINVALID);
	/* a 身份证号 whose check character happens to be a digit is refused by its own check */
	test_equal_i(ts_party_id_number_parse(out, "business", ID_LI), TS_EINVALID);
}

void test_parties__mask(void)
{
	char out[32];

	ts_party_id_mask(out, ID_ZHANG);
	test_equal_s(out, "110105********002X");
	ts_party_id_mask(out, CODE_A);
	test_equal_s(out, "913501********0Y43");
	ts_party_id_mask(out, "12345678");
	test_equal_s(out, "********");
	ts_party_id_mask(out, NULL);
	test_equal_s(out, "");
}

/*
 * Adding.
 */

void test_parties__add(void)
{
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_party_options p = person("  张三 ", NULL, "138-0013 8000");
	ts_party_options b = business("景山小卖部", "91350100m000100y43", " 景山前街1号 ");
	char *c, *id = NULL, *bid = NULL, q[512];
	long long staged;

	test_assert(st);
	test_assert((c = new_case(st, "bj.dc.jingshan", NULL, NULL, "dispatched")));
	staged = ts_test_query_int(st, "SELECT count(*) FROM ts_staged");
	test_ok(ts_party_add(&id, st, "王伟", c, &p));
	test_assert(id && strstr(id, "bj.dc.jingshan-p") == id);
	snprintf(q, sizeof(q), "SELECT case_id || ',' || kind || ',' || name || ',' || ifnull(id_number, '-') || ','"
		" || phone || ',' || ifnull(address, '-') FROM parties WHERE id = '%s'", id);
	{
		char want[256];
		snprintf(want, sizeof(want), "%s,person,张三,-,13800138000,-", c);
		test_equal_s(ts_test_query_text(st, q), want);
	}
	/* the case's record names the party, not its phone; one staged write holds both */
	snprintf(q, sizeof(q), "SELECT officer || '|' || node || '|' || detail FROM case_events"
		" WHERE case_id = '%s' AND kind = 'note'", c);
	{
		char want[256];
		snprintf(want, sizeof(want), "王伟|bj.dc.jingshan|party %s recorded: person 张三", id);
		test_equal_s(ts_test_query_text(st, q), want);
	}
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM ts_staged"), staged + 1);
	test_equal_s(ts_test_query_text(st, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "王伟");
	/* a business's credit code is public registry data: taken before any on-site step */
	test_ok(ts_party_add(&bid, st, NULL, c, &b));
	snprintf(q, sizeof(q), "SELECT id_number || '|' || address FROM parties WHERE id = '%s'", bid);
	test_equal_s(ts_test_query_text(st, q), CODE_A "|景山前街1号");
	test_equal_s(ts_test_query_text(st, "SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1"), "李街");
	free(id);
	free(bid);
	free(c);
	ts_node_free(st);
}

void test_parties__identity_number_rules(void)
{
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_party_options with_id = person("张三", ID_ZHANG, NULL), without = person("李四", NULL, "13900001111");
	ts_party_options b_without = business("景山小卖部", NULL, "景山前街1号");
	char *fresh, *educated, *penalized, *id = NULL, *before;

	test_assert(st);
	test_assert((fresh = new_case(st, "bj.dc.jingshan", NULL, NULL, "dispatched")));
	test_assert((educated = new_case(st, "bj.dc.jingshan", NULL, "educate", NULL)));
	test_assert((penalized = new_case(st, "bj.dc.jingshan", NULL, "penalize", NULL)));
	before = snapshot(st);
	/* before an on-site step nobody's 身份证号 has been checked: refused */
	test_equal_i(ts_party_add(&id, st, NULL, fresh, &with_id), TS_EINVALID);
	test_error_says("educate");
	test_assert(id == NULL);
	/* at the penalize step the party of the penalty needs its number */
	test_equal_i(ts_party_add(&id, st, NULL, penalized, &without), TS_EINVALID);
	test_error_says("身份证号");
	test_equal_i(ts_party_add(&id, st, NULL, penalized, &b_without), TS_EINVALID);
	test_error_says("统一社会信用代码");
	test_unchanged(st, before);
	free(before);

	test_ok(ts_party_add(&id, st, NULL, educated, &with_id));
	free(id);
	test_ok(ts_party_add(&id, st, NULL, educated, &without));
	free(id);
	test_ok(ts_party_add(&id, st, NULL, penalized, &with_id));
	free(id);
	test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM parties WHERE id_number = '" ID_ZHANG "'"), 2);
	free(fresh);
	free(educated);
	free(penalized);
	ts_node_free(st);
}

void test_parties__add_refusals(void)
{
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_party_options ok = person("张三", ID_ZHANG, "13800138000");
	ts_party_options bad[] = {
		{ "robot", "张三", NULL, NULL, NULL },
		{ NULL, "张三", NULL, NULL, NULL },
		{ "person", "", NULL, NULL, NULL },
		{ "person", "   ", NULL, NULL, NULL },
		{ "person", NULL, NULL, NULL, NULL },
		{ "person", "张三", NULL, "138x", NULL },
		{ "person", "张三", "11010519491231003X", NULL, NULL },
		{ "business", "小卖部", ID_ZHANG, NULL, NULL },
	};
	char *open, *closed, *moved, *foreign, *id = NULL, *before;
	size_t i;

	test_assert(st);
	test_assert((open = new_case(st, "bj.dc.jingshan", NULL, "educate", NULL)));
	test_assert((closed = new_case(st, "bj.dc.jingshan", NULL, "educate", "closed")));
	test_assert((moved = new_case(st, "bj.dc.jingshan", NULL, "educate", "transferred")));
	test_assert((foreign = new_case(st, "bj.dc.donghuamen", NULL, "educate", NULL)));
	test_ok(ts_party_add(&id, st, NULL, open, &ok));
	free(id);
	id = NULL;
	before = snapshot(st);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_equal_i(ts_party_add(&id, st, NULL, open, &bad[i]), TS_EINVALID);
	test_equal_i(ts_party_add(&id, st, NULL, open, NULL), TS_EINVALID);
	/* the same person twice on one case */
	test_equal_i(ts_party_add(&id, st, NULL, open, &ok), TS_EINVALID);
	test_error_says("already a party");
	test_equal_i(ts_party_add(&id, st, NULL, "nosuch", &ok), TS_ENOTFOUND);
	test_equal_i(ts_party_add(&id, st, NULL, "", &ok), TS_EINVALID);
	test_equal_i(ts_party_add(&id, st, NULL, closed, &ok), TS_EDENIED);
	test_error_says("closed");
	test_equal_i(ts_party_add(&id, st, NULL, moved, &ok), TS_EDENIED);
	test_equal_i(ts_party_add(&id, st, NULL, foreign, &ok), TS_EDENIED);
	test_error_says("outside this node's jurisdiction");
	test_assert(id == NULL);
	test_unchanged(st, before);
	free(before);
	free(open);
	free(closed);
	free(moved);
	free(foreign);
	ts_node_free(st);
}

void test_parties__device_and_district(void)
{
	ts_node *dev = ts_test_node("dev", TS_TIER_DEVICE, "bj.dc.jingshan.d07", "王伟");
	ts_node *dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张区");
	ts_party_options p = person("张三", NULL, "13800138000");
	char *street_case, *other_street, *other_district, *id = NULL;

	test_assert(dev && dc);
	/* a device acts for its street */
	test_assert((street_case = new_case(dev, "bj.dc.jingshan", NULL, NULL, NULL)));
	test_ok(ts_party_add(&id, dev, NULL, street_case, &p));
	free(id);
	test_assert((other_street = new_case(dev, "bj.dc.donghuamen", NULL, NULL, NULL)));
	test_equal_i(ts_party_add(&id, dev, NULL, other_street, &p), TS_EDENIED);
	/* a district covers its streets, not another district */
	test_assert((other_district = new_case(dc, "bj.xc.jinrong", NULL, NULL, NULL)));
	free(street_case);
	test_assert((street_case = new_case(dc, "bj.dc.jingshan", NULL, NULL, NULL)));
	test_ok(ts_party_add(&id, dc, NULL, street_case, &p));
	free(id);
	test_equal_i(ts_party_add(&id, dc, NULL, other_district, &p), TS_EDENIED);
	test_equal_i(ts_test_query_int(dc, "SELECT count(*) FROM parties"), 1);
	free(street_case);
	free(other_street);
	free(other_district);
	ts_node_free(dev);
	ts_node_free(dc);
}

/*
 * Editing.
 */

void test_parties__edit(void)
{
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_party_options p = person("张三", NULL, "13800138000");
	ts_field contact[] = { { "phone", "139 0000 1111" }, { "address", "景山后街 9号" } };
	ts_field give_id[] = { { "id_number", ID_ZHANG } };
	ts_field clear_phone[] = { { "phone", "" } };
	char *c, *id = NULL, q[512];

	test_assert(st);
	test_assert((c = new_case(st, "bj.dc.jingshan", NULL, "educate", NULL)));
	test_ok(ts_party_add(&id, st, NULL, c, &p));
	test_ok(ts_party_edit(st, "王伟", id, contact, 2));
	snprintf(q, sizeof(q), "SELECT ifnull(phone, '') || '|' || address || '|' || ifnull(id_number, '-') FROM parties WHERE id = '%s'", id);
	test_equal_s(ts_test_query_text(st, q), "13900001111|景山后街 9号|-");
	test_ok(ts_party_edit(st, "王伟", id, give_id, 1));
	test_ok(ts_party_edit(st, "王伟", id, clear_phone, 1));
	test_equal_s(ts_test_query_text(st, q), "|景山后街 9号|" ID_ZHANG);
	/* each edit is a note naming the fields, not the values */
	snprintf(q, sizeof(q), "SELECT group_concat(detail, ' / ') FROM (SELECT detail FROM case_events"
		" WHERE case_id = '%s' AND kind = 'note' AND detail LIKE '%%edited%%' ORDER BY id)", c);
	{
		char want[512];
		snprintf(want, sizeof(want), "party %s (张三) edited: phone address / party %s (张三) edited: id_number"
			" / party %s (张三) edited: phone", id, id, id);
		test_equal_s(ts_test_query_text(st, q), want);
	}
	test_assert(ts_test_query_int(st, "SELECT count(*) FROM case_events WHERE detail LIKE '%13900001111%'"
		" OR detail LIKE '%" ID_ZHANG "%'") == 0);
	/* the same values again write nothing */
	{
		long long staged = ts_test_query_int(st, "SELECT count(*) FROM ts_staged");
		test_ok(ts_party_edit(st, "王伟", id, give_id, 1));
		test_equal_i(ts_test_query_int(st, "SELECT count(*) FROM ts_staged"), staged);
	}
	free(id);
	free(c);
	ts_node_free(st);
}

void test_parties__edit_refusals(void)
{
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_party_options p = person("张三", ID_ZHANG, NULL);
	ts_field rename[] = { { "name", "张四" } }, kind[] = { { "kind", "business" } };
	ts_field twice[] = { { "phone", "13800138000" }, { "phone", "13900001111" } };
	ts_field bad_phone[] = { { "phone", "call me" } }, bad_id[] = { { "id_number", "110105194912310021" } };
	ts_field clear_id[] = { { "id_number", NULL } };
	char *open, *penalized, *closing, *id = NULL, *pid = NULL, *cid = NULL, *before, q[256];

	test_assert(st);
	test_assert((open = new_case(st, "bj.dc.jingshan", NULL, "educate", NULL)));
	test_assert((penalized = new_case(st, "bj.dc.jingshan", NULL, "penalize", NULL)));
	test_assert((closing = new_case(st, "bj.dc.jingshan", NULL, "educate", NULL)));
	test_ok(ts_party_add(&id, st, NULL, open, &p));
	test_ok(ts_party_add(&pid, st, NULL, penalized, &p));
	test_ok(ts_party_add(&cid, st, NULL, closing, &p));
	snprintf(q, sizeof(q), "UPDATE cases SET status = 'closed', closed_at = '2015-03-09T10:00:00+08:00'"
		" WHERE id = '%s'", closing);
	test_ok(ts_test_arrive(st, q));
	before = snapshot(st);

	test_equal_i(ts_party_edit(st, NULL, id, rename, 1), TS_EINVALID);
	test_error_says("new party");
	test_equal_i(ts_party_edit(st, NULL, id, kind, 1), TS_EINVALID);
	test_equal_i(ts_party_edit(st, NULL, id, twice, 2), TS_EINVALID);
	test_equal_i(ts_party_edit(st, NULL, id, bad_phone, 1), TS_EINVALID);
	test_equal_i(ts_party_edit(st, NULL, id, bad_id, 1), TS_EINVALID);
	test_equal_i(ts_party_edit(st, NULL, id, NULL, 0), TS_EINVALID);
	/* the party of a penalty keeps its number */
	test_equal_i(ts_party_edit(st, NULL, pid, clear_id, 1), TS_EINVALID);
	test_equal_i(ts_party_edit(st, NULL, cid, bad_phone, 1), TS_EDENIED);
	test_equal_i(ts_party_edit(st, NULL, "nosuch", clear_id, 1), TS_ENOTFOUND);
	test_unchanged(st, before);
	/* at the educate step it may be cleared */
	test_ok(ts_party_edit(st, NULL, id, clear_id, 1));
	free(before);
	free(id);
	free(pid);
	free(cid);
	free(open);
	free(penalized);
	free(closing);
	ts_node_free(st);
}

/*
 * The list.
 */

static int see_party(const ts_party_info *p, void *payload)
{
	ts_test_seen *s = payload;
	ts_test_seen_add(s, "%s:%s:%s:%s", p->kind, p->name, OR_NULL(p->id_number), OR_NULL(p->phone));
	return ts_test_seen_next(s);
}

void test_parties__list(void)
{
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_party_options a = person("张三", ID_ZHANG, "13800138000"), b = business("景山小卖部", CODE_A, NULL);
	ts_party_filter reveal = TS_PARTY_FILTER_INIT, wrong = { 99, 0 };
	ts_test_seen seen;
	char *c, *empty, *foreign, *id = NULL;

	test_assert(st);
	test_assert((c = new_case(st, "bj.dc.jingshan", NULL, "educate", NULL)));
	test_assert((empty = new_case(st, "bj.dc.jingshan", NULL, NULL, NULL)));
	test_assert((foreign = new_case(st, "bj.dc.donghuamen", NULL, NULL, NULL)));
	test_ok(ts_party_add(&id, st, NULL, c, &a));
	free(id);
	test_ok(ts_party_add(&id, st, NULL, c, &b));
	free(id);

	memset(&seen, 0, sizeof(seen));
	test_ok(ts_party_list(st, c, NULL, see_party, &seen));
	test_equal_s(seen.text, "person:张三:110105********002X:13800138000 business:景山小卖部:913501********0Y43:NULL");
	reveal.reveal_id_numbers = 1;
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_party_list(st, c, &reveal, see_party, &seen));
	test_equal_s(seen.text, "person:张三:" ID_ZHANG ":13800138000 business:景山小卖部:" CODE_A ":NULL");
	/* a stop from the callback is returned as it is */
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	test_equal_i(ts_party_list(st, c, NULL, see_party, &seen), 7);
	test_equal_i(seen.calls, 1);
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_party_list(st, empty, NULL, see_party, &seen));
	test_equal_i(seen.calls, 0);
	/* a number too long to mask in place, as only a row from elsewhere can be: all hidden */
	{
		char sql[512];
		snprintf(sql, sizeof(sql), "INSERT INTO parties (id, case_id, kind, name, id_number) VALUES"
			" ('bj.dc.jingshan-p20150301-9', '%s', 'person', '王五', '%s')", empty,
			"1101051949123100211101051949123100211101051949123100211101051949123100");
		test_ok(ts_test_arrive(st, sql));
		memset(&seen, 0, sizeof(seen));
		test_ok(ts_party_list(st, empty, NULL, see_party, &seen));
		test_assert(strncmp(seen.text, "person:王五:********", strlen("person:王五:********")) == 0);
		test_assert(strpbrk(seen.text, "0123456789") == NULL);
	}
	/* any case the node holds may be read */
	test_ok(ts_party_list(st, foreign, NULL, see_party, &seen));
	test_equal_i(ts_party_list(st, "nosuch", NULL, see_party, &seen), TS_ENOTFOUND);
	test_equal_i(ts_party_list(st, c, &wrong, see_party, &seen), TS_EINVALID);
	free(c);
	free(empty);
	free(foreign);
	ts_node_free(st);
}

/*
 * Repeat offenders.
 */

static int see_offender(const ts_party_repeat_info *r, void *payload)
{
	ts_test_seen *s = payload;
	char cases[512] = "";
	size_t used = 0;
	int64_t i;

	for (i = 0; i < r->ncases && used < sizeof(cases); i++)
		used += (size_t)snprintf(cases + used, sizeof(cases) - used, "%s%s", i ? "," : "",
			r->cases[i].case_id + strlen("bj.dc.jingshan-c20150301-"));
	ts_test_seen_add(s, "%s/%s/%s/%s/%lld[%s]", r->kind, r->matched_by, r->name, OR_NULL(r->id_number),
		(long long)r->ncases, cases);
	return ts_test_seen_next(s);
}

/* The case ids of these tests end in a four-digit counter: the list
 * shows only that, so the expected text stays readable. The cases are
 * made in a fixed order, numbered from `first`. */
void test_parties__repeats(void)
{
	ts_node *st = ts_test_node("st", TS_TIER_STREET, "bj.dc.jingshan", "李街");
	ts_party_repeat_filter f = TS_PARTY_REPEAT_FILTER_INIT;
	ts_test_seen seen;
	char *k[8], *later, *foreign, *id = NULL, want[1024], sql[512];
	ts_party_options zhang = person("张三", ID_ZHANG, NULL);
	ts_party_options zhang_renamed = person("张叁", ID_ZHANG, "13800138000");
	ts_party_options li = person("李四", NULL, "139-0000-1111"), li_again = person("李四", NULL, "13900001111");
	ts_party_options bare = person("王五", NULL, NULL), once = person("王六", ID_WANG, NULL);
	ts_party_options shop = business("景山小卖部", CODE_A, NULL), shop_b = business("景山小卖部", CODE_A, "别处");
	ts_party_options stall = business("早点摊", NULL, "景山前街 3号");
	size_t i;
	int n0;

	test_assert(st);
	for (i = 0; i < 8; i++)
		test_assert((k[i] = new_case(st, "bj.dc.jingshan", i < 4 ? "2015-03-01T10:00:00+08:00" :
			"2015-05-01T10:00:00+08:00", "educate", NULL)));
	n0 = atoi(k[0] + strlen("bj.dc.jingshan-c20150301-"));
	/* 张三 by 身份证号 on two cases, renamed on the second; 李四 by name and phone
	 * (written differently) on two; the shop by its credit code on three, with
	 * different addresses; the stall by name and address on two; 王五, a bare
	 * name, on two (not matched) */
	test_ok(ts_party_add(&id, st, NULL, k[0], &zhang)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[5], &zhang_renamed)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[1], &li)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[2], &li_again)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[1], &shop)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[3], &shop_b)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[6], &shop)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[4], &stall)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[7], &stall)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[2], &bare)); free(id);
	test_ok(ts_party_add(&id, st, NULL, k[3], &bare)); free(id);
	/* found once: no repeat */
	test_ok(ts_party_add(&id, st, NULL, k[0], &once)); free(id);
	/* the same shop twice on one case, as a merge may leave it: one case */
	snprintf(sql, sizeof(sql), "INSERT INTO parties (id, case_id, kind, name, id_number) VALUES"
		" ('bj.dc.jingshan-p20150301-9999', '%s', 'business', '景山小卖部', '" CODE_A "')", k[6]);
	test_ok(ts_test_arrive(st, sql));
	/* outside the period, and outside the jurisdiction: not counted */
	test_assert((later = new_case(st, "bj.dc.jingshan", "2016-01-01T00:00:00+08:00", "educate", NULL)));
	test_ok(ts_party_add(&id, st, NULL, later, &li)); free(id);
	test_assert((foreign = new_case(st, "bj.dc.donghuamen", "2015-03-01T10:00:00+08:00", "educate", NULL)));
	snprintf(sql, sizeof(sql), "INSERT INTO parties (id, case_id, kind, name, id_number) VALUES"
		" ('bj.dc.donghuamen-p20150301-1', '%s', 'person', '张三', '" ID_ZHANG "')", foreign);
	test_ok(ts_test_arrive(st, sql));

	f.from = "2015-01-01T00:00:00+08:00";
	f.to = "2016-01-01T00:00:00+08:00";
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_party_repeats(st, &f, see_offender, &seen));
	snprintf(want, sizeof(want),
		"business/id_number/景山小卖部/913501********0Y43/3[%04d,%04d,%04d] "
		"business/name_address/早点摊/NULL/2[%04d,%04d] "
		"person/id_number/张叁/110105********002X/2[%04d,%04d] "
		"person/name_phone/李四/NULL/2[%04d,%04d]",
		n0 + 1, n0 + 3, n0 + 6, n0 + 4, n0 + 7, n0, n0 + 5, n0 + 1, n0 + 2);
	test_equal_s(seen.text, want);

	/* revealed, and only the worst */
	f.reveal_id_numbers = 1;
	f.min_cases = 3;
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_party_repeats(st, &f, see_offender, &seen));
	snprintf(want, sizeof(want), "business/id_number/景山小卖部/" CODE_A "/3[%04d,%04d,%04d]", n0 + 1, n0 + 3, n0 + 6);
	test_equal_s(seen.text, want);

	/* March alone: 李四 only (and the shop's first two cases) */
	f.min_cases = 0;
	f.to = "2015-04-01T00:00:00+08:00";
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_party_repeats(st, &f, see_offender, &seen));
	snprintf(want, sizeof(want), "business/id_number/景山小卖部/" CODE_A "/2[%04d,%04d] "
		"person/name_phone/李四/NULL/2[%04d,%04d]", n0 + 1, n0 + 3, n0 + 1, n0 + 2);
	test_equal_s(seen.text, want);

	/* a stop from the callback is returned as it is */
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	test_equal_i(ts_party_repeats(st, &f, see_offender, &seen), 7);
	test_equal_i(seen.calls, 1);
	f.min_cases = 1;
	test_equal_i(ts_party_repeats(st, &f, see_offender, &seen), TS_EINVALID);
	f.min_cases = 0;
	f.to = NULL;
	test_equal_i(ts_party_repeats(st, &f, see_offender, &seen), TS_EINVALID);
	f.version = 99;
	test_equal_i(ts_party_repeats(st, &f, see_offender, &seen), TS_EINVALID);
	/* the default period is this year: the 2015 cases are not in it */
	memset(&seen, 0, sizeof(seen));
	test_ok(ts_party_repeats(st, NULL, see_offender, &seen));
	test_equal_i(seen.calls, 0);

	for (i = 0; i < 8; i++)
		free(k[i]);
	free(later);
	free(foreign);
	ts_node_free(st);
}
