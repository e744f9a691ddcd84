#!/bin/sh
# Helpers shared by the end-to-end tests. A test starts with
#
#   . "$TS_TOP/tests/e2e/lib.sh"
#
# and then reads like a user's session: `ts` runs the tiersync under test,
# stock git and sqlite3 judge what it wrote, `check` and `fail` record what
# did not hold. Every check is printed; a test exits 1 if any failed, and
# its temp dir and the processes it started (by PID) are cleaned up however
# it ends.
set -eu

: "${TIERSYNC:?set TIERSYNC to the tiersync binary under test}"
: "${TS_TOP:?set TS_TOP to the repository root}"

# A fixed clock would make ids repeat across runs; tests use the real one.
unset TIERSYNC_NOW

work=$(mktemp -d "${TMPDIR:-/tmp}/tiersync-e2e.XXXXXX")
failures=0
checks=0
started_pids=""

cleanup() {
	status=$?
	for pid in $started_pids; do
		kill -9 "$pid" 2>/dev/null || true
	done
	# the failures again, last, where a log's tail shows them
	if [ "$failures" -gt 0 ]; then
		echo "$failures of $checks checks failed:" >&2
		sed 's/^/  - /' "$work/.failed" >&2
	fi
	rm -rf "$work"
	if [ "$failures" -gt 0 ]; then
		[ "$status" -ne 0 ] || status=1
	elif [ "$status" -eq 0 ]; then
		echo "all $checks checks held"
	else
		echo "stopped with status $status after $checks checks" >&2
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Remembers a background process so that cleanup can end it, and forgets
# it once it has been waited for (its PID may then belong to another).
started() {
	started_pids="$started_pids $1"
}
finished() {
	_left=""
	for _pid in $started_pids; do
		[ "$_pid" = "$1" ] || _left="$_left $_pid"
	done
	started_pids=$_left
}

# The tiersync under test.
ts() {
	"$TIERSYNC" "$@"
}

# enroll UPPER ID KEY.pub: the upper node's admin enrolls the lower node ID
# with its public key (a node's own is NODE/id_ed25519.pub) before merging
# anything from it. The authorized_keys line goes to $work/authorized_keys,
# never to the real ~/.ssh.
enroll() {
	ts -C "$1" enroll --node "$2" --key "$3" --authorized-keys "$work/authorized_keys" >/dev/null
}

# city_above DISTRICT ID: the city a deployment has above a district: it
# enrolls the district, and the district pulls the city's main (remote
# "city"), so that the district's key is in its sync_signers and reaches the
# nodes below with its history. For a test whose top node is a district.
city_above() {
	ts init "$work/above-bj" --tier city --id bj --author "刘洋" >/dev/null
	enroll "$work/above-bj" "$2" "$1/id_ed25519.pub"
	ts -C "$1" remote add city "$work/above-bj" >/dev/null
	ts -C "$1" pull city >/dev/null
}

# district_and_street: the district bj.dc at $dc (its city above it) and
# its street bj.dc.jingshan at $st, whose upstream it is, the street's key
# enrolled there: the two nodes most sessions start from.
district_and_street() {
	ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
	city_above "$dc" bj.dc
	ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "王伟" >/dev/null
	enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"
}

# twin_merged LOWER UPPER: $work/twin, a copy of UPPER, takes LOWER's push
# and merges it: what another path in (a bundle) must come to.
twin_merged() {
	rm -rf "$work/twin"
	cp -a "$2" "$work/twin"
	ts -C "$1" remote add twin "$work/twin" >/dev/null
	ts -C "$1" push twin >/dev/null
	ts -C "$1" remote remove twin >/dev/null
	ts -C "$work/twin" merge --submissions >/dev/null
}

# man_reads PAGE TEXT LABEL: stock man (-l) renders PAGE as tiersync(1),
# TEXT in it; skipped where man is not installed.
man_reads() {
	if ! command -v man >/dev/null 2>&1; then
		echo "skip: man is not installed"
		return 0
	fi
	MANWIDTH=100 LC_ALL=C.UTF-8 man -l "$1" >"$work/man.txt" 2>"$work/man.err" || true
	check "$3" grep -q "TIERSYNC(1)" "$work/man.txt"
	check "  ...with \"$2\"" grep -q "$2" "$work/man.txt"
}

# Stock git on a node's history: on_git NODE ARGS...
on_git() {
	_git_dir=$1/history.git
	shift
	git --git-dir "$_git_dir" "$@"
}

# Messages go through printf: dash's echo would expand backslashes in them.

# Records a failed expectation and says what it was.
fail() {
	checks=$((checks + 1))
	failures=$((failures + 1))
	printf 'FAIL: %s\n' "$*" >&2
	printf '%s\n' "$*" >>"$work/.failed"
}

# check DESCRIPTION COMMAND [ARGS...]: the command must succeed.
check() {
	_what=$1
	shift
	checks=$((checks + 1))
	if "$@" >"$work/.check-out" 2>&1; then
		printf 'ok:   %s\n' "$_what"
	else
		failures=$((failures + 1))
		printf 'FAIL: %s\n' "$_what" >&2
		printf '      command: %s\n' "$*" | head -n 2 >&2
		sed -n '1,10s/^/      | /p' "$work/.check-out" >&2
		printf '%s\n' "$_what" >>"$work/.failed"
	fi
}

# check_not DESCRIPTION COMMAND [ARGS...]: the command must fail.
check_not() {
	_what=$1
	shift
	checks=$((checks + 1))
	if "$@" >"$work/.check-out" 2>&1; then
		failures=$((failures + 1))
		printf 'FAIL: %s\n' "$_what" >&2
		printf '      command succeeded: %s\n' "$*" | head -n 2 >&2
		printf '%s\n' "$_what" >>"$work/.failed"
	else
		printf 'ok:   %s\n' "$_what"
	fi
}

# run COMMAND [ARGS...]: runs it, keeping its stdout in $work/out, its stderr
# in $work/err and its exit status in $rc, whatever that is.
run() {
	rc=0
	"$@" >"$work/out" 2>"$work/err" || rc=$?
}

# is ACTUAL EXPECTED: the two are the same text.
is() {
	[ "$1" = "$2" ] || { printf 'got:    %s\nwanted: %s\n' "$1" "$2"; return 1; }
}

# Assertions about the last `run`.
exit_is() {
	[ "$rc" = "$1" ] || { echo "exit status $rc, wanted $1"; cat "$work/err"; return 1; }
}
stdout_has() {
	grep -qF -- "$1" "$work/out" || { printf 'stdout lacks "%s":\n' "$1"; cat "$work/out"; return 1; }
}
stderr_has() {
	grep -qF -- "$1" "$work/err" || { printf 'stderr lacks "%s":\n' "$1"; cat "$work/err"; return 1; }
}
output_has() {
	grep -qF -- "$1" "$work/out" "$work/err" ||
		{ printf 'neither stdout nor stderr has "%s":\n' "$1"; cat "$work/out" "$work/err"; return 1; }
}
stderr_is_empty() {
	[ ! -s "$work/err" ] || { echo "stderr:"; cat "$work/err"; return 1; }
}
# One clear line: exactly one line, and it says it comes from tiersync.
stderr_is_one_line() {
	_lines=$(wc -l <"$work/err")
	[ "$_lines" -eq 1 ] && grep -q '^tiersync' "$work/err" ||
		{ echo "stderr has $_lines lines, wanted one 'tiersync...' line:"; cat "$work/err"; return 1; }
}

# file_has FILE TEXT: FILE contains TEXT (fixed string).
file_has() {
	grep -qF -- "$2" "$1" || { printf '%s lacks "%s":\n' "$1" "$2"; head -n 20 "$1"; return 1; }
}

# same_files A B: identical contents (diff shown when not).
same_files() {
	cmp -s "$1" "$2" || { diff "$1" "$2" | head -n 20; return 1; }
}

# json_valid FILE: the file holds one valid JSON text (judged by sqlite3).
json_valid() {
	[ "$(sqlite3 :memory: "SELECT json_valid(CAST(readfile('$1') AS TEXT))")" = 1 ] ||
		{ echo "not valid JSON:"; head -c 600 "$1"; return 1; }
}

# json_get FILE PATH: one value of the JSON in FILE, e.g. json_get f '$.ok'.
json_get() {
	sqlite3 :memory: "SELECT json_extract(CAST(readfile('$1') AS TEXT), '$2')"
}

# json_length FILE PATH: the length of a JSON array in FILE.
json_length() {
	sqlite3 :memory: "SELECT json_array_length(CAST(readfile('$1') AS TEXT), '$2')"
}

# A node's database, through the stock sqlite3 shell.
db() {
	_db_file=$1/tiersync.db
	shift
	sqlite3 "$_db_file" "$@"
}

# snapshot NODE FILE: what "changes nothing" compares: the commit the ref
# names, the number of staged writes, a full dump of the database and the
# names of the files in history.git.
snapshot() {
	{
		echo "head $(on_git "$1" rev-parse HEAD 2>&1)"
		echo "staged $(db "$1" 'SELECT count(*) FROM ts_staged')"
		db "$1" .dump
		(cd "$1/history.git" && find . -type f | sort)
	} >"$2"
}

# forbidden DESCRIPTION NEEDLE NODE COMMAND...: refused with exit 1, one line
# on stderr that holds NEEDLE, and the node exactly as before.
forbidden() {
	_refused=$1
	_needle=$2
	_node=$3
	shift 3
	snapshot "$_node" "$work/before"
	run "$@"
	check "$_refused: refused (exit 1)" exit_is 1
	check "$_refused: one line on stderr" stderr_is_one_line
	check "$_refused: says why" stderr_has "$_needle"
	snapshot "$_node" "$work/after"
	check "$_refused: changes nothing" same_files "$work/before" "$work/after"
}

# fsck_clean NODE: stock git finds the history sound and has nothing to say,
# not even about dangling objects.
fsck_clean() {
	on_git "$1" fsck --strict >"$work/.fsck" 2>&1 || { cat "$work/.fsck"; return 1; }
	[ ! -s "$work/.fsck" ] || { cat "$work/.fsck"; return 1; }
}

# fsck_sound NODE: stock git finds no error; dangling objects (left by a
# killed commit, harmless) are allowed.
fsck_sound() {
	on_git "$1" fsck --strict --no-dangling >"$work/.fsck" 2>&1 || { cat "$work/.fsck"; return 1; }
	[ ! -s "$work/.fsck" ] || { cat "$work/.fsck"; return 1; }
}

# The path in history of one row: row_path NODE TABLE KEY.
row_path() {
	on_git "$1" ls-tree -r --name-only HEAD | grep "^$2/.*/$3\$"
}

# Where history keeps its objects is the store's business: loose files
# (objects/xx/yyyy) or packs (objects/pack/pack-*.pack + .idx). The helpers
# below find an object in either, so the tests judge the same promises
# whichever the store uses.

# object_file NODE ID: the path a loose object of that id would have.
object_file() {
	_rest=${2#??}
	printf '%s\n' "$1/history.git/objects/${2%"$_rest"}/$_rest"
}

# object_home NODE ID: the file holding the object: its loose file, or the
# pack whose index lists it. Fails if neither has it.
object_home() {
	_loose=$(object_file "$1" "$2")
	if [ -f "$_loose" ]; then
		printf '%s\n' "$_loose"
		return 0
	fi
	for _idx in "$1"/history.git/objects/pack/pack-*.idx; do
		[ -s "$_idx" ] || continue
		if git show-index <"$_idx" 2>/dev/null | grep -q " $2 "; then
			printf '%s\n' "${_idx%.idx}.pack"
			return 0
		fi
	done
	return 1
}

# pack_offset PACK ID: where the object starts in the pack.
pack_offset() {
	git show-index <"${1%.pack}.idx" | awk -v id="$2" '$2 == id { print $1 }'
}

# pack_objects PACK: the ids of the objects a pack holds.
pack_objects() {
	git show-index <"${1%.pack}.idx" | awk '{ print $2 }'
}

# damage_object NODE ID: overwrites eight bytes inside the object's stored
# (compressed) data, the way a bad disk or a careless editor would.
damage_object() {
	_home=$(object_home "$1" "$2") || { echo "no object $2"; return 1; }
	case $_home in
	*.pack) _at=$(($(pack_offset "$_home" "$2") + 6)) ;;
	*) _at=12 ;;
	esac
	chmod u+w "$_home"
	printf 'XXXXXXXX' | dd of="$_home" bs=1 seek="$_at" conv=notrunc 2>/dev/null
}

