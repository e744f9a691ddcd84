/*
 * Progress: the callback of ts_node_set_progress() hears of a merge's and
 * an apply's long phases, each begun at 0, counted up, and ended by one
 * call marked done, in bounded steps.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "nodes.h"

#define CASES 150
#define MAX_CALLS 512

typedef struct {
	ts_progress calls[MAX_CALLS];
	int n;
	const char *slow_phase;   /* the callback sleeps in this phase... */
	int slow_calls;           /* ...for this many calls of it */
} heard;

static void on_progress(const ts_progress *p, void *payload)
{
	heard *h = payload;

	if (h->n < MAX_CALLS)
		h->calls[h->n++] = *p;
	/* a slow terminal: the rows go on meanwhile, so the next report comes
	 * at the next row, with a count above this one */
	if (h->slow_phase && !strcmp(p->phase, h->slow_phase) && !p->done && h->slow_calls > 0) {
		struct timespec pause = { 0, 120 * 1000000L };
		h->slow_calls--;
		nanosleep(&pause, NULL);
	}
}

/*
 * Checks every phase heard: it begins with current 0 and not done, its
 * counts never go down nor past a known total, its seconds never go back,
 * it is called no more often than every 0.1 s between its first call and
 * its last, and exactly one call, its last, is marked done. Writes the
 * phases in the order they ran to `order` (", " between them). Returns
 * NULL, or what did not hold.
 */
static const char *phases_hold(char *order, size_t size, const heard *h)
{
	static char why[256];
	int i = 0, j;

	order[0] = '\0';
	for (i = 0; i < h->n; i = j) {
		const ts_progress *first = &h->calls[i], *last;

		if (first->current != 0 || first->done) {
			snprintf(why, sizeof(why), "%s began at %zu, done %d", first->phase, first->current, first->done);
			return why;
		}
		snprintf(order + strlen(order), size - strlen(order), "%s%s", *order ? ", " : "", first->phase);
		for (j = i + 1; j < h->n && !strcmp(h->calls[j].phase, first->phase) && !h->calls[j - 1].done; j++) {
			const ts_progress *prev = &h->calls[j - 1], *p = &h->calls[j];
			if (p->current < prev->current || p->seconds < prev->seconds || p->total != first->total ||
			    (p->total && p->current > p->total)) {
				snprintf(why, sizeof(why), "%s went from %zu/%zu to %zu/%zu", p->phase, prev->current,
					prev->total, p->current, p->total);
				return why;
			}
		}
		last = &h->calls[j - 1];
		if (!last->done) {
			snprintf(why, sizeof(why), "%s ended without a call marked done", first->phase);
			return why;
		}
		/* the first, one every 0.1 s at most, and the last */
		if (j - i > 2 + (int)(last->seconds / 0.1) + 1) {
			snprintf(why, sizeof(why), "%s called %d times in %.3f s", first->phase, j - i, last->seconds);
			return why;
		}
	}
	return NULL;
}

/* The last call of `phase`, or NULL. */
static const ts_progress *last_of(const heard *h, const char *phase)
{
	int i;
	for (i = h->n - 1; i >= 0; i--)
		if (!strcmp(h->calls[i].phase, phase))
			return &h->calls[i];
	return NULL;
}

/* The calls of `phase` that were neither its first nor its last. */
static int between(const heard *h, const char *phase)
{
	int i, n = 0;
	for (i = 0; i < h->n; i++)
		if (!strcmp(h->calls[i].phase, phase) && h->calls[i].current > 0 && !h->calls[i].done)
			n++;
	return n;
}

static int stored(const ts_submission_result *r, void *payload)
{
	*(ts_submission_result *)payload = *r;
	((ts_submission_result *)payload)->node = NULL;
	return 0;
}

