/*
 * What tests that move history between nodes share (nodes.h).
 */
#include <stdio.h>

#include "harness.h"
#include "nodes.h"
#include "sshsig.h"

int ts_test_transfer(ts_node *from, ts_node *to, const char *ref)
{
	git_remote *remote = NULL;
	char spec[256], url[4096];
	char *specs[1] = { spec };
	git_strarray refspecs = { specs, 1 };
	int error;

	snprintf(url, sizeof(url), "%s/history.git", from->path);
	snprintf(spec, sizeof(spec), "+refs/heads/main:%s", ref);
	if ((error = git_remote_create_anonymous(&remote, ts_store_repo(to->store), url)) < 0)
		return error;
	error = git_remote_fetch(remote, &refspecs, NULL, NULL);
	git_remote_free(remote);
	return error;
}

int ts_test_enroll(ts_node *upper, ts_node *lower)
{
	ts_enroll_options opts = { NULL, "/usr/local/bin/tiersync", NULL };
	ts_buf pub = TS_BUF_INIT, file = TS_BUF_INIT;
	char commit[41];
	int error;

	/* a node without an identity enrolls under its own id */
	opts.author = ts_node_identity(upper) ? NULL : ts_node_id(upper);
	ts_buf_printf(&file, "%s/authorized_keys", ts_test_dir());
	if (ts_buf_oom(&file)) {
		error = ts_error_set(TS_ERROR, "out of memory");
		goto done;
	}
	opts.authorized_keys = file.ptr;
	if ((error = ts_sshsig_key_public(&pub, lower->key, 0)) < 0)
		goto done;
	error = ts_node_enroll(commit, upper, ts_node_id(lower), pub.ptr, &opts);
done:
	ts_buf_dispose(&pub);
	ts_buf_dispose(&file);
	return error;
}
