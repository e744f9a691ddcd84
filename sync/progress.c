/*
 * Progress: a phase of a long step reported in bounded steps (progress.h).
 */
#include "progress.h"

#include <string.h>
#include <time.h>

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The interval runs from report to report, the callback's own time
 * included: the clock is read before it is called. */
static void report(ts_progress_meter *m, double now)
{
	m->state.seconds = now - m->started;
	m->reported = now;
	m->cb(&m->state, m->payload);
}

void ts_progress__init(ts_progress_meter *m, ts_progress_cb cb, void *payload)
{
	memset(m, 0, sizeof(*m));
	m->cb = cb;
	m->payload = payload;
}

int ts_progress__wanted(const ts_progress_meter *m)
{
	return m && m->cb;
}

void ts_progress__begin(ts_progress_meter *m, const char *phase, size_t total)
{
	double now;

	if (!ts_progress__wanted(m))
		return;
	ts_progress__end(m);
	now = now_seconds();
	memset(&m->state, 0, sizeof(m->state));
	m->state.phase = phase;
	m->state.total = total;
	m->started = now;
	m->open = 1;
	report(m, now);
}

void ts_progress__update(ts_progress_meter *m, size_t current)
{
	double now;

	if (!ts_progress__wanted(m) || !m->open)
		return;
	m->state.current = current;
	now = now_seconds();
	if (now - m->reported >= TS_PROGRESS_INTERVAL)
		report(m, now);
}

void ts_progress__end(ts_progress_meter *m)
{
	if (!ts_progress__wanted(m) || !m->open)
		return;
	m->open = 0;
	m->state.done = 1;
	report(m, now_seconds());
}
