/*
 * faultproxy: a loopback TCP proxy that breaks connections on purpose, for
 * the fault tests (tests/e2e/faults.sh).
 *
 *   faultproxy --to PORT [--listen PORT] [--seed N] [--mode pass|cut|stall|random]
 *              [--max-offset N|UP,DOWN] [--stall-ms N] [--max-seconds N] [--log FILE]
 *
 * It listens on 127.0.0.1 (never another address) and forwards each
 * connection it accepts to the target port on 127.0.0.1. What it does to a
 * connection is drawn from the seed and the connection's number, so a run
 * repeats exactly:
 *
 *   pass    forwards everything, both ways, until either side closes;
 *   cut     picks a direction ("up": client to target, "down": back) and a
 *           byte offset in it, forwards up to that byte and then closes
 *           both sides at once (with a TCP reset or a plain close, also
 *           drawn), as a link that drops mid-transfer;
 *   stall   at such an offset stops forwarding for --stall-ms (default
 *           drawn from 100 to 1500 ms), then either cuts or resumes;
 *   random  one of the three per connection (pass 20 %, cut 50 %, stall 30 %).
 *
 * The offset is drawn from 0 up to the most bytes seen so far in that
 * direction on one connection of this run ("up to the total so far"), or
 * up to --max-offset when it is given (one bound for both directions, or
 * UP,DOWN); before any connection has finished the bound is 64 KiB. An
 * offset the connection never reaches leaves it whole ("not-reached").
 *
 * With --listen 0 (the default) the kernel picks a free port; the port is
 * printed on stdout as "listening on PORT" once the proxy accepts. The
 * proxy exits after --max-seconds (default 60), whatever it is doing, so
 * that a forgotten one cannot outlive its test; SIGTERM ends it too.
 *
 * --log FILE gets one line per connection when it ends:
 *   conn N plan=cut dir=up offset=1234 did=cut up=1234 down=5678 ms=42
 * where did is pass, cut, reset (a cut by TCP reset), stall-cut,
 * stall-resume or not-reached, and up/down are the bytes forwarded.
 *
 * Plain C and POSIX: one process, one poll loop, no threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 32
#define BUF_SIZE 16384
#define DEFAULT_SPAN 65536

enum mode { MODE_PASS, MODE_CUT, MODE_STALL, MODE_RANDOM };
static const char *const mode_names[] = { "pass", "cut", "stall", "random" };

enum { UP, DOWN };   /* client -> target, target -> client */

typedef struct {
	int fd[2];                 /* fd[UP] the client, fd[DOWN] the target */
	char buf[2][BUF_SIZE];     /* bytes read in a direction, not yet written */
	size_t len[2], off[2];
	int eof[2];                /* the reading side of a direction has closed */
	int shut[2];               /* ...and that close was passed on */
	uint64_t moved[2];         /* bytes forwarded per direction */
	unsigned number;
	enum mode plan;
	int dir;                   /* the direction the offset counts in */
	uint64_t offset;
	int reset;                 /* cut with a TCP reset rather than a close */
	int resume;                /* a stall resumes rather than cuts */
	int stall_ms;
	int64_t stalled_until;     /* ms clock; 0: not stalled */
	int stalled;               /* the stall has happened */
	int64_t began;
	const char *did;
} conn;

static volatile sig_atomic_t stop;
static FILE *log_file;
static uint64_t seen[2];       /* most bytes seen per direction on one connection */
static uint64_t span_given[2];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: small, and the same on every machine */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void usage(FILE *to)
{
	fputs("usage: faultproxy --to PORT [--listen PORT] [--seed N] [--mode pass|cut|stall|random]\n"
	      "                  [--max-offset N|UP,DOWN] [--stall-ms N] [--max-seconds N] [--log FILE]\n"
	      "\n"
	      "A loopback TCP proxy for fault tests: forwards connections on 127.0.0.1:PORT\n"
	      "(--listen, 0 or absent: any free port, printed as \"listening on PORT\") to\n"
	      "127.0.0.1:PORT (--to), and per connection, drawn from --seed (default 1):\n"
	      "  pass    forwards everything\n"
	      "  cut     closes both sides after a random byte offset in a random direction\n"
	      "  stall   stops forwarding at such an offset for --stall-ms, then cuts or resumes\n"
	      "  random  one of those per connection (the default mode)\n"
	      "Offsets go up to the most bytes seen so far in that direction on one\n"
	      "connection (64 KiB before any), or up to --max-offset.\n"
	      "Only 127.0.0.1 is served or reached: PORT may be written 127.0.0.1:PORT, any\n"
	      "other address is refused. Exits after --max-seconds (default 60).\n"
	      "--log FILE: one line per connection: its plan, offset, what it did, bytes.\n", to);
}

