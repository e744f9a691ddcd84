/*
 * Unit tests of SSH signatures (sync/sshsig.c): signatures round-trip and
 * refuse altered data, another namespace and damaged armor; keys survive
 * a save and a load; and stock OpenSSH and git judge both ways: what
 * tiersync signs, `ssh-keygen -Y verify` and `git verify-commit` accept,
 * and what `git commit -S` signs, tiersync accepts.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sshsig.h"
#include "tiersync.h"

static const char message[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbbecc94\n";

/* The whole output of a shell command, or NULL when it failed. */
static char *run(const char *cmd)
{
	ts_buf out = TS_BUF_INIT;
	char chunk[1024];
	size_t n;
	FILE *p = popen(cmd, "r");

	if (!p)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		ts_buf__put(&out, chunk, n);
	if (pclose(p) != 0 || ts_buf__oom(&out)) {
		ts_buf__dispose(&out);
		return NULL;
	}
	return out.ptr ? ts_buf__detach(&out) : strdup("");
}

static int have(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	if (system(cmd) == 0)
		return 1;
	printf("    (skipped: %s is not installed)\n", tool);
	return 0;
}

static int write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(text, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

void test_sshsig__round_trip(void)
{
	ts_sshsig_key *key = NULL;
	ts_buf sig = TS_BUF_INIT, pub = TS_BUF_INIT;
	char *signer = NULL;

	test_ok(ts_sshsig__key_generate(&key, "bj.dc"));
	test_ok(ts_sshsig__sign(&sig, key, "git", message, strlen(message)));
	test_assert(!strncmp(sig.ptr, "-----BEGIN SSH SIGNATURE-----\n", 30));
	test_assert(strstr(sig.ptr, "\n-----END SSH SIGNATURE-----\n") != NULL);
	test_ok(ts_sshsig__verify(&signer, sig.ptr, sig.size, "git", message, strlen(message)));
	test_ok(ts_sshsig__key_public(&pub, key, 0));
	test_equal_s(signer, pub.ptr);
	/* armor lines are at most 70 columns */
	{
		const char *p = sig.ptr, *nl;
		while ((nl = strchr(p, '\n'))) {
			test_assert(nl - p <= 70 || !strncmp(p, "-----", 5));
			p = nl + 1;
		}
	}
	free(signer);
	ts_buf__dispose(&sig);
	ts_buf__dispose(&pub);
	ts_sshsig__key_free(key);
}

void test_sshsig__tampered_data(void)
{
	ts_sshsig_key *key = NULL, *other = NULL;
	ts_buf sig = TS_BUF_INIT;
	char *signer = (char *)"unchanged", altered[sizeof(message)];

	test_ok(ts_sshsig__key_generate(&key, NULL));
	test_ok(ts_sshsig__key_generate(&other, NULL));
	test_ok(ts_sshsig__sign(&sig, key, "git", message, strlen(message)));
	memcpy(altered, message, sizeof(message));
	altered[5] ^= 1;
	test_equal_i(ts_sshsig__verify(&signer, sig.ptr, sig.size, "git", altered, strlen(altered)), TS_ECORRUPT);
	test_assert(signer == NULL);
	test_assert(strstr(ts_error_last(), "does not match") != NULL);
	test_equal_i(ts_sshsig__verify(NULL, sig.ptr, sig.size, "git", message, strlen(message) - 1), TS_ECORRUPT);
	test_equal_i(ts_sshsig__verify(NULL, sig.ptr, sig.size, "git", "", 0), TS_ECORRUPT);
	ts_buf__dispose(&sig);
	ts_sshsig__key_free(key);
	ts_sshsig__key_free(other);
}

void test_sshsig__wrong_namespace(void)
{
	ts_sshsig_key *key = NULL;
	ts_buf sig = TS_BUF_INIT;

	test_ok(ts_sshsig__key_generate(&key, NULL));
	test_ok(ts_sshsig__sign(&sig, key, "file", message, strlen(message)));
	test_equal_i(ts_sshsig__verify(NULL, sig.ptr, sig.size, "git", message, strlen(message)), TS_ECORRUPT);
	test_assert(strstr(ts_error_last(), "namespace") != NULL);
	test_ok(ts_sshsig__verify(NULL, sig.ptr, sig.size, "file", message, strlen(message)));
	ts_buf__dispose(&sig);
	ts_sshsig__key_free(key);
}

void test_sshsig__damaged_armor(void)
{
	static const char *const garbage[] = {
		"", "-----BEGIN SSH SIGNATURE-----\n", "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAf////8=\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN SSH SIGNATURE-----\nA=AA\n-----END SSH SIGNATURE-----\n",
		"-----BEGIN PGP SIGNATURE-----\nU1NIU0lH\n-----END PGP SIGNATURE-----\n",
	};
	ts_sshsig_key *key = NULL;
	ts_buf sig = TS_BUF_INIT, copy = TS_BUF_INIT;
	size_t i;

	test_ok(ts_sshsig__key_generate(&key, NULL));
	test_ok(ts_sshsig__sign(&sig, key, "git", message, strlen(message)));
	for (i = 0; i < sizeof(garbage) / sizeof(*garbage); i++)
		test_equal_i(ts_sshsig__verify(NULL, garbage[i], strlen(garbage[i]), "git", message,
			strlen(message)), TS_ECORRUPT);
	/* every truncation (but of the last newline), and every byte changed, is refused */
	for (i = 0; i + 1 < sig.size; i++)
		test_equal_i(ts_sshsig__verify(NULL, sig.ptr, i, "git", message, strlen(message)), TS_ECORRUPT);
	for (i = 0; i < sig.size; i++) {
		ts_buf__clear(&copy);
		ts_buf__put(&copy, sig.ptr, sig.size);
		copy.ptr[i] = copy.ptr[i] == 'A' ? 'B' : 'A';
		test_equal_i(ts_sshsig__verify(NULL, copy.ptr, copy.size, "git", message, strlen(message)), TS_ECORRUPT);
	}
	/* bytes after the end line */
	ts_buf__clear(&copy);
	ts_buf__put(&copy, sig.ptr, sig.size);
	ts_buf__puts(&copy, "x");
	test_equal_i(ts_sshsig__verify(NULL, copy.ptr, copy.size, "git", message, strlen(message)), TS_ECORRUPT);
	ts_buf__dispose(&sig);
	ts_buf__dispose(&copy);
	ts_sshsig__key_free(key);
}

void test_sshsig__key_save_load(void)
{
	ts_sshsig_key *key = NULL, *loaded = NULL;
	ts_buf a = TS_BUF_INIT, b = TS_BUF_INIT, sig = TS_BUF_INIT, line = TS_BUF_INIT;
	char *pubfile = NULL, *canon = NULL;
	struct stat st;

	test_ok(ts_sshsig__key_generate(&key, "bj.dc.jingshan"));
	test_ok(ts_sshsig__key_save(key, "id_ed25519"));
	test_assert(stat("id_ed25519", &st) == 0 && (st.st_mode & 0777) == 0600);
	test_ok(ts_sshsig__key_load(&loaded, "id_ed25519"));
	test_ok(ts_sshsig__key_public(&a, key, 1));
	test_ok(ts_sshsig__key_public(&b, loaded, 1));
	test_equal_s(a.ptr, b.ptr);
	test_assert(strstr(a.ptr, " bj.dc.jingshan") != NULL);
	/* the .pub file is the public key line */
	test_assert((pubfile = run("cat id_ed25519.pub")) != NULL);
	ts_buf__printf(&line, "%s\n", a.ptr);
	test_equal_s(pubfile, line.ptr);
	test_ok(ts_sshsig__public_parse(&canon, pubfile));
	ts_buf__clear(&b);
	test_ok(ts_sshsig__key_public(&b, key, 0));
	test_equal_s(canon, b.ptr);
	/* the loaded key signs what the first checks as its own */
	test_ok(ts_sshsig__sign(&sig, loaded, "git", message, strlen(message)));
	test_ok(ts_sshsig__verify(NULL, sig.ptr, sig.size, "git", message, strlen(message)));

	ts_sshsig__key_free(loaded);
	free(canon);
	test_equal_i(ts_sshsig__key_load(&loaded, "nothere"), TS_ENOTFOUND);
	test_assert(loaded == NULL);
	test_ok(write_text("junk", "not a key\n", 10));
	test_equal_i(ts_sshsig__key_load(&loaded, "junk"), TS_EINVALID);
	test_equal_i(ts_sshsig__public_parse(&canon, "ssh-rsa AAAA"), TS_EINVALID);
	test_equal_i(ts_sshsig__public_parse(&canon, "ssh-ed25519 AAAA"), TS_EINVALID);
	test_assert(canon == NULL);
	free(pubfile);
	ts_buf__dispose(&a);
	ts_buf__dispose(&b);
	ts_buf__dispose(&sig);
	ts_buf__dispose(&line);
	ts_sshsig__key_free(key);
}

void test_sshsig__openssh_keys(void)
{
	ts_sshsig_key *key = NULL;
	ts_buf ours = TS_BUF_INIT, sig = TS_BUF_INIT;
	char *theirs = NULL, *canon = NULL, *out = NULL;

	if (!have("ssh-keygen"))
		return;
	test_assert(system("ssh-keygen -q -t ed25519 -N '' -C officer -f plain >/dev/null") == 0);
	test_assert(system("ssh-keygen -q -t ed25519 -N secret -f locked >/dev/null") == 0);
	test_assert(system("ssh-keygen -q -t ecdsa -N '' -f ecdsa >/dev/null") == 0);
	/* a key ssh-keygen made loads, with the public key its .pub holds */
	test_ok(ts_sshsig__key_load(&key, "plain"));
	test_ok(ts_sshsig__key_public(&ours, key, 1));
	test_assert((theirs = run("cat plain.pub")) != NULL);
	theirs[strcspn(theirs, "\n")] = '\0';
	test_equal_s(ours.ptr, theirs);
	/* what it signs, ssh-keygen -Y verify accepts */
	test_ok(ts_sshsig__sign(&sig, key, "file", message, strlen(message)));
	test_ok(write_text("msg", message, strlen(message)));
	test_ok(write_text("msg.sig", sig.ptr, sig.size));
	test_ok(ts_sshsig__public_parse(&canon, theirs));
	{
		char line[256];
		snprintf(line, sizeof(line), "officer %s\n", canon);
		test_ok(write_text("allowed", line, strlen(line)));
	}
	test_assert(system("ssh-keygen -Y verify -f allowed -I officer -n file -s msg.sig < msg >/dev/null 2>&1") == 0);
	/* a key ssh-keygen saves from ours loads there too */
	test_ok(ts_sshsig__key_save(key, "resaved"));
	test_assert((out = run("ssh-keygen -y -f resaved")) != NULL);
	test_assert(!strncmp(out, canon, strlen(canon)));

	ts_sshsig__key_free(key);
	key = NULL;
	test_equal_i(ts_sshsig__key_load(&key, "locked"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "locked is encrypted: tiersync needs an unencrypted Ed25519 key") != NULL);
	test_equal_i(ts_sshsig__key_load(&key, "ecdsa"), TS_EINVALID);
	test_assert(strstr(ts_error_last(), "not an Ed25519 key") != NULL);
	free(theirs);
	free(canon);
	free(out);
	ts_buf__dispose(&ours);
	ts_buf__dispose(&sig);
}

/* A commit made by stock git, in a fresh repository "r". */
#define GIT "git -C r -c user.name=t -c user.email=t@example -c commit.gpgsign=false "

void test_sshsig__commit_signed_here_passes_git(void)
{
	ts_sshsig_key *key = NULL;
	ts_buf pub = TS_BUF_INIT, signed_raw = TS_BUF_INIT, line = TS_BUF_INIT;
	char *raw = NULL, *id = NULL, *signer = NULL, *shown = NULL;

	if (!have("git"))
		return;
	test_assert(system("git init -q r && " GIT "commit -q --allow-empty -m first") == 0);
	test_assert((raw = run("git -C r cat-file commit HEAD")) != NULL);
	test_equal_i(ts_sshsig__commit_check(NULL, raw, strlen(raw)), TS_ENOTFOUND);
	test_ok(ts_sshsig__key_generate(&key, NULL));
	test_ok(ts_sshsig__commit_sign(&signed_raw, key, raw, strlen(raw)));
	test_equal_i(ts_sshsig__commit_sign(&line, key, signed_raw.ptr, signed_raw.size), TS_EINVALID);
	test_ok(ts_sshsig__commit_check(&signer, signed_raw.ptr, signed_raw.size));
	test_ok(ts_sshsig__key_public(&pub, key, 0));
	test_equal_s(signer, pub.ptr);
	test_ok(write_text("signed", signed_raw.ptr, signed_raw.size));
	test_assert((id = run("git -C r hash-object -t commit -w ../signed")) != NULL);
	id[strcspn(id, "\n")] = '\0';
	ts_buf__clear(&line);
	ts_buf__printf(&line, "t namespaces=\"git\" %s\n", pub.ptr);
	test_ok(write_text("allowed", line.ptr, line.size));
	ts_buf__clear(&line);
	ts_buf__printf(&line, "git -C r -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=../allowed "
		"verify-commit %s 2>&1", id);
	shown = run(line.ptr);
	test_assert(shown != NULL);
	test_assert(strstr(shown, "Good \"git\" signature") != NULL);
	/* the message altered, the signature kept: refused */
	signed_raw.ptr[signed_raw.size - 2] ^= 1;
	test_equal_i(ts_sshsig__commit_check(NULL, signed_raw.ptr, signed_raw.size), TS_ECORRUPT);
	free(raw);
	free(id);
	free(signer);
	free(shown);
	ts_buf__dispose(&pub);
	ts_buf__dispose(&signed_raw);
	ts_buf__dispose(&line);
	ts_sshsig__key_free(key);
}

void test_sshsig__commit_signed_by_git_accepted(void)
{
	char *raw = NULL, *signer = NULL, *pub = NULL, *canon = NULL;

	if (!have("git") || !have("ssh-keygen"))
		return;
	test_assert(system("ssh-keygen -q -t ed25519 -N '' -f key >/dev/null && git init -q r && "
		GIT "-c gpg.format=ssh -c user.signingkey=../key.pub commit -q -S --allow-empty "
		"-m 'signed by git' >/dev/null 2>&1") == 0);
	test_assert((raw = run("git -C r cat-file commit HEAD")) != NULL);
	test_assert(strstr(raw, "\ngpgsig -----BEGIN SSH SIGNATURE-----\n") != NULL);
	test_ok(ts_sshsig__commit_check(&signer, raw, strlen(raw)));
	test_assert((pub = run("cat key.pub")) != NULL);
	test_ok(ts_sshsig__public_parse(&canon, pub));
	test_equal_s(signer, canon);
	free(raw);
	free(signer);
	free(pub);
	free(canon);
}

static int count_problems(const ts_verify_problem *p, void *payload)
{
	(void)p;
	(*(int *)payload)++;
	return 0;
}

void test_sshsig__node_signs_its_commits(void)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_CITY, "bj", NULL, "刘洋", NULL };
	ts_node *node = NULL;
	ts_sshsig_key *key = NULL;
	ts_buf pub = TS_BUF_INIT, line = TS_BUF_INIT;
	char head[41], *raw = NULL, *signer = NULL, *signers = NULL, *row = NULL;
	int problems = 0;

	test_ok(ts_node_init(&node, "city", &opts));
	test_ok(ts_sshsig__key_load(&key, "city/id_ed25519"));
	test_ok(ts_sshsig__key_public(&pub, key, 0));
	test_ok(ts_node_head(head, node));
	ts_buf__printf(&line, "git --git-dir city/history.git cat-file commit %s", head);
	test_assert((raw = run(line.ptr)) != NULL);
	test_ok(ts_sshsig__commit_check(&signer, raw, strlen(raw)));
	test_equal_s(signer, pub.ptr);
	/* the city enrolled itself, and allowed_signers says so once */
	test_assert((row = run("sqlite3 city/tiersync.db \"SELECT public_key || ' ' || enrolled_by FROM sync_signers "
		"WHERE node_id = 'bj'\"")) != NULL || !have("sqlite3"));
	if (row) {
		ts_buf__clear(&line);
		ts_buf__printf(&line, "%s bj\n", pub.ptr);
		test_equal_s(row, line.ptr);
	}
	test_assert((signers = run("cat city/allowed_signers")) != NULL);
	ts_buf__clear(&line);
	ts_buf__printf(&line, "bj namespaces=\"git\" %s\n", pub.ptr);
	test_equal_s(signers, line.ptr);
	test_ok(ts_node_signers_refresh(node));
	test_equal_i(ts_node_verify(node, count_problems, &problems), 0);
	test_equal_i(problems, 0);
	free(raw);
	free(signer);
	free(signers);
	free(row);
	ts_buf__dispose(&pub);
	ts_buf__dispose(&line);
	ts_sshsig__key_free(key);
	ts_node_free(node);
}