void test_progress__merge_and_fast_forward_count_up_to_done(void)
{
	ts_node *dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张敏");
	ts_node *a = ts_test_node("a", TS_TIER_STREET, "bj.dc.a", "王伟");
	ts_submission_result merged;
	ts_node_merge_stats pulled;
	heard *h = calloc(1, sizeof(*h));
	const ts_progress *p;
	const char *why;
	char order[256], address[64], commit[41], *id = NULL;
	int i;

	test_assert(dc && a && h);
	test_ok(ts_test_enrolled_above(dc));
	test_ok(ts_test_enroll(dc, a));
	for (i = 0; i < CASES; i++) {
		snprintf(address, sizeof(address), "景山前街 %d号", i + 1);
		test_ok(ts_case_new(&id, a, NULL, "small_ads", "patrol", address, NULL, 0));
		free(id);
	}
	test_ok(ts_node_commit(commit, a, "a street's work", NULL));
	test_ok(ts_test_transfer(a, dc, "refs/submissions/bj.dc.a"));

	/* the district merges: every phase, the rows written slowly */
	ts_node_set_progress(dc, on_progress, h);
	h->slow_phase = "writing rows";
	h->slow_calls = 3;
	test_ok(ts_node_merge_submissions(dc, NULL, stored, &merged));
	test_equal_i(merged.error, 0);
	test_equal_i(merged.stats.result, TS_MERGE_MERGED);
	why = phases_hold(order, sizeof(order), h);
	test_equal_s(why ? why : "", "");
	test_equal_s(order, "merging trees, comparing trees, writing rows, checking foreign keys");
	/* the rows written, counted as the walk found them and as the apply
	 * wrote them: every case and its event, in the database */
	test_equal_i(ts_test_query_int(dc, "SELECT count(*) FROM cases WHERE id LIKE 'bj.dc.a-%'"), CASES);
	p = last_of(h, "writing rows");
	test_equal_i(p->current, merged.stats.rows_written + merged.stats.rows_deleted);
	test_equal_i(p->total, p->current);
	test_assert(p->total >= 2 * CASES);
	test_equal_i(last_of(h, "comparing trees")->current, p->total);
	test_assert(last_of(h, "merging trees")->current >= 2 * CASES);
	test_equal_i(last_of(h, "checking foreign keys")->current, last_of(h, "checking foreign keys")->total);
	test_assert(last_of(h, "checking foreign keys")->total >= 2 * CASES);
	/* while the callback was slow, the count rose between its calls */
	test_assert(between(h, "writing rows") >= 3);

	/* the street pulls the merge: a fast-forward, no merge walk */
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	memset(h, 0, sizeof(*h));
	ts_node_set_progress(a, on_progress, h);
	test_ok(ts_node_merge(commit, &pulled, a, "refs/remotes/upstream/main", NULL, "pull\n"));
	test_equal_i(pulled.result, TS_MERGE_FAST_FORWARD);
	why = phases_hold(order, sizeof(order), h);
	test_equal_s(why ? why : "", "");
	test_equal_s(order, "comparing trees, writing rows, checking foreign keys");
	test_equal_i(last_of(h, "writing rows")->current, pulled.rows_written + pulled.rows_deleted);

	/* unset, a merge reports nothing */
	test_ok(ts_case_new(&id, dc, NULL, "small_ads", "patrol", "景山前街 200号", NULL, 0));
	free(id);
	test_ok(ts_node_commit(commit, dc, "the district's case", NULL));
	test_ok(ts_test_transfer(dc, a, "refs/remotes/upstream/main"));
	memset(h, 0, sizeof(*h));
	ts_node_set_progress(a, NULL, NULL);
	test_ok(ts_node_merge(commit, &pulled, a, "refs/remotes/upstream/main", NULL, "pull\n"));
	test_equal_i(pulled.rows_written, 2);
	test_equal_i(h->n, 0);

	free(h);
	ts_node_free(dc);
	ts_node_free(a);
}

/* A merge refused before anything is written reports nothing; one already
 * in history neither. */
void test_progress__nothing_to_do_reports_nothing(void)
{
	ts_node *dc = ts_test_node("dc", TS_TIER_DISTRICT, "bj.dc", "张敏");
	heard *h = calloc(1, sizeof(*h));
	char commit[41];

	test_assert(dc && h);
	ts_node_set_progress(dc, on_progress, h);
	test_ok(ts_node_merge(commit, NULL, dc, "HEAD", NULL, NULL));
	test_equal_i(ts_node_merge(commit, NULL, dc, "no-such-revision", NULL, NULL), TS_ENOTFOUND);
	test_equal_i(h->n, 0);
	free(h);
	ts_node_free(dc);
}