# storage_of NODE ID...: the files holding the given objects, each once: a
# loose file, or a pack with its index.
storage_of() {
	_node=$1
	shift
	for _id in "$@"; do
		_home=$(object_home "$_node" "$_id") || continue
		printf '%s\n' "$_home"
		case $_home in *.pack) printf '%s\n' "${_home%.pack}.idx" ;; esac
	done | sort -u
}

# refs NODE FILE: every ref of NODE and the commit it names, as stock git lists them.
refs() {
	on_git "$1" for-each-ref --format='%(refname) %(objectname)' >"$2"
}

# refs_old_or_new NODE BEFORE REF NEW [OTHER...]: the refs of NODE are as
# in BEFORE, except REF, which may also be NEW (NEW "-": REF is judged
# elsewhere), and each OTHER, judged elsewhere
refs_old_or_new() {
	_node=$1
	_before=$2
	_ref=$3
	_new=$4
	shift 4
	printf '^%s \n' "$_ref" "$@" >"$work/refs-skip"
	refs "$_node" "$work/refs-after"
	grep -v -f "$work/refs-skip" "$_before" >"$work/refs-before-rest" || true
	grep -v -f "$work/refs-skip" "$work/refs-after" >"$work/refs-after-rest" || true
	same_files "$work/refs-before-rest" "$work/refs-after-rest" || { echo "other refs changed"; return 1; }
	[ "$_new" != - ] || return 0
	_old=$(sed -n "s|^$_ref ||p" "$_before")
	_now=$(sed -n "s|^$_ref ||p" "$work/refs-after")
	[ "$_now" = "$_old" ] || [ "$_now" = "$_new" ] ||
		{ echo "$_ref is $_now: neither the old $_old nor the new $_new"; return 1; }
	[ -z "$_now" ] || on_git "$_node" cat-file -e "$_now^{commit}" ||
		{ echo "$_ref: $_now is not readable"; return 1; }
}