void test_sshsig__node_made_before_signing_gets_a_key(void)
{
	ts_init_options opts = { TS_INIT_OPTIONS_VERSION, TS_TIER_STREET, "bj.dc.jingshan", NULL, "王伟", NULL };
	ts_node *node = NULL;
	ts_sshsig_key *key = NULL;
	ts_buf pub = TS_BUF_INIT;
	char *signers = NULL;
	int problems = 0;

	test_ok(ts_node_init(&node, "street", &opts));
	ts_node_free(node);
	node = NULL;
	test_assert(remove("street/id_ed25519") == 0 && remove("street/id_ed25519.pub") == 0);
	test_ok(ts_node_open(&node, "street"));
	test_ok(ts_sshsig__key_load(&key, "street/id_ed25519"));
	test_ok(ts_sshsig__key_public(&pub, key, 0));
	test_assert((signers = run("cat street/allowed_signers")) != NULL);
	test_assert(strstr(signers, pub.ptr) != NULL);
	/* its first commit was signed by the key it lost: verify says so */
	test_equal_i(ts_node_verify(node, count_problems, &problems), TS_ECORRUPT);
	test_equal_i(problems, 1);
	free(signers);
	ts_buf__dispose(&pub);
	ts_sshsig__key_free(key);
	ts_node_free(node);
}
