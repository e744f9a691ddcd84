/*
 * bench_sync.c: (e) push + district merge over SSH, against stock
 * `git push`: sync_10k_ms, git_push_10k_ms, sync_vs_git_push_ratio (medians),
 * push_10k_ms, push_vs_git_push_ratio, merge_submission_10k_ms,
 * push_10k_bytes, git_push_10k_bytes, merge_submission_10k_rows_written,
 * changed_rows_10k and first_push_ms. It also runs (f) (bench_bytes.c)
 * while its sshd is up.
 *
 * The street of (h) gets the district as its upstream over ssh (the sshd
 * of bench_sshd.c), its own key enrolled there for the gate (the forced
 * command that serves tiersync's exchange and admits each push), and
 * pushes once, not timed. Stock git pushes with a key of its own that
 * sshd lets in with no forced command. In each of E_REPS runs the
 * district diverges (FEW_ROWS case updates), the street commits n_change
 * changed rows, and `cp -a` makes a fresh bare copy of the district's
 * history; then, in alternating order, one child times ts_node_push from
 * the street and ts_node_merge_submissions on the district, and stock
 * `git push` of the same commit to the copy, through the same sshd, is
 * timed from fork() to its exit. Without SSHD_BIN it prints
 * `sync_bench: skipped (no sshd)` instead of (e) and (f).
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define E_REPS         3    /* (e): push + merge against git push, alternating */

/* The district enrolls the street's key for the gate (sshd's forced
 * command: tiersync's exchange, admission at the push), the street gets
 * the district as its upstream over ssh with that key, and pushes once
 * (its own cases and the merge of the district): from then on the district
 * holds a submission the street knows, as after any earlier sync. Writes
 * ms, bytes, objects. */
static void child_e_setup(int fd, const void *arg)
{
	const sync_args *a = arg;
	ts_enroll_options eo = { TS_ENROLL_OPTIONS_VERSION, a->authorized_keys, a->program, AUTHOR, 0 };
	ts_node *street, *district = open_node(a->district);
	char *pub_path = path_in(a->street, "id_ed25519.pub"), *pub = slurp(pub_path);
	ts_transfer_stats st;
	char head[41];
	double t0, v[3];

	if (!pub || ts_node_enroll(head, district, STREET_ID, pub, &eo) < 0)
		ts_die("ts_node_enroll (the street's key, with the gate)");
	ts_node_free(district);
	free(pub);
	free(pub_path);
	street = open_node(a->street);
	t0 = now_ms();
	if (ts_node_remote_add(street, TS_REMOTE_DEFAULT, a->url, a->key) < 0)
		ts_die("ts_node_remote_add (ssh upstream)");
	if (ts_node_push(head, &st, street, NULL, NULL) < 0)
		ts_die("ts_node_push (first)");
	v[0] = now_ms() - t0;
	v[1] = (double)st.bytes;
	v[2] = (double)st.objects;
	put(fd, v, 3);
	ts_node_free(street);
}

/* Not timed: the district's own work (FEW_ROWS case updates, a commit its
 * street has not seen), then the street's commit of n_change changed rows. */
static void child_e_prepare(int fd, const void *arg)
{
	const sync_args *a = arg;
	uint64_t seed = 5000 + (uint64_t)a->rep;
	ts_node *node = open_node(a->district);
	double v[1];

	commit_few(node, FEW_ROWS, a->n, seed);
	ts_node_free(node);
	node = open_node(a->street);
	v[0] = (double)commit_bulk(node, n_change, a->n, seed, "街道集中复查");
	ts_node_free(node);
	put(fd, v, 1);
}

typedef struct {
	ts_submission_result r;
	int seen;
} submission_seen;

static int on_submission(const ts_submission_result *r, void *payload)
{
	submission_seen *s = payload;
	if (r->error < 0)
		die("merging the submission of %s: %s", r->node, r->message ? r->message : "failed");
	s->r = *r;
	s->seen++;
	return 0;
}

/* Timed: ts_node_push from the street over ssh, then
 * ts_node_merge_submissions on the district. Writes push ms, merge ms,
 * bytes, objects, rows written, the merge's result, conflicts. */
