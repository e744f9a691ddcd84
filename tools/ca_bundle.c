/*
 * The system's CA bundle, left unread.
 *
 * Debian's libgit2 is built over mbedTLS, and git_libgit2_init() parses
 * the whole bundle of trusted CA certificates (/etc/ssl/certs, about 140
 * certificates, 220 KB of base64) for HTTPS. `tiersync` speaks no HTTPS:
 * its remote URLs are paths, file:// and ssh:// (sync/remote.c refuses any
 * other), and SSH trusts host keys, not certificates. Yet the parse was
 * about a fifth of every short command's time (docs/BENCH.md, "Process
 * start"), and libgit2 1.5 has no option to skip it: its options set the
 * locations only after init has parsed the default one.
 *
 * So this program defines mbedTLS's file parser itself. The dynamic linker
 * binds libgit2's call to the executable's definition before the library's,
 * and the one call libgit2 makes (at init, with its compiled-in default)
 * leaves the chain empty. Should a TLS connection ever be made, it would
 * trust no certificate and fail: nothing is trusted that was not checked.
 * Only this executable is affected; the library, linked into another
 * program, leaves that program's HTTPS as libgit2 makes it.
 */
struct mbedtls_x509_crt;

int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path);

/* The number of certificates that failed to parse, as mbedTLS's returns:
 * none, for none were read. The chain stays as libgit2 initialised it. */
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}
