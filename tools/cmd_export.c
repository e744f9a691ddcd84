/*
 * tiersync export: the files the service's outward systems read — the
 * public disclosure of penalty decisions (四公开), the final decisions with
 * their parties for the social credit system (社会信用体系), and the cases'
 * places as GeoJSON for the city-management map (城管地图). The library
 * makes the bytes (ts_export_write, node/export.c; formats in
 * docs/EXPORTS.md); this file picks where they go: stdout, or with -o a
 * temporary file beside FILE renamed over it once the export is whole, so
 * that a failed export leaves no partial file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"

static int to_stream(const char *bytes, size_t len, void *payload)
{
	return fwrite(bytes, 1, len, payload) == len ? 0 : 1;
}

/* Opens a temporary file beside `path` (its name plus ".XXXXXX"). The
 * credit export holds identity numbers: its file stays readable by its
 * owner only; the others take the usual mode. */
static FILE *open_temp(char **tmp, const char *path, int private_data)
{
	mode_t mask;
	FILE *f;
	int fd;

	if (!(*tmp = malloc(strlen(path) + 8)))
		return NULL;
	sprintf(*tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(*tmp)) < 0) {
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	if (!private_data) {
		mask = umask(0);
		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		unlink(*tmp);
	}
	return f;
}

/* Closes the temporary file durably and renames it to `path`; on any
 * failure removes it. */
static int finish_temp(FILE *f, const char *tmp, const char *path, int ok)
{
	if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok)
		unlink(tmp);
	return ok;
}

int cmd_export(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "unit", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ 0, 0, 0, 0 }
	};
	ts_export_options o = TS_EXPORT_OPTIONS_INIT;
	ts_export_stats stats;
	ts_export_kind kind;
	const char *period = NULL, *format = NULL, *path = NULL, *what;
	char from[32], to[32], *tmp = NULL;
	FILE *out = stdout;
	int c, i, help = 0, json = 0, error, saved_errno = 0;

	if (argc < 2 || argv[1][0] == '-')
		return ts_cli_usage(cli, "name an export: disclosure, credit or geojson");
	what = argv[1];
	if (!strcmp(what, "disclosure"))
		kind = TS_EXPORT_DISCLOSURE;
	else if (!strcmp(what, "credit"))
		kind = TS_EXPORT_CREDIT;
	else if (!strcmp(what, "geojson"))
		kind = TS_EXPORT_GEOJSON;
	else
		return ts_cli_usage(cli, "no export named '%s': disclosure, credit or geojson", what);
	argc--;
	argv++;
	/* -o FILE, as the usage shows it, is --output FILE (but not the value
	 * of another option, e.g. --unit -o) */
	for (i = 1; i < argc; i++) {
		const struct option *opt;
		if (!strcmp(argv[i], "-o")) {
			argv[i] = "--output";
			i++;
			continue;
		}
		for (opt = opts; opt->name && !strncmp(argv[i], "--", 2); opt++)
			if (opt->has_arg == required_argument && !strcmp(argv[i] + 2, opt->name)) {
				i++;
				break;
			}
	}
	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'p': period = optarg; break;
		case 'u': o.unit = optarg; break;
		case 'f': format = optarg; break;
		case 'j': json = 1; break;
		case 'o': path = optarg; break;
		default: return 2;
		}
	}
	if (help)
		return 0;
	if (optind < argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (format && kind == TS_EXPORT_GEOJSON)
		return ts_cli_usage(cli, "geojson has one format; --format is for disclosure and credit");
	if (json && format && strcmp(format, "json"))
		return ts_cli_usage(cli, "--json and --format %s disagree", format);
	if (json || (format && !strcmp(format, "json")))
		o.format = TS_EXPORT_JSON;
	else if (format && strcmp(format, "csv"))
		return ts_cli_usage(cli, "--format takes csv or json, not '%s'", format);
	if (path && !*path)
		return ts_cli_usage(cli, "-o takes a file name");
	/* the period as `report --period` reads it */
	if (period) {
		if (ts_report_period(from, to, period) < 0)
			return ts_cli_usage(cli, "%s", ts_error_last());
	} else
		ts_report_this_year(from, to);
	o.from = from;
	o.to = to;

	if (path && !(out = open_temp(&tmp, path, kind == TS_EXPORT_CREDIT))) {
		fprintf(stderr, "tiersync: cannot write %s: %s\n", path, strerror(errno));
		free(tmp);
		return 1;
	}
	error = ts_export_write(&stats, cli->node, kind, &o, to_stream, out);
	if (error > 0)
		saved_errno = errno;
	if (path) {
		if (!finish_temp(out, tmp, path, error == 0) && error == 0) {
			error = 1;
			saved_errno = errno;
		}
		free(tmp);
	} else if (fflush(stdout) != 0 && error == 0) {
		error = 1;
		saved_errno = errno;
	}
	if (error < 0)
		return ts_cli_fail(cli);
	if (error > 0) {
		fprintf(stderr, "tiersync: cannot write %s: %s\n", path ? path : "the export",
			saved_errno ? strerror(saved_errno) : "write failed");
		return 1;
	}
	if (kind == TS_EXPORT_CREDIT && stats.without_party > 0)
		fprintf(stderr, "tiersync: warning: %lld final decision%s in the period %s no party recorded "
			"and %s not in the export\n", (long long)stats.without_party,
			stats.without_party == 1 ? "" : "s", stats.without_party == 1 ? "has" : "have",
			stats.without_party == 1 ? "is" : "are");
	return 0;
}
