/*
 * tiersync: the command-line interface. A git-style table of subcommands;
 * each lives in tools/cmd_<name>.c. Only this file calls exit().
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

#define TS_VERSION "0.1.0"

const ts_cli_command ts_cli_commands[] = {
	{ "init", cmd_init, 0,
	  "tiersync init DIR --tier device|street|district|city --id NODE_ID [--upstream URL] [--identity KEYFILE]\n"
	  "       [--author NAME]",
	  "Create a node: a case database, its history and its config.",
	  "  --tier T           the node's tier: city, district, street or device\n"
	  "  --id ID            the node id, dot-separated from the city down, e.g. bj.dc.jingshan\n"
	  "  --upstream URL     the upper node (its directory or history.git: a path, file:// or\n"
	  "                     ssh://[user@]host[:port]/path), as remote 'upstream'; a relative\n"
	  "                     path is taken from the current directory and stored absolute\n"
	  "  --identity KEYFILE the node's unencrypted Ed25519 key: it signs the node's commits and\n"
	  "                     logs in to an ssh:// upstream (default: a new key, DIR/id_ed25519)\n"
	  "  --author NAME      the node's identity: the default author of its changes (a real name)\n" },
	{ "case", cmd_case, 1,
	  "tiersync case new --category C --source S --address A [--patrol ID] [--set COL=VALUE]... [--author NAME]\n"
	  "                                                                 [--json]\n"
	  "       tiersync case update ID --set COL=VALUE [--set COL=VALUE]... [--author NAME] [--json]\n"
	  "       tiersync case show ID [--json]\n"
	  "       tiersync case list [--status S] [--overdue] [--json]\n"
	  "       tiersync case dispatch ID --officer NAME [--note TEXT] [--author NAME] [--json]\n"
	  "       tiersync case educate|warn|penalize|file|file-up|execute|feedback|close ID [--note TEXT]\n"
	  "                                                                 [--author NAME] [--json]\n"
	  "       tiersync case decide ID --basis TEXT --amount YUAN [--major] [--note TEXT] [--author NAME] [--json]\n"
	  "       tiersync case review ID --approve|--reject [--reviewer NAME] [--note TEXT] [--author NAME] [--json]\n"
	  "       tiersync case transfer ID --to DEPARTMENT [--note TEXT] [--author NAME] [--json]\n"
	  "       tiersync case visit ID --satisfaction S [--note TEXT] [--author NAME] [--json]\n"
	  "       tiersync case rules [--json]\n"
	  "       tiersync case rules [--major-threshold YUAN] [--review-tier city|district]\n"
	  "                           [--deadline CATEGORY=DAYS]... [--immediate-penalty CATEGORY=yes|no]...\n"
	  "                           [--author NAME]\n"
	  "       tiersync case filings [--pending] [--json]\n"
	  "       tiersync case file-up-ack ID [--note TEXT] [--author NAME] [--json]",
	  "Record cases and take them through their lifecycle. Each change is staged durably until `commit`.",
	  "  --category C    one of the codes in the categories table (tiersync sql \"SELECT code FROM categories\")\n"
	  "  --source S      patrol, complaint, video, referral, media or supervision\n"
	  "  --address A     where the case is\n"
	  "  --patrol ID     new: the patrol the case was found on (its source is then patrol, the\n"
	  "                  default); the patrol counts it ('tiersync patrol show ID')\n"
	  "  --set COL=VALUE set a column that is not part of the lifecycle (description, address, lng,\n"
	  "                  lat, complainant_name, complainant_phone, key_area_id, event_id); VALUE\n"
	  "                  'NULL' clears it. Closed and transferred cases are not edited.\n"
	  "  --author NAME   the officer making the change, by real name (else the node's identity)\n"
	  "  --overdue       only open cases past their deadline\n"
	  "  --officer NAME  dispatch: the officer who takes the case and stays responsible\n"
	  "  --note TEXT     a remark recorded with the step's event\n"
	  "  --basis TEXT    decide: the legal basis of the penalty\n"
	  "  --amount YUAN   decide: the fine in yuan (e.g. 200 or 1234.50), stored in fen\n"
	  "  --major         decide: a major penalty case whatever the amount\n"
	  "  --approve, --reject  review: the legal review's decision\n"
	  "  --reviewer NAME review: the reviewer's real name (default: --author)\n"
	  "  --to DEPARTMENT transfer: the department or police the case goes to\n"
	  "  --satisfaction S visit: satisfied, basically_satisfied or dissatisfied\n"
	  "  --review-tier T rules: the tier that makes the legal review, city or district\n"
	  "  --pending       filings: only those not acknowledged yet\n"
	  "  --json          machine-readable output\n\n"
	  "The steps: dispatch -> educate -> warn -> penalize (the three-step method; categories the\n"
	  "rules allow may be penalized at once) -> file -> decide -> review and file-up (major cases)\n"
	  "-> execute; feedback after the on-site handling; visit (complaint cases); close. transfer\n"
	  "hands an open case to another department. A step the case's state or the rules do not\n"
	  "allow is refused with the reason (exit 1). Each step is a case event with the author's name.\n"
	  "The legal review is made on a node of the reviewing tier (a district by default) that holds\n"
	  "the case, by someone other than who decided it. file-up files a major case with the higher\n"
	  "tier; there, filings lists them and file-up-ack acknowledges one.\n\n"
	  "rules shows the rules in force here; with options, a city or district node sets them for\n"
	  "its own jurisdiction: the major-case threshold, the reviewing tier, deadline days and\n"
	  "immediate penalty per category. See docs/LIFECYCLE.md.\n" },
	{ "evidence", cmd_evidence, 1,
	  "tiersync evidence add CASE FILE [--kind photo|video|bodycam|document] [--media-type T]\n"
	  "       [--lng X --lat Y] [--note TEXT] [--author NAME] [--json]\n"
	  "       tiersync evidence list CASE [--json]\n"
	  "       tiersync evidence get CASE SHA256 -o FILE [--json]",
	  "Keep photos, video and documents of a case in history by content (SHA-256).",
	  "  --kind K         photo, video, bodycam or document (default: from the media type)\n"
	  "  --media-type T   e.g. image/jpeg (default: from the file name's extension)\n"
	  "  --lng X --lat Y  where it was captured, in degrees\n"
	  "  --note TEXT      what it shows\n"
	  "  --author NAME    who captured it (else the node's identity)\n"
	  "  -o FILE          get: where to write the content; it is checked against its SHA-256\n"
	  "                   on the way and appears at FILE only once whole and correct\n"
	  "  --json           machine-readable output\n\n"
	  "add stores the file in the node's history (streamed: files of any size), and stages\n"
	  "the evidence row and an 'evidence' case event; the next commit carries all three.\n"
	  "The same content twice in one case is refused. SHA256 may be its first 8 or more digits.\n" },
	{ "status", cmd_status, 1, "tiersync status [--json]",
	  "Where the node stands: its remotes, submissions waiting, open conflicts, staged writes.",
	  "  --json          machine-readable output\n\n"
	  "Per remote: the last push and fetch that went through, the commits of main the remote is\n"
	  "not known to hold, and those of its main (as last fetched) this node lacks. Nothing is asked\n"
	  "over the network: 'tiersync fetch' brings the remote's side up to date. On an upper node,\n"
	  "the submissions holding commits its main lacks (urgent reports first), then the number of\n"
	  "conflicts open for review, then the staged writes not yet committed.\n" },
	{ "commit", cmd_commit, 1, "tiersync commit -m MESSAGE [--author NAME] [--json]",
	  "Turn every staged write into one history commit.",
	  "  -m MESSAGE      the commit message\n"
	  "  --author NAME   the author (default: the authors of the staged writes)\n" },
	{ "restore", cmd_restore, 1,
	  "tiersync restore ID... [--author NAME] [--json]\n"
	  "       tiersync restore --all [--author NAME] [--json]\n"
	  "       tiersync restore --list [--json]",
	  "Take back staged writes that are not yet committed; list those taken back.",
	  "  ID              a staged write's number, as 'tiersync status' shows it\n"
	  "  --all           every staged write\n"
	  "  --author NAME   who takes them back (else the node's identity)\n"
	  "  --list          the writes taken back at this node: each write whole, who took it\n"
	  "                  back and when\n"
	  "  --json          machine-readable output\n\n"
	  "The writes go back newest first, in one transaction: the database returns to what it\n"
	  "was before them, and each is kept in the node's record of writes taken back (the\n"
	  "table ts_restored), never silently dropped. History is not touched: the next commit\n"
	  "carries the writes still staged. A write that a later staged write changed a row of\n"
	  "is taken back only with that later write (name both, or give --all); one whose rows\n"
	  "a merge changed since is refused. Either way nothing changes (exit 1).\n" },
	{ "log", cmd_log, 1, "tiersync log [--case ID] [-n N] [--json]",
	  "Show the history, newest first: who changed what, when, on which node.",
	  "  --case ID       only commits that touched this case or its records\n"
	  "  -n N            at most N commits\n"
	  "  --json          machine-readable output\n" },
	{ "diff", cmd_diff, 1, "tiersync diff [REV [REV]] [--json]",
	  "Show row and column changes between two commits (default: HEAD~1 HEAD), old -> new.",
	  "  REV             a commit: HEAD, HEAD~2, an id or its first digits\n"
	  "  (no REV)        HEAD~1 against HEAD; one REV: REV against HEAD\n"
	  "  --json          machine-readable; values keep their types, NULL is null\n" },
	{ "blame", cmd_blame, 1, "tiersync blame TABLE KEY [--json]",
	  "For each column of one row: the commit, author and time that set its value.",
	  "  TABLE KEY       a synced table and the row's primary key as written (single-column keys)\n"
	  "  --json          machine-readable output\n"
	  "Blame reads committed history; staged writes appear once committed.\n" },
	{ "verify", cmd_verify, 1, "tiersync verify [--json]",
	  "Check that the database equals its history (plus staged writes); exit 1 naming each difference.",
	  "  --json          machine-readable output: {\"ok\": ..., \"head\": ..., \"problems\": [...]}\n" },
	{ "report", cmd_report, 1, "tiersync report [--period FROM..TO] [--unit ID] [--json]",
	  "The plan's figures for this node's jurisdiction, in total and per child unit.",
	  "  --period P      the cases reported in P: FROM..TO or one of them, each YYYY, YYYY-MM\n"
	  "                  or YYYY-MM-DD, e.g. 2015-01..2015-12 (default: this year)\n"
	  "  --unit ID       a unit below this node instead of the whole jurisdiction\n"
	  "  --json          machine-readable output\n\n"
	  "Every figure is one SQL query anyone can re-run; see docs/REPORT.md.\n" },
	{ "export", cmd_export, 1,
	  "tiersync export disclosure|credit [--format csv|json] [--period FROM..TO] [--unit ID] [-o FILE]\n"
	  "       tiersync export geojson [--period FROM..TO] [--unit ID] [-o FILE]",
	  "Files for the outward systems: 四公开 disclosure, 社会信用 credit, 城管地图 GeoJSON.",
	  "  disclosure      one row per penalty decision made in the period, without the parties,\n"
	  "                  the complainant or the officers; the place cut before its house number\n"
	  "  credit          one row per party of a final decision made in the period (decided; a\n"
	  "                  major case approved; not reopened), with the party's identity number\n"
	  "  geojson         a FeatureCollection of the cases reported in the period that have a\n"
	  "                  place, and their key areas\n"
	  "  --format F      csv (RFC 4180, header row; the default) or json (an array of objects)\n"
	  "  --json          the same as --format json (geojson is JSON already)\n"
	  "  --period P      FROM..TO or one of them, each YYYY, YYYY-MM or YYYY-MM-DD, as\n"
	  "                  'tiersync report' reads it (default: this year)\n"
	  "  --unit ID       a unit below this node instead of its whole jurisdiction\n"
	  "  -o FILE         write FILE whole, or leave it as it was (default: stdout)\n\n"
	  "Columns, fields and what each leaves out: docs/EXPORTS.md. A credit export warns on stderr\n"
	  "of final decisions that have no party recorded.\n" },
	{ "sql", cmd_sql, 1, "tiersync sql QUERY [--json]",
	  "Run one read-only SQL query on the node's database.",
	  "  QUERY           one SELECT (or another statement that writes nothing), quoted\n"
	  "  --json          an array of objects, one per row\n" },
	{ "config", cmd_config, 1,
	  "tiersync config --list [--json]\n"
	  "       tiersync config KEY [--json]\n"
	  "       tiersync config KEY VALUE [--json]\n"
	  "       tiersync config --unset KEY [--json]",
	  "Show or change the node's settings (NODE/config), as git config does.",
	  "  --list          every setting, KEY=VALUE, in file order\n"
	  "  KEY             print its value; exit 1 when it is not set\n"
	  "  KEY VALUE       set it\n"
	  "  --unset KEY     remove it\n"
	  "  --json          machine-readable output\n\n"
	  "The keys that may be set:\n"
	  "  user.name               the node's identity: the default author of its changes\n"
	  "  remote.NAME.url         a remote's URL, as 'tiersync remote add' takes it (a relative\n"
	  "                          path is taken from the current directory and stored absolute)\n"
	  "  remote.NAME.identity    the key file the remote is logged in to with (stored absolute)\n"
	  "node.id, node.tier and node.key are read only: a node's id is bound to its key and to\n"
	  "its enrollment at the upper node. signer.ID.key (the key of a node above, as first\n"
	  "seen) is read only too. Any other key is refused, naming these. A remote is removed\n"
	  "with 'tiersync remote remove NAME'.\n" },
	{ "remote", cmd_remote, 1,
	  "tiersync remote add NAME URL [--identity KEYFILE]\n"
	  "       tiersync remote list [--json]\n"
	  "       tiersync remote remove NAME\n"
	  "       tiersync remote trust [NAME] [--expect SHA256:...] [--replace] [--timeout SECONDS] [--json]",
	  "Name the upper nodes this node syncs with, and trust their SSH host keys.",
	  "  URL             the upper node's directory or its history.git: a path, file:///path,\n"
	  "                  or ssh://[user@]host[:port]/path (user: the URL's, else yours); a\n"
	  "                  relative path is taken from the current directory (not the node's,\n"
	  "                  even with -C) and stored absolute\n"
	  "  --identity KEY  the private key this node logs in with over SSH (KEY.pub beside it\n"
	  "                  is used when present); without one, ssh-agent's keys\n"
	  "  --json          machine-readable output\n\n"
	  "trust connects to an ssh:// remote, shows its host key's fingerprint and adds the key\n"
	  "to NODE/known_hosts. Compare the fingerprint with the one the upper node's\n"
	  "administrator reads out (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), or give it:\n"
	  "  --expect FP     trust the key only if its fingerprint is FP\n"
	  "  --replace       replace a different key already known for the host (after a\n"
	  "                  confirmed key change; otherwise a changed key is always refused)\n"
	  "  --timeout S     give up connecting after S seconds (default 10)\n" },
	{ "push", cmd_push, 1, "tiersync push [REMOTE] [--urgent-only] [--timeout SECONDS] [--json]",
	  "Send this node's main to the upper node, as its submission.",
	  "  REMOTE          a name from 'tiersync remote list' (default upstream)\n"
	  "  --urgent-only   send only the urgent reports the upper node lacks, not main\n"
	  "                  (for a link that will not last)\n"
	  "  --timeout S     give up connecting after S seconds (default 10)\n"
	  "  --json          machine-readable output\n\n"
	  "The history goes to the remote's refs/submissions/<this node's id>, a ref this node\n"
	  "owns and each push overwrites. Only committed history is sent, each commit as what it\n"
	  "changed; the upper node rebuilds it and checks it against its id. A push cut short\n"
	  "keeps the commits that came whole there, and the next one sends only the rest.\n"
	  "Progress is shown on a terminal.\n\n"
	  "Urgent reports the upper node's main (as last fetched) lacks go first, as one small\n"
	  "commit on top of that main, to refs/urgent/<this node's id>: a backlog never holds them up.\n" },
	{ "fetch", cmd_fetch, 1, "tiersync fetch [REMOTE] [--timeout SECONDS] [--json]",
	  "Bring the upper node's main here (refs/remotes/REMOTE/main); print its id.",
	  "  REMOTE          a name from 'tiersync remote list' (default upstream)\n"
	  "  --timeout S     give up connecting after S seconds (default 10)\n"
	  "  --json          machine-readable output\n\n"
	  "Each commit comes as what it changed, is rebuilt here and checked against its id, and\n"
	  "all of it is admitted before any of it is kept. A fetch cut short keeps the commits\n"
	  "that came whole apart, and the next fetch asks only for the rest.\n" },
	{ "pull", cmd_pull, 1, "tiersync pull [REMOTE] [--author NAME] [--timeout SECONDS] [--json]",
	  "Fetch the upper node's main and merge it into this node's; the database follows.",
	  "  REMOTE          a name from 'tiersync remote list' (default upstream)\n"
	  "  --author NAME   who merges (default: the node's identity, else the node)\n\n"
	  "Staged writes are committed first, under their own authors. A conflict never stops\n"
	  "the merge: the policy's value goes in and the conflict waits in 'tiersync conflicts'.\n"
	  "The rows are written in short transactions: officers can keep recording meanwhile, and\n"
	  "what they record stays staged, on top of the merged data, for the next commit.\n"
	  "Progress (the fetch, then each phase of the merge and of writing the rows) is shown\n"
	  "on a terminal.\n" },
	{ "sync", cmd_sync, 1, "tiersync sync [REMOTE] [--author NAME] [--retries N] [--timeout SECONDS] [--json]",
	  "Pull, then push; while the link fails, retry with backoff (1 s, 2 s, 4 s, ...).",
	  "  --retries N     how many times to retry after a network failure (default 3)\n" },
	{ "bundle", cmd_bundle, 1,
	  "tiersync bundle create FILE [--for NODE] [--since REV] [--compact] [--json]\n"
	  "       tiersync bundle import FILE [--author NAME] [--json]",
	  "Carry a sync on a USB stick: write what the other side lacks as a git bundle, or take one in.",
	  "  create          on a lower node: a submission for the upper node (ref\n"
	  "                  refs/submissions/<this node's id>), built on the upper node's main as\n"
	  "                  last fetched or imported; urgent reports waiting go too, first, as\n"
	  "                  the urgent commit 'push' sends (ref refs/urgent/<this node's id>)\n"
	  "  --for NODE      create: an update for the lower node NODE instead (ref refs/heads/main),\n"
	  "                  built on NODE's submission here; none: the whole history\n"
	  "  --since REV     create: build on REV, a commit the other side is known to hold,\n"
	  "                  instead of what this node knows it holds\n"
	  "  --compact       create: write each commit as its changes (the rows' changed columns),\n"
	  "                  far smaller than a git bundle; only tiersync reads it\n"
	  "  import          take a bundle in: a submission of an enrolled node below is admitted\n"
	  "                  and merged as 'merge --submissions' merges it, its urgent reports\n"
	  "                  first; an update from above as 'pull' takes it\n"
	  "  --author NAME   import: who merges (default: the node's identity, else the node)\n"
	  "  --json          machine-readable output\n\n"
	  "The file is a git bundle (v2): 'git bundle verify FILE' and 'git bundle list-heads FILE'\n"
	  "read it (not a --compact one, whose commits import rebuilds and checks against their ids). A damaged, cut short or foreign bundle, one built on a commit this node lacks,\n"
	  "or one carrying a ref this node may not take is refused whole (exit 1): nothing moves.\n"
	  "Importing a bundle twice, or an older one after a newer, finds nothing new. Progress\n"
	  "(reading the file, then each phase of the merge) is shown on a terminal.\n" },
	{ "merge", cmd_merge, 1,
	  "tiersync merge --submissions [--author NAME] [--json]\n"
	  "       tiersync merge REV [-m MESSAGE] [--author NAME] [--json]",
	  "Merge the lower nodes' submissions (one merge commit each), or one revision.",
	  "  --submissions   every refs/submissions/<node id>, in name order; one failing does\n"
	  "                  not stop the others, and a conflict never stops a merge\n"
	  "  --author NAME   the administrator who merges (default: the node's identity, else the node)\n\n"
	  "Progress (each phase of a merge and of writing its rows) is shown on a terminal.\n" },
	{ "daemon", cmd_daemon, 0,
	  "tiersync daemon [--interval SECONDS] [--remote NAME] [--author NAME] [--timeout SECONDS] [--syslog]\n"
	  "                [--once]",
	  "Keep the node in sync unattended: pull and push on an interval, merge submissions as they come.",
	  "  --interval S    seconds between syncs with the upper node (default 60); a local commit\n"
	  "                  is synced within about 2 s whatever the interval\n"
	  "  --remote NAME   the upper node (default upstream); a node without it only merges\n"
	  "  --author NAME   who merges (default: the node's identity, else the node)\n"
	  "  --timeout S     give up connecting after S seconds (default 10)\n"
	  "  --syslog        log to syslog (facility daemon) instead of stderr\n"
	  "  --once          one round, then exit (for cron); exit 1 when it failed\n\n"
	  "Runs in the foreground, one line per event: 'TIME NODE WHAT'. With an upper node it pulls,\n"
	  "then pushes (urgent reports first), as 'tiersync sync' does; a pull that brings nothing new\n"
	  "leaves staged writes staged. With lower nodes it merges their submissions as they arrive,\n"
	  "as 'merge --submissions' does (which commits staged writes first). While the link is down\n"
	  "it waits the interval times 2, 4, ... up to 16 (at most 15 minutes) and logs 'link down';\n"
	  "a refusal that is not the link's (a key, a rule) is logged once. SIGTERM or SIGINT stop it\n"
	  "after the transfer in flight (exit 0). NODE/daemon.lock keeps a second daemon off the node\n"
	  "(refused, exit 1, naming the PID). See docs/DAEMON.md.\n" },
	{ "conflicts", cmd_conflicts, 1, "tiersync conflicts [--all] [--json]",
	  "The review queue: per conflict its base, ours and theirs, their origins and the value in use.",
	  "  --all           settled and resolved conflicts too\n"
	  "  --json          machine-readable output\n" },
	{ "resolve", cmd_resolve, 1, "tiersync resolve CONFLICT (--take ours|theirs | --value V) --author NAME [--json]",
	  "Settle one conflict: the column takes a side or a value, in a commit by the administrator.",
	  "  --take SIDE     ours or theirs, as 'tiersync conflicts' shows them\n"
	  "  --value V       another value, typed as the column is\n"
	  "  --author NAME   the administrator's real name\n" },
	{ "area", cmd_area, 1,
	  "tiersync area add NAME --zone Z [--reason R] [--in DISTRICT]... [--author NAME] [--json]\n"
	  "       tiersync area delist ID --reason R [--author NAME] [--json]\n"
	  "       tiersync area list [--all] [--json]",
	  "The key-area ledger (重点地区): the city and the districts list and delist areas.",
	  "  --zone Z        where the area's bounds run\n"
	  "  --reason R      why it is listed, or (delist) why it is delisted\n"
	  "  --in DISTRICT   city only, at least one: a district the area lies in; the area becomes\n"
	  "                  a key area of that district too (repeatable)\n"
	  "  --all           delisted areas too\n"
	  "  --author NAME   who lists or delists (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "A district lists and delists its own areas; the city any. Streets and devices are refused.\n"
	  "The city sees every area; any other node its district's, which carry the city's areas there.\n" },
	{ "urgent", cmd_urgent, 1,
	  "tiersync urgent new --subject S [--detail D] [--case ID] [--occurred-at T] [--author NAME] [--json]\n"
	  "       tiersync urgent list [--pending|--received] [--json]\n"
	  "       tiersync urgent receive ID [--author NAME] [--json]",
	  "Urgent reports (信息报送): sent up ahead of any backlog, taken in above.",
	  "  --subject S       one line: what happened\n"
	  "  --detail D        more about it\n"
	  "  --case ID         the case it is about (it must lie in this node's jurisdiction)\n"
	  "  --occurred-at T   when it happened: YYYY-MM-DD HH:MM or the full form (default now)\n"
	  "  --pending         only the reports not yet received\n"
	  "  --received        only the received ones\n"
	  "  --author NAME     who reports or receives (else the node's identity)\n"
	  "  --json            machine-readable output\n\n"
	  "A street, a device (for its street) or a district reports; 'new' commits the report at once\n"
	  "(with any other staged work), and the next 'tiersync push' sends it first, as\n"
	  "refs/urgent/<node id>, ahead of main ('push --urgent-only' sends it alone). A node above\n"
	  "the reporting unit receives it once its 'merge --submissions' took it in.\n" },
	{ "supervise", cmd_supervise, 1,
	  "tiersync supervise issue --to NODE --subject S [--detail D] [--case ID] [--due DATE] [--author NAME] [--json]\n"
	  "       tiersync supervise answer ITEM --text T [--author NAME] [--json]\n"
	  "       tiersync supervise close ITEM [--author NAME] [--json]\n"
	  "       tiersync supervise list [--open] [--json]",
	  "Supervision items (督办): issued down, answered up, closed by the issuer.",
	  "  --to NODE       the node that must answer, below the issuing city or district\n"
	  "  --case ID       the case the item is about (it must lie in NODE's jurisdiction)\n"
	  "  --due DATE      YYYY-MM-DD (the end of that day) or YYYY-MM-DD HH:MM\n"
	  "  --text T        the answer: what was done\n"
	  "  --open          only items not closed\n"
	  "  --author NAME   who issues, answers or closes (else the node's identity)\n"
	  "  --json          machine-readable output, with each item's feedback\n\n"
	  "The target answers (the item becomes answered); the nodes above it up to the city may add\n"
	  "their own feedback (three-level feedback). Only the issuer closes an answered item.\n" },
	{ "event", cmd_event, 1,
	  "tiersync event add NAME --from DATE --to DATE [--zone Z] [--author NAME] [--json]\n"
	  "       tiersync event mark [EVENT] [--author NAME] [--json]\n"
	  "       tiersync event list [--json]",
	  "Major-event periods (重大活动保障) and the cases reported inside them.",
	  "  --from DATE     the first day (YYYY-MM-DD) or time (YYYY-MM-DD HH:MM)\n"
	  "  --to DATE       the last day (the whole day) or time\n"
	  "  --zone Z        the controlled zone\n"
	  "  --author NAME   who declares or marks (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "The city or a district declares; the cases of its jurisdiction reported in the period are\n"
	  "marked (cases.event_id). 'mark' marks this node's cases for events that came by pull.\n" },
	{ "ads", cmd_ads, 1,
	  "tiersync ads add CASE PHONE... [--author NAME] [--json]\n"
	  "       tiersync ads warn PHONE --outcome warned|unreachable|suspended [--author NAME] [--json]\n"
	  "       tiersync ads list [--unwarned] [--json]",
	  "Phone numbers found on small ads, the warning call to each, and the warning rate.",
	  "  CASE            a small_ads case in this node's jurisdiction\n"
	  "  PHONE           digits; spaces and '-' may separate them\n"
	  "  --outcome O     warned (已警示), unreachable (无法接通) or suspended (已停机)\n"
	  "  --unwarned      only the numbers not yet warned on every case they were found on\n"
	  "  --author NAME   who records or calls (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "Warning rate = numbers warned / numbers found, each number counted once.\n" },
	{ "party", cmd_party, 1,
	  "tiersync party add CASE --kind person|business --name NAME [--id-number N] [--phone P]\n"
	  "                       [--address A] [--author NAME] [--json]\n"
	  "       tiersync party edit PARTY [--phone P] [--address A] [--id-number N] [--author NAME] [--json]\n"
	  "       tiersync party list CASE [--show-id] [--json]\n"
	  "       tiersync party list --repeat [--period FROM..TO] [--min-cases N] [--show-id] [--json]",
	  "The parties of a case (当事人), and the repeat offenders (屡查屡犯) among them.",
	  "  CASE            an open case in this node's jurisdiction (add); any case it holds (list)\n"
	  "  --kind K        person (自然人) or business (单位)\n"
	  "  --name NAME     the person's name or the business's registered name\n"
	  "  --id-number N   a person's 身份证号 (from the educate step on) or a business's\n"
	  "                  统一社会信用代码; required once the case is at the penalize step\n"
	  "  --phone P       digits; spaces and '-' may separate them\n"
	  "  --address A     home or business address\n"
	  "                  (edit: the fields given change; \"\" clears one)\n"
	  "  --repeat        parties found on 2 or more cases of this node's jurisdiction reported in\n"
	  "                  the period: a person by 身份证号, else name + phone; a business by\n"
	  "                  credit code, else name + address (see docs/PARTIES.md)\n"
	  "  --period P      with --repeat: FROM..TO or one of them, each YYYY, YYYY-MM or\n"
	  "                  YYYY-MM-DD, as 'tiersync report' reads it (default: this year)\n"
	  "  --min-cases N   with --repeat: only parties on N or more cases (default 2)\n"
	  "  --show-id       identity numbers whole; otherwise masked (110105********002X)\n"
	  "  --author NAME   who records (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "Adding or editing a party writes a note in the case's record, naming the party but never\n"
	  "its identity number or phone. A closed or transferred case's parties do not change.\n" },
	{ "patrol", cmd_patrol, 1,
	  "tiersync patrol start --area A [--officer NAME]... [--key-area ID] [--at TIME] [--author NAME] [--json]\n"
	  "       tiersync patrol end ID [--at TIME] [--route R] [--notes N] [--author NAME] [--json]\n"
	  "       tiersync patrol list [--in NODE] [--from DATE] [--to DATE] [--key-area ID] [--under-way] [--json]\n"
	  "       tiersync patrol show ID [--json]",
	  "Patrols (巡查, 人盯车巡): who patrolled where, when, and the cases found on them.",
	  "  --area A        the area or route patrolled\n"
	  "  --officer NAME  an officer on the patrol, by real name (repeatable; default: --author)\n"
	  "  --key-area ID   the key area patrolled (tiersync area list); list: only its patrols\n"
	  "  --at TIME       start or end: when, YYYY-MM-DD HH:MM (default: now; never in the future)\n"
	  "  --route R       end: the route taken\n"
	  "  --notes N       end: what was seen\n"
	  "  --in NODE       list: only patrols of NODE's jurisdiction (this node's or below it)\n"
	  "  --from, --to DATE  list: only patrols started in that period (days included)\n"
	  "  --under-way     list: only patrols not yet ended\n"
	  "  --author NAME   who records it (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "A patrol belongs to this node's jurisdiction (a device's: its street's). A case found on it\n"
	  "is recorded with 'tiersync case new --patrol ID': the patrol's found count follows, and\n"
	  "show lists its cases. See docs/PATROLS.md.\n" },
	{ "zone", cmd_zone, 1,
	  "tiersync zone add UNIT --address A [--key-area ID] [--author NAME] [--json]\n"
	  "       tiersync zone notice ZONE [--at TIME] [--author NAME] [--json]\n"
	  "       tiersync zone check ZONE --met|--not-met [--note TEXT] [--author NAME] [--json]\n"
	  "       tiersync zone list [--no-notice] [--key-area ID] [--json]\n"
	  "       tiersync zone checks [ZONE] [--from DATE] [--to DATE] [--json]",
	  "Responsibility zones (责任区, 门前三包): their notices (告知书) and the checks of their duties.",
	  "  UNIT            the shop or unit answerable for its frontage\n"
	  "  --address A     where it is\n"
	  "  --key-area ID   the key area it lies in (tiersync area list); list: only its zones\n"
	  "  --at TIME       notice: when it was handed over, YYYY-MM-DD HH:MM (default: now)\n"
	  "  --met, --not-met  check: the verdict; --not-met needs --note\n"
	  "  --note TEXT     check: what was wrong, if anything\n"
	  "  --no-notice     list: only zones whose notice is not issued\n"
	  "  --from, --to DATE  checks: only checks in that period (days included)\n"
	  "  --author NAME   who adds, hands over the notice or checks (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "A zone belongs to a street: its street office or a device of it adds it. The notice is\n"
	  "issued once; a zone is checked only once its notice was issued. Goals: every notice\n"
	  "issued; duties met at 90% of checks in key areas, 80% elsewhere (tiersync report).\n" },
	{ "exposure", cmd_exposure, 1,
	  "tiersync exposure add --outlet O --title T [--case ID] [--url URL] [--at TIME] [--author NAME] [--json]\n"
	  "       tiersync exposure remove ID [--author NAME] [--json]\n"
	  "       tiersync exposure list [--in NODE] [--from DATE] [--to DATE] [--case ID] [--json]",
	  "Exposures made by the service in the media (主动曝光).",
	  "  --outlet O      the paper, station or account that published it\n"
	  "  --title T       the headline or subject, one line\n"
	  "  --case ID       the case exposed (one of this node's jurisdiction); list: only its exposures\n"
	  "  --url URL       where it can be read (http:// or https://)\n"
	  "  --at TIME       when it was published, YYYY-MM-DD HH:MM (default: now; never in the future)\n"
	  "  --in NODE       list: only exposures of NODE's jurisdiction (this node's or below it)\n"
	  "  --from, --to DATE  list: only exposures published in that period (days included)\n"
	  "  --author NAME   who made it, by real name (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "An exposure is this node's unit's (a device's: its street's); the case it names gets a note.\n"
	  "The report counts exposures made beside the cases the media found. See docs/EXPOSURES.md.\n" },
	{ "baseline", cmd_baseline, 1,
	  "tiersync baseline set --unit ID --subject S --year YYYY --complaints N [--author NAME] [--json]\n"
	  "       tiersync baseline remove --unit ID --subject S --year YYYY [--author NAME] [--json]\n"
	  "       tiersync baseline list [--unit ID] [--subject S] [--year YYYY] [--json]",
	  "Complaint baselines (常量) the city sets for the report's complaint figures.",
	  "  --unit ID       the unit: the city or a node below it; list: only it and below\n"
	  "  --subject S     key_areas (complaints about places in key areas), dust_muck (construction\n"
	  "                  dust, muck spills and vehicles), outdoor_bbq or small_ads\n"
	  "  --year YYYY     the calendar year it holds for\n"
	  "  --complaints N  the complaints of a whole year to measure against\n"
	  "  --author NAME   who sets it (else the node's identity)\n"
	  "  --json          machine-readable output\n\n"
	  "Only the city sets or removes baselines; every node lists those of its jurisdiction.\n"
	  "Setting one again changes it. See docs/REPORT.md.\n" },
	{ "enroll", cmd_enroll, 1,
	  "tiersync enroll --node ID --key FILE.pub [--authorized-keys FILE | --signing-only]\n"
	  "                       [--author NAME] [--json]\n"
	  "       tiersync enroll --revoke ID [--authorized-keys FILE | --signing-only] [--author NAME] [--json]\n"
	  "       tiersync enroll --list [--json]",
	  "Enroll a lower node's key (its signing key, and its SSH key at this node's gate), or revoke it.",
	  "  --node ID          a node below this one (this node's id and more labels)\n"
	  "  --key FILE.pub     its Ed25519 public key, as ssh-keygen -t ed25519 wrote it; it is also\n"
	  "                     the node's signing key\n"
	  "  --revoke ID        remove the node's key line and mark its key revoked\n"
	  "  --list             the enrolled nodes, revoked ones too\n"
	  "  --authorized-keys FILE  the file sshd reads the keys from (default\n"
	  "                     ~/.ssh/authorized_keys, created 0600 if missing)\n"
	  "  --signing-only     record or revoke the key in sync_signers only, for a node that\n"
	  "                     comes through a path remote or bundles, never over SSH: no\n"
	  "                     authorized_keys is read or written (a line an earlier enrollment\n"
	  "                     left stays, but the gate no longer takes its key once another\n"
	  "                     is enrolled; revoke without --signing-only to remove it)\n"
	  "  --author NAME      the administrator (else the node's identity)\n"
	  "  --json             machine-readable output\n\n"
	  "enroll records the key in sync_signers (committed) and writes one authorized_keys line\n"
	  "for the node, replacing its earlier one and leaving every other line alone:\n"
	  "  command=\"<this tiersync> -C <this node> gate --node ID --key SHA256:...\",restrict\n"
	  "      ssh-ed25519 ... tiersync:ID\n"
	  "so that the key may only fetch this node's main and push refs/submissions/ID, and only\n"
	  "while it is the key in force for ID (--key is its fingerprint, as ssh-keygen -l prints it).\n"
	  "--revoke removes that line (a file without one is left as it is), then marks the key revoked.\n" },
	{ "gate", cmd_gate, 1,
	  "tiersync gate --node ID --key FINGERPRINT\n"
	  "       tiersync gate --pre-receive --node ID",
	  "The SSH forced command of an enrolled node's key (written by enroll; not run by hand).",
	  "  --node ID          the lower node the key belongs to\n"
	  "  --key FINGERPRINT  the key's fingerprint (SHA256:...): the gate opens only while it\n"
	  "                     is the key in force for ID in sync_signers\n"
	  "  --pre-receive      the check git runs before a push by ID moves a ref\n\n"
	  "Reads SSH_ORIGINAL_COMMAND and lets through only tiersync's exchange\n"
	  "(tiersync-upload-changes, tiersync-receive-changes, served here) and git-upload-pack and\n"
	  "git-receive-pack (stock git, run on this node's history), on 'PATH', this node's history.\n"
	  "A push may only create or update refs/submissions/ID and refs/urgent/ID, never delete\n"
	  "them, and only with what admission accepts.\n"
	  "Anything else is refused with one line on stderr (exit 1).\n" },
	{ NULL, NULL, 0, NULL, NULL, NULL }
};

static void usage(FILE *out)
{
	const ts_cli_command *c;
	fprintf(out, "usage: tiersync [-C DIR] COMMAND [ARGS]\n\n"
		"tiersync keeps a case database and its git history on every node of a tiered\n"
		"service, and syncs them between tiers.\n\ncommands:\n");
	for (c = ts_cli_commands; c->name; c++)
		fprintf(out, "  %-8s %s\n", c->name, c->summary);
	fprintf(out, "\n  -C DIR    run as if started in DIR (the node's directory)\n"
		"  --help    this help; 'tiersync COMMAND --help' for one command\n"
		"  --version the version\n");
}

/* Writes `s` as roff text: a backslash, a leading '.' or '\'', a '-' and
 * every character beyond ASCII escaped, so that any man reader shows it
 * as --help does. */