/* PORT or 127.0.0.1:PORT; any other host is refused. */
static int parse_port(const char *text, const char *flag, int *out)
{
	const char *colon = strrchr(text, ':');
	char *end;
	long port;

	if (colon) {
		if ((size_t)(colon - text) != strlen("127.0.0.1") || strncmp(text, "127.0.0.1", 9) != 0) {
			fprintf(stderr, "faultproxy: %s %s: only 127.0.0.1 is allowed\n", flag, text);
			return -1;
		}
		text = colon + 1;
	}
	errno = 0;
	port = strtol(text, &end, 10);
	if (errno || end == text || *end || port < 0 || port > 65535) {
		fprintf(stderr, "faultproxy: %s takes a port number, not %s\n", flag, text);
		return -1;
	}
	*out = (int)port;
	return 0;
}

static int parse_number(const char *text, const char *flag, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || n < min || n > max) {
		fprintf(stderr, "faultproxy: %s takes a number from %llu to %llu, not %s\n", flag,
			(unsigned long long)min, (unsigned long long)max, text);
		return -1;
	}
	*out = n;
	return 0;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void close_fd(int fd, int reset)
{
	if (fd < 0)
		return;
	if (reset) {
		struct linger l = { 1, 0 };   /* close sends RST, drops what is queued */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(fd);
}

/* Draws what happens to connection c, from the seed and its number. */
static void plan(conn *c, enum mode mode, uint64_t seed, int stall_ms)
{
	uint64_t state = seed * 1000003ULL + c->number, span;
	unsigned pick;

	next_random(&state);
	c->plan = mode;
	if (mode == MODE_RANDOM) {
		pick = (unsigned)(next_random(&state) % 10);
		c->plan = pick < 2 ? MODE_PASS : pick < 7 ? MODE_CUT : MODE_STALL;
	}
	c->dir = (int)(next_random(&state) % 2);
	span = span_given[c->dir] ? span_given[c->dir] : seen[c->dir] ? seen[c->dir] : DEFAULT_SPAN;
	c->offset = next_random(&state) % (span + 1);
	c->reset = (int)(next_random(&state) % 2);
	c->resume = (int)(next_random(&state) % 2);
	c->stall_ms = stall_ms > 0 ? stall_ms : 100 + (int)(next_random(&state) % 1401);
	c->did = c->plan == MODE_PASS ? "pass" : "not-reached";
}

static void finish(conn *c, int reset)
{
	int d;

	close_fd(c->fd[UP], reset);
	close_fd(c->fd[DOWN], reset);
	c->fd[UP] = c->fd[DOWN] = -1;
	for (d = UP; d <= DOWN; d++)
		if (c->moved[d] > seen[d])
			seen[d] = c->moved[d];
	if (log_file) {
		fprintf(log_file, "conn %u plan=%s", c->number, mode_names[c->plan]);
		if (c->plan != MODE_PASS) {
			fprintf(log_file, " dir=%s offset=%llu", c->dir == UP ? "up" : "down",
				(unsigned long long)c->offset);
			if (c->plan == MODE_STALL)
				fprintf(log_file, " stall_ms=%d", c->stall_ms);
		}
		fprintf(log_file, " did=%s up=%llu down=%llu ms=%lld\n", c->did,
			(unsigned long long)c->moved[UP], (unsigned long long)c->moved[DOWN],
			(long long)(now_ms() - c->began));
		fflush(log_file);
	}
}

/* The cut or the stall, once the offset's byte has gone through. */
static void at_offset(conn *c)
{
	if (c->plan == MODE_CUT) {
		c->did = c->reset ? "reset" : "cut";
		finish(c, c->reset);
	} else if (c->plan == MODE_STALL && !c->stalled) {
		c->stalled = 1;
		c->stalled_until = now_ms() + c->stall_ms;
		c->did = c->resume ? "stall-resume" : "stall-cut";
	}
}

static int offset_reached(const conn *c)
{
	return c->plan != MODE_PASS && !(c->plan == MODE_STALL && c->stalled) && c->moved[c->dir] >= c->offset;
}

/* Reads what direction d may carry now: never past the planned offset. */
static void read_side(conn *c, int d)
{
	size_t room = BUF_SIZE;
	ssize_t n;

	if (c->plan != MODE_PASS && d == c->dir && !(c->plan == MODE_STALL && c->stalled)) {
		uint64_t left = c->offset - c->moved[d];
		if (left < room)
			room = (size_t)left;
		if (!room)
			return;   /* the offset is reached: the cut or stall comes first */
	}
	n = read(c->fd[d], c->buf[d], room);
	if (n > 0) {
		c->len[d] = (size_t)n;
		c->off[d] = 0;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->eof[d] = 1;
	}
}

static void write_side(conn *c, int d)
{
	int to = d == UP ? c->fd[DOWN] : c->fd[UP];
	ssize_t n = write(to, c->buf[d] + c->off[d], c->len[d] - c->off[d]);

	if (n > 0) {
		c->off[d] += (size_t)n;
		c->moved[d] += (uint64_t)n;
		if (c->off[d] == c->len[d])
			c->len[d] = c->off[d] = 0;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		/* the receiving side is gone: nothing more moves either way */
		c->eof[UP] = c->eof[DOWN] = 1;
		c->len[UP] = c->len[DOWN] = 0;
		c->off[UP] = c->off[DOWN] = 0;
	}
}

int main(int argc, char **argv)
{
	static conn conns[MAX_CONNS];
	int listen_port = 0, to_port = -1, stall_ms = 0, listener, i, one = 1;
	uint64_t seed = 1, max_seconds = 60, n;
	enum mode mode = MODE_RANDOM;
	const char *log_path = NULL;
	unsigned accepted = 0;
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof(addr);
	int64_t deadline;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!value) {
			fprintf(stderr, "faultproxy: %s needs a value (see --help)\n", arg);
			return 2;
		}
		i++;
		if (!strcmp(arg, "--listen")) {
			if (parse_port(value, arg, &listen_port) < 0)
				return 2;
		} else if (!strcmp(arg, "--to")) {
			if (parse_port(value, arg, &to_port) < 0)
				return 2;
		} else if (!strcmp(arg, "--seed")) {
			if (parse_number(value, arg, 0, UINT64_MAX, &seed) < 0)
				return 2;
		} else if (!strcmp(arg, "--mode")) {
			for (mode = MODE_PASS; mode <= MODE_RANDOM; mode++)
				if (!strcmp(value, mode_names[mode]))
					break;
			if (mode > MODE_RANDOM) {
				fprintf(stderr, "faultproxy: --mode is pass, cut, stall or random, not %s\n", value);
				return 2;
			}
		} else if (!strcmp(arg, "--max-offset")) {
			const char *comma = strchr(value, ',');
			char up[32];
			if (!comma) {
				if (parse_number(value, arg, 1, UINT32_MAX, &span_given[UP]) < 0)
					return 2;
				span_given[DOWN] = span_given[UP];
			} else {
				snprintf(up, sizeof(up), "%.*s", (int)(comma - value), value);
				if (parse_number(up, arg, 1, UINT32_MAX, &span_given[UP]) < 0 ||
				    parse_number(comma + 1, arg, 1, UINT32_MAX, &span_given[DOWN]) < 0)
					return 2;
			}
		} else if (!strcmp(arg, "--stall-ms")) {
			if (parse_number(value, arg, 1, 600000, &n) < 0)
				return 2;
			stall_ms = (int)n;
		} else if (!strcmp(arg, "--max-seconds")) {
			if (parse_number(value, arg, 1, 86400, &max_seconds) < 0)
				return 2;
		} else if (!strcmp(arg, "--log")) {
			log_path = value;
		} else {
			fprintf(stderr, "faultproxy: unknown option %s (see --help)\n", arg);
			return 2;
		}
	}
	if (to_port <= 0) {
		fprintf(stderr, "faultproxy: --to PORT is required (see --help)\n");
		return 2;
	}
	if (log_path && !(log_file = fopen(log_path, "a"))) {
		fprintf(stderr, "faultproxy: cannot open %s: %s\n", log_path, strerror(errno));
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGALRM, on_signal);
	alarm((unsigned)max_seconds + 1);   /* a backstop should poll's clock be starved */
	deadline = now_ms() + (int64_t)max_seconds * 1000;

	addr = loopback(listen_port);
	if ((listener = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(listener, 16) < 0 ||
	    getsockname(listener, (struct sockaddr *)&addr, &addr_len) < 0) {
		fprintf(stderr, "faultproxy: cannot listen on 127.0.0.1:%d: %s\n", listen_port, strerror(errno));
		return 1;
	}
	set_nonblocking(listener);
	printf("listening on %d\n", ntohs(addr.sin_port));
	fflush(stdout);
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd[UP] = conns[i].fd[DOWN] = -1;

	while (!stop && now_ms() < deadline) {
		struct pollfd fds[1 + 2 * MAX_CONNS];
		int slot[1 + 2 * MAX_CONNS], nfds = 0, timeout = (int)(deadline - now_ms()), d;
		int64_t now = now_ms();

		fds[nfds].fd = listener;
		fds[nfds].events = POLLIN;
		slot[nfds++] = -1;
		for (i = 0; i < MAX_CONNS; i++) {
			conn *c = &conns[i];
			if (c->fd[UP] < 0)
				continue;
			if (c->stalled_until) {
				if (now < c->stalled_until) {
					if (c->stalled_until - now < timeout)
						timeout = (int)(c->stalled_until - now);
					continue;   /* a stall forwards nothing either way */
				}
				c->stalled_until = 0;
				if (!c->resume) {
					finish(c, c->reset);
					continue;
				}
			}
			for (d = UP; d <= DOWN; d++) {
				int from = c->fd[d], to = c->fd[!d];
				if (c->len[d]) {
					fds[nfds].fd = to;
					fds[nfds].events = POLLOUT;
				} else if (!c->eof[d]) {
					fds[nfds].fd = from;
					fds[nfds].events = POLLIN;
				} else {
					continue;
				}
				slot[nfds++] = i * 2 + d;
			}
		}
		if (poll(fds, (nfds_t)nfds, timeout < 0 ? 0 : timeout) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "faultproxy: poll: %s\n", strerror(errno));
			break;
		}
		for (i = 1; i < nfds; i++) {
			conn *c = &conns[slot[i] / 2];
			d = slot[i] % 2;
			if (c->fd[UP] < 0 || c->stalled_until || !fds[i].revents)
				continue;
			if (fds[i].events & POLLOUT) {
				write_side(c, d);
				if (offset_reached(c) && d == c->dir && !c->len[d])
					at_offset(c);
			} else {
				read_side(c, d);
			}
		}
		for (i = 0; i < MAX_CONNS; i++) {
			conn *c = &conns[i];
			if (c->fd[UP] < 0)
				continue;
			/* an offset of 0 cuts or stalls before the first byte */
			if (offset_reached(c) && !c->len[c->dir]) {
				at_offset(c);
				if (c->fd[UP] < 0)
					continue;
			}
			/* a side that closed, its last bytes handed over: pass the close on */
			for (d = UP; d <= DOWN; d++) {
				if (c->eof[d] && !c->len[d] && !c->shut[d]) {
					shutdown(c->fd[!d], SHUT_WR);
					c->shut[d] = 1;
				}
			}
			if (c->shut[UP] && c->shut[DOWN])
				finish(c, 0);
		}
		if (fds[0].revents & POLLIN) {
			int client = accept(listener, NULL, NULL), target;
			struct sockaddr_in to = loopback(to_port);
			conn *c = NULL;

			if (client < 0)
				continue;
			for (i = 0; i < MAX_CONNS && !c; i++)
				if (conns[i].fd[UP] < 0)
					c = &conns[i];
			if (!c || (target = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
				close(client);
				continue;
			}
			if (connect(target, (struct sockaddr *)&to, sizeof(to)) < 0) {
				close(target);
				close(client);
				continue;
			}
			memset(c, 0, sizeof(*c));
			c->fd[UP] = client;
			c->fd[DOWN] = target;
			c->number = ++accepted;
			c->began = now_ms();
			setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			setsockopt(target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			set_nonblocking(client);
			set_nonblocking(target);
			plan(c, mode, seed, stall_ms);
		}
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd[UP] >= 0)
			finish(&conns[i], 0);
	close(listener);
	if (log_file)
		fclose(log_file);
	return 0;
}
