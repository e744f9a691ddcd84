/*
 * What tests that move history between nodes share (nodes.h).
 */
#include <stdio.h>

#include "nodes.h"

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
