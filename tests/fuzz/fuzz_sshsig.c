/*
 * Fuzz target for SSH signatures (sync/sshsig.c): the input is read as an
 * armored signature over a fixed message, as a raw commit whose gpgsig
 * header is split off and checked, as a public key line and as a private
 * key file. None of them may crash, read out of bounds or leak, whatever
 * the bytes; a verdict other than "refused" is only possible for input
 * that really is a valid signature.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshsig.h"
#include "tiersync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char message[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbbecc94\n";
	const char *text = (const char *)data;
	ts_sshsig_key *key = NULL;
	char *signer = NULL, *line;

	if (ts_sshsig__verify(&signer, text, size, TS_SSHSIG_GIT_NAMESPACE, message, strlen(message)) == 0 &&
	    strncmp(signer, "ssh-ed25519 ", 12))
		abort();
	free(signer);
	signer = NULL;
	if (ts_sshsig__commit_check(&signer, text, size) == 0 && !signer)
		abort();
	free(signer);
	if (ts_sshsig__key_parse(&key, "input", text, size) == 0 && !key)
		abort();
	ts_sshsig__key_free(key);
	/* a public key line is text: up to the first NUL */
	if ((line = malloc(size + 1))) {
		memcpy(line, data, size);
		line[size] = '\0';
		if (ts_sshsig__public_parse(&signer, line) == 0)
			free(signer);
		free(line);
	}
	return 0;
}