static void child_e_sync(int fd, const void *arg)
{
	const sync_args *a = arg;
	ts_node *street = open_node(a->street), *district = open_node(a->district);
	ts_transfer_stats st;
	submission_seen seen;
	char head[41];
	double t0, t1, t2, v[7];

	memset(&seen, 0, sizeof(seen));
	t0 = now_ms();
	if (ts_node_push(head, &st, street, NULL, NULL) < 0)
		ts_die("ts_node_push");
	t1 = now_ms();
	if (ts_node_merge_submissions(district, NULL, on_submission, &seen) < 0)
		ts_die("ts_node_merge_submissions");
	t2 = now_ms();
	if (seen.seen != 1)
		die("the district merged %d submissions, not 1", seen.seen);
	v[0] = t1 - t0;
	v[1] = t2 - t1;
	v[2] = (double)st.bytes;
	v[3] = (double)st.objects;
	v[4] = (double)(seen.r.stats.rows_written + seen.r.stats.rows_deleted);
	v[5] = seen.r.stats.result;
	v[6] = (double)seen.r.stats.conflicts;
	put(fd, v, 7);
	ts_node_free(street);
	ts_node_free(district);
}

/* The bytes of the last "Writing objects: 100% (n/n), 1.23 MiB" in git's
 * progress, or 0; n in *objects. */
static double git_written_bytes(double *objects, const char *text)
{
	const char *p = text, *last = NULL;
	double x;
	unsigned long n;
	char unit[16];

	*objects = 0;
	while (p && (p = strstr(p, "Writing objects: 100%"))) {
		last = p;
		p++;
	}
	if (!last || sscanf(last, "Writing objects: 100%% (%lu/", &n) != 1 || !(p = strstr(last, "), ")) ||
	    sscanf(p + 3, "%lf %15[A-Za-z]", &x, unit) != 2)
		return 0;
	*objects = (double)n;
	return !strcmp(unit, "KiB") ? x * 1024 : !strcmp(unit, "MiB") ? x * 1048576 :
	       !strcmp(unit, "GiB") ? x * 1073741824.0 : x;
}

/* Stock git push of the street's main to refs/submissions/<street> of the
 * bare repository `base` through the same sshd, timed from fork to exit.
 * *bytes: what git's progress says it wrote. */
static double stock_git_push(double *bytes, double *objects, const char *street_git, const char *base, const char *user,
	const char *key, const char *known_hosts, const char *errlog)
{
	char url[4096], env[8192];
	char *argv[] = { "git", "--git-dir", (char *)street_git, "push", "--progress", url,
		"+refs/heads/main:refs/submissions/" STREET_ID, NULL };
	char *err;
	double t0;
	int rc;

	snprintf(url, sizeof(url), "%s@127.0.0.1:%s", user, base);
	snprintf(env, sizeof(env), "GIT_SSH_COMMAND=ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes "
		"-o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o 'UserKnownHostsFile=%s' "
		"-i '%s' -p %d", known_hosts, key, sshd_port);
	unlink(errlog);
	t0 = now_ms();
	rc = run_cmd(argv, NULL, errlog, env);
	t0 = now_ms() - t0;
	err = slurp(errlog);
	if (rc != 0)
		die("git push to %s failed (%d): %s", base, rc, err ? err : "");
	*bytes = err ? git_written_bytes(objects, err) : 0;
	free(err);
	return t0;
}

/* ---- (e): the runs and their figures --------------------------------- */

