/*
 * bench_sshd.c: the sshd on 127.0.0.1 that (e) and (f) push through, run
 * as tests/e2e/lib_sshd.inc runs it. It measures no figure itself.
 *
 * A host key and a user key from ssh-keygen -t ed25519, the user key in
 * authorized_keys (no forced command), `sshd -D -e -f CONFIG` listening on
 * 127.0.0.1 on the first port from 20000 + pid % 10000 that works. It is
 * up when ssh-keyscan on the port returns our host key; that line becomes
 * the street's known_hosts. Only the bench's main process starts and stops
 * it, by its PID: at the end of (f), from atexit (cleanup()), from a fatal
 * signal's handler, and PR_SET_PDEATHSIG should the bench be killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static pid_t sshd_pid;
pid_t main_pid;
int sshd_port;

void sshd_stop(void)
{
	if (sshd_pid > 0 && getpid() == main_pid) {
		kill(sshd_pid, SIGTERM);
		while (waitpid(sshd_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	sshd_pid = 0;
}

void on_fatal_signal(int sig)
{
	if (sshd_pid > 0 && getpid() == main_pid) {
		kill(sshd_pid, SIGTERM);
		waitpid(sshd_pid, NULL, 0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("writing %s: %s", path, strerror(errno));
}

/* The second field of an OpenSSH public key line (the base64 key), in out. */
static int key_field(char *out, size_t size, const char *line, int field)
{
	int i;
	const char *p = line, *end;
	for (i = 0; i < field; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	end = p + strcspn(p, " \n");
	if ((size_t)(end - p) >= size || end == p)
		return -1;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 0;
}

/* Starts sshd -D -e -f CONFIG on 127.0.0.1 in `dir` (host key, user key
 * `dir`/street_key allowed in, config and log there), on the first port
 * from 20000 + pid % 10000 that works, and writes `known_hosts` with its
 * host key once ssh-keyscan finds that key on the port. */
void sshd_start(const char *dir, const char *known_hosts)
{
	char *host_key = path_in(dir, "host_key"), *user_key = path_in(dir, "street_key");
	char *config = path_in(dir, "sshd_config"), *log = path_in(dir, "log"), *scan = path_in(dir, "scan");
	char *auth = path_in(dir, "authorized_keys"), *pub, *host_pub, hostb64[512], port_s[16];
	char *keygen_host[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tiersync-bench-host", "-f", host_key, NULL };
	char *keygen_user[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", STREET_ID, "-f", user_key, NULL };
	char *keyscan[] = { "ssh-keyscan", "-T", "2", "-t", "ed25519", "-p", port_s, "127.0.0.1", NULL };
	int tries, port = 20000 + (int)(getpid() % 10000);

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", dir, strerror(errno));
	if (run_cmd(keygen_host, NULL, log, NULL) != 0 || run_cmd(keygen_user, NULL, log, NULL) != 0)
		die("ssh-keygen failed (see %s)", log);
	{
		char *p = path_in(dir, "street_key.pub"), *h = path_in(dir, "host_key.pub");
		if (!(pub = slurp(p)) || !(host_pub = slurp(h)) || key_field(hostb64, sizeof(hostb64), host_pub, 1) < 0)
			die("reading the generated keys");
		free(p);
		free(h);
	}
	spit(auth, pub);
	if (mkdir("/run/sshd", 0755) < 0 && errno != EEXIST)   /* sshd's privilege separation directory */
		die("mkdir /run/sshd: %s", strerror(errno));
	for (tries = 0; tries < 10; tries++, port++) {
		char text[2048];
		int waited;
		pid_t pid;

		snprintf(text, sizeof(text),
			"Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s/sshd.pid\nAuthorizedKeysFile %s\n"
			"StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
			"PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nUseDNS no\nLogLevel VERBOSE\n",
			port, host_key, dir, auth);
		spit(config, text);
		fflush(NULL);
		if ((pid = fork()) < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			int l = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644), n = open("/dev/null", O_RDONLY);
			prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlives the bench */
			if (getppid() != main_pid || l < 0 || n < 0 || dup2(n, 0) < 0 || dup2(l, 1) < 0 || dup2(l, 2) < 0)
				_exit(126);
			execl(SSHD_BIN, SSHD_BIN, "-D", "-e", "-f", config, (char *)NULL);
			_exit(127);
		}
		sshd_pid = pid;
		snprintf(port_s, sizeof(port_s), "%d", port);
		for (waited = 0; waited < 50; waited++) {
			char *found, *line, b64[512];
			if (waitpid(pid, NULL, WNOHANG) == pid) {
				sshd_pid = 0;   /* it exited: most likely the port is taken */
				break;
			}
			if (run_cmd(keyscan, scan, NULL, NULL) == 0 && (found = slurp(scan))) {
				for (line = found; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
					if (*line != '#' && key_field(b64, sizeof(b64), line, 2) == 0 && !strcmp(b64, hostb64)) {
						size_t len = strcspn(line, "\n");
						char *kh = malloc(len + 2);
						if (!kh)
							die("out of memory");
						memcpy(kh, line, len);
						strcpy(kh + len, "\n");
						spit(known_hosts, kh);
						free(kh);
						free(found);
						sshd_port = port;
						goto started;
					}
				}
				free(found);
			}
			usleep(100 * 1000);
		}
		sshd_stop();
	}
	die("sshd did not start on any of ten ports from %d (see %s)", port - 10, log);
started:
	free(host_key);
	free(user_key);
	free(config);
	free(log);
	free(scan);
	free(auth);
	free(pub);
	free(host_pub);
}
