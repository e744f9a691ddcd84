/*
 * libFuzzer target: the gate's command parser (ts_gate_parse) on any bytes
 * a client could put in SSH_ORIGINAL_COMMAND. Beyond not crashing, what it
 * accepts must be one of the two services with a non-empty path free of
 * control characters, and quoting that path back as git does must parse to
 * the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tiersync.h"

static char *requote(const ts_gate_request *req)
{
	size_t n = strlen(req->path), i, k = 0;
	char *out = malloc(32 + 4 * n);

	if (!out)
		abort();
	k += (size_t)sprintf(out, "%s '", req->service == TS_GATE_UPLOAD_PACK ? "git-upload-pack" : "git-receive-pack");
	for (i = 0; i < n; i++) {
		if (req->path[i] == '\'' || req->path[i] == '!') {
			out[k++] = '\'';
			out[k++] = '\\';
			out[k++] = req->path[i];
			out[k++] = '\'';
		} else
			out[k++] = req->path[i];
	}
	out[k++] = '\'';
	out[k] = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_gate_request req, again;
	char *command = malloc(size + 1), *quoted;
	const char *p;

	if (!command)
		return 0;
	memcpy(command, data, size);
	command[size] = '\0';
	if (ts_gate_parse(&req, command) == 0) {
		if (req.service != TS_GATE_UPLOAD_PACK && req.service != TS_GATE_RECEIVE_PACK)
			abort();
		if (!req.path[0] || strlen(req.path) >= sizeof(req.path))
			abort();
		for (p = req.path; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
		quoted = requote(&req);
		if (ts_gate_parse(&again, quoted) != 0 || again.service != req.service || strcmp(again.path, req.path))
			abort();
		free(quoted);
	} else if (req.service != 0 || req.path[0] != '\0')
		abort();
	free(command);
	return 0;
}