int bench_sync_run(sync_figures *e, double f[12], const char *dir_street, const char *dir_100k)
{
	child_result res;
	int r, have_ssh;

	memset(e, 0, sizeof(*e));
	have_ssh = access(SSHD_BIN, X_OK) == 0;
	if (!have_ssh) {
		printf("sync_bench: skipped (no sshd)\n");
		fflush(stdout);
	} else {
		char *ssh_dir = path_in(scratch, "sshd"), *known = path_in(dir_street, "known_hosts");
		char *key = path_in(ssh_dir, "street_key"), *street_git = path_in(dir_street, "history.git");
		char *node_key = path_in(dir_street, "id_ed25519"), *auth = path_in(ssh_dir, "authorized_keys");
		char program[4096];
		ssize_t plen;
		char *base = path_in(scratch, "base.git"), *errlog = path_in(ssh_dir, "git-push.log");
		char *district_git = path_in(dir_100k, "history.git"), url[4096];
		char *cp[] = { "cp", "-a", district_git, base, NULL };
		struct passwd *pw = getpwuid(getuid());
		struct sigaction sa_new, sa_old[3];
		static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
		sync_args sa;
		int k;

		if (!pw)
			die("who am I? getpwuid: %s", strerror(errno));
		memset(&sa_new, 0, sizeof(sa_new));
		sa_new.sa_handler = on_fatal_signal;
		for (k = 0; k < 3; k++)
			sigaction(sigs[k], &sa_new, &sa_old[k]);
		fprintf(stderr, "bench: (e) starting sshd on 127.0.0.1\n");
		sshd_start(ssh_dir, known);
		snprintf(url, sizeof(url), "ssh://%s@127.0.0.1:%d%s", pw->pw_name, sshd_port, district_git);
		/* the gate runs the tiersync built beside this bench */
		if ((plen = readlink("/proc/self/exe", program, sizeof(program) - 16)) < 0)
			die("readlink /proc/self/exe: %s", strerror(errno));
		program[plen] = '\0';
		snprintf(strrchr(program, '/') ? strrchr(program, '/') + 1 : program, 16, "tiersync");
		sa.street = dir_street;
		sa.district = dir_100k;
		sa.url = url;
		sa.key = node_key;
		sa.authorized_keys = auth;
		sa.program = program;
		sa.n = n_100k;
		sa.rep = 0;
		fprintf(stderr, "bench: (e) sshd on port %d; the street's first push to %s\n", sshd_port, url);
		run_child(&res, "the first push", child_e_setup, &sa);
		memcpy(e->first, res.v, sizeof(e->first));
		free(res.v);
		for (r = 0; r < E_REPS; r++) {
			int side;
			sa.rep = r;
			fprintf(stderr, "bench: (e) run %d/%d: the district diverges by %d case updates, the street "
				"commits %llu changed rows\n", r + 1, E_REPS, FEW_ROWS, (unsigned long long)n_change);
			run_child(&res, "preparing (e)", child_e_prepare, &sa);
			e->rows = res.v[0];
			free(res.v);
			remove_dir(base);
			if (run_cmd(cp, NULL, NULL, NULL) != 0)
				die("copying %s to %s failed", district_git, base);
			for (side = 0; side < 2; side++) {
				if ((side == 0) == (r % 2 == 0)) {
					run_child(&res, "push + merge", child_e_sync, &sa);
					if (res.n != 7)
						die("push + merge reported %zu values", res.n);
					add(&e->push, res.v[0]);
					add(&e->merge, res.v[1]);
					add(&e->sync, res.v[0] + res.v[1]);
					e->bytes = res.v[2];
					e->written = res.v[4];
					fprintf(stderr, "bench:   push %.0f ms (%.0f objects, %.0f bytes), merge %.0f ms "
						"(%s, %.0f rows written, %.0f conflicts)\n", res.v[0], res.v[3], res.v[2], res.v[1],
						res.v[5] == TS_MERGE_MERGED ? "a merge" : res.v[5] == TS_MERGE_FAST_FORWARD ?
						"a fast-forward" : "up to date", res.v[4], res.v[6]);
					free(res.v);
				} else {
					double ms = stock_git_push(&e->git_bytes, &e->git_objects, street_git, base, pw->pw_name,
						key, known, errlog);
					add(&e->git, ms);
					fprintf(stderr, "bench:   git push %.0f ms (%.0f objects, %.0f bytes written)\n", ms,
						e->git_objects, e->git_bytes);
				}
			}
		}
		remove_dir(base);
		bench_bytes_run(f, &sa);
		sshd_stop();
		for (k = 0; k < 3; k++)
			sigaction(sigs[k], &sa_old[k], NULL);
		free(ssh_dir); free(known); free(key); free(street_git); free(base); free(errlog); free(district_git);
		free(node_key); free(auth);
	}
	return have_ssh;
}

void bench_sync_print(sync_figures *e)
{
	printf("# (e) push over ssh + district merge of %llu changed rows (the district diverged by %d case\n"
		"#     updates), vs stock git push of the same commit through the same sshd; %d runs, medians\n",
		(unsigned long long)n_change, FEW_ROWS, E_REPS);
	figure("sync_10k_ms", quantile(&e->sync, 0.5));
	figure("git_push_10k_ms", quantile(&e->git, 0.5));
	figure("sync_vs_git_push_ratio", quantile(&e->sync, 0.5) / quantile(&e->git, 0.5));
	figure("push_10k_ms", quantile(&e->push, 0.5));
	figure("push_vs_git_push_ratio", quantile(&e->push, 0.5) / quantile(&e->git, 0.5));
	figure("merge_submission_10k_ms", quantile(&e->merge, 0.5));
	figure_int("push_10k_bytes", e->bytes);
	figure_int("git_push_10k_bytes", e->git_bytes);
	figure_int("merge_submission_10k_rows_written", e->written);
	figure_int("changed_rows_10k", e->rows);
	figure("first_push_ms", e->first[0]);
	free(e->sync.v); free(e->push.v); free(e->merge.v); free(e->git.v);
}