static void roff_text(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int line_start = 1;

	while (*p) {
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", out);
		line_start = 0;
		if (*p == '\\')
			fputs("\\e", out);
		else if (*p == '-')
			fputs("\\-", out);
		else if (*p >= 0x80) {
			/* arguments and the table are UTF-8 (checked in main) */
			int n = (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : 3, k;
			unsigned cp = *p & (0x3f >> n);
			for (k = 1; k <= n && p[k]; k++)
				cp = (cp << 6) | (p[k] & 0x3f);
			fprintf(out, "\\[u%04X]", cp);
			p += k;
			continue;
		} else {
			fputc(*p, out);
			line_start = *p == '\n';
		}
		p++;
	}
}

/* A preformatted block: the usage and help keep their columns. */
static void roff_block(FILE *out, const char *text)
{
	size_t n = strlen(text);

	fputs(".PP\n.nf\n", out);
	roff_text(out, text);
	if (n && text[n - 1] != '\n')
		fputc('\n', out);
	fputs(".fi\n", out);
}

/* The manual page, tiersync(1), from the same table as --help. */
static void man_page(FILE *out)
{
	const ts_cli_command *c;

	fputs(".TH TIERSYNC 1 \"\" \"tiersync " TS_VERSION "\" \"User Commands\"\n"
		".SH NAME\ntiersync \\- the case database of a tiered city-management enforcement "
		"service, and its history, synced between tiers\n"
		".SH SYNOPSIS\n.B tiersync\n[\\-C\\~\\fIDIR\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"
		".SH DESCRIPTION\n"
		"tiersync keeps a case database and its git history on every node of a tiered\n"
		"service (city, district, street, device), and syncs them between tiers.\n"
		"A node is a directory: \\fBtiersync.db\\fR (SQLite), \\fBhistory.git\\fR (a bare git\n"
		"repository) and \\fBconfig\\fR (git-config format).\n"
		".SH OPTIONS\n"
		".TP\n.BI \\-C \" DIR\"\nrun as if started in DIR (the node's directory)\n"
		".TP\n.B \\-\\-help\nthe list of commands; \\fBtiersync\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR "
		"for one command\n"
		".TP\n.B \\-\\-version\nthe version\n"
		".SH COMMANDS\n", out);
	for (c = ts_cli_commands; c->name; c++) {
		fputs(".SS ", out);
		roff_text(out, c->name);
		fputs("\n", out);
		roff_text(out, c->summary);
		fputs("\n", out);
		roff_block(out, c->usage);
		if (c->help)
			roff_block(out, c->help);
	}
	fputs(".SH EXIT STATUS\n0 on success, 1 when the operation was refused or failed (one line on\n"
		"standard error says why), 2 on bad usage.\n"
		".SH SEE ALSO\n.BR git (1),\n.BR sqlite3 (1),\n.BR ssh-keygen (1)\n", out);
}

static const ts_cli_command *find(const char *name)
{
	const ts_cli_command *c;
	for (c = ts_cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* 1 when `s` is well-formed UTF-8 (no overlong forms, no surrogates). */
static int utf8_valid(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : -1;
		unsigned cp;
		int k;
		if (n < 0 || (n == 1 && *s < 0xc2) || (n == 3 && *s > 0xf4))
			return 0;
		cp = n ? *s & (0x3f >> n) : *s;
		for (k = 1; k <= n; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += n + 1;
	}
	return 1;
}

int main(int argc, char **argv)
{
	ts_cli cli = { ".", NULL, NULL, 0 };
	int i = 1, rc;

	/* every value the node keeps is text that --json and stock tools read back;
	 * bytes that are not UTF-8 are refused before anything is done */
	for (i = 1; i < argc; i++)
		if (!utf8_valid((const unsigned char *)argv[i])) {
			fprintf(stderr, "tiersync: argument %d is not valid UTF-8 text\n", i);
			return 2;
		}
	i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-C") && i + 1 < argc) {
			cli.dir = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("tiersync %s\n", TS_VERSION);
			return 0;
		} else {
			fprintf(stderr, "tiersync: unknown option %s; see 'tiersync --help'\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "tiersync: name a command; see 'tiersync --help'\n");
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		/* hidden: the build writes the manual page with it */
		if (i + 2 == argc && !strcmp(argv[i + 1], "--man")) {
			man_page(stdout);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		}
		if (i + 1 < argc && (cli.cmd = find(argv[i + 1]))) {
			ts_cli_help(cli.cmd, stdout);
			return 0;
		}
		usage(stdout);
		return i + 1 < argc ? 2 : 0;
	}
	if (!(cli.cmd = find(argv[i]))) {
		fprintf(stderr, "tiersync: '%s' is not a command; see 'tiersync --help'\n", argv[i]);
		return 2;
	}
	for (int j = i + 1; j < argc; j++)
		if (!strcmp(argv[j], "--help")) {
			ts_cli_help(cli.cmd, stdout);
			return 0;
		}
	if (cli.cmd->needs_node && ts_node_open(&cli.node, cli.dir) < 0)
		return ts_cli_fail(&cli);
	if (cli.node && ts_node_repaired(cli.node))
		fprintf(stderr, "tiersync: note: history was repaired after an interrupted write "
			"(restored from the database's record)\n");
	rc = cli.cmd->fn(&cli, argc - i, argv + i);
	ts_node_free(cli.node);
	exit(rc);
}
