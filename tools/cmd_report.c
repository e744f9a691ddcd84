/*
 * tiersync report: the plan's figures for the node's jurisdiction, in total
 * and per child unit (node/report.c; definitions in docs/REPORT.md).
 */
#include "commands.h"
#include "tiersync.h"

int cmd_report(ts_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "unit", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 }
	};
	const char *period = NULL, *unit = NULL;
	char from[32], to[32];
	ts_report *report = NULL;
	int c, help = 0, json = 0;

	while ((c = ts_cli_getopt(cli, argc, argv, opts, &help)) != -1) {
		switch (c) {
		case 'p': period = optarg; break;
		case 'u': unit = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return ts_cli_usage(cli, "unexpected argument %s", argv[optind]);
	if (period) {
		if (ts_report_period(from, to, period) < 0)
			return ts_cli_usage(cli, "%s", ts_error_last());
	} else
		ts_report_this_year(from, to);
	if (ts_report_compute(&report, cli->node, unit, from, to) < 0)
		return ts_cli_fail();
	if (json)
		ts_report_write_json(stdout, report);
	else
		ts_report_write_text(stdout, report);
	ts_report_free(report);
	return 0;
}
