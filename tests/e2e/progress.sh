#!/bin/sh
# Progress on a terminal only. A street's work is merged at its district,
# pulled back, synced and carried in a bundle, each twice from the same
# state: once with stderr a pseudo-terminal (util-linux `script`), where a
# line per phase ("merging trees", "writing rows", ...) is rewritten in
# place and ended with ", done"; once with stderr a file, which stays empty,
# stdout the same and no control character anywhere. tiersync-gen shows its
# day and cases the same way. Stock git judges that both runs made one tree.
. "$TS_TOP/tests/e2e/lib.sh"

command -v script >/dev/null || { echo "needs script(1) from util-linux"; exit 1; }
gen=$(dirname "$TIERSYNC")/tiersync-gen
[ -x "$gen" ] || gen=$TS_TOP/build/rel/tiersync-gen
[ -x "$gen" ] || { echo "no tiersync-gen beside $TIERSYNC (make builds it)"; exit 1; }

dc=$work/dc
st=$work/jingshan
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "王伟" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"

tree() {
	on_git "$1" rev-parse 'refs/heads/main^{tree}'
}

# on_terminal FILE COMMAND...: runs the command with stdout and stderr a
# pseudo-terminal, everything it wrote there kept in FILE; $rc its status.
on_terminal() {
	_file=$1
	shift
	rc=0
	script -qfec "$*" /dev/null >"$_file" 2>&1 </dev/null || rc=$?
}

# has FILE TEXT: FILE holds TEXT (fixed string), control characters and all.
has() {
	grep -qaF -- "$2" "$1" || { printf '%s lacks "%s":\n' "$1" "$2"; tr '\r' '\n' <"$1" | head -n 20; return 1; }
}

# not_has FILE TEXT: FILE does not hold TEXT.
not_has() {
	! grep -qaF -- "$2" "$1" || { printf '%s holds "%s"\n' "$1" "$2"; return 1; }
}

# no_control FILE: nothing a terminal would act on, not even a carriage return.
no_control() {
	! LC_ALL=C grep -q "$(printf '[\r\033]')" "$1" || { echo "control characters in $1:"; od -c "$1" | head; return 1; }
}

# the phases of a merge, each ended: LABEL FILE
phases_shown() {
	has "$2" "$(printf '\r%s: merging trees: 0 rows\033[K' "$1")" &&
	has "$2" "$(printf '%s: writing rows: ' "$1")" &&
	has "$2" "$(printf 'rows (100%%), done\033[K')" &&
	has "$2" "$(printf '%s: checking foreign keys: ' "$1")"
}

# A street's work, submitted.
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	ts -C "$st" case new --category small_ads --source patrol --address "景山前街 ${i}号" >/dev/null
done
ts -C "$st" commit -m "a week's patrols" >/dev/null
ts -C "$st" push >/dev/null
for twin in dc-twin dc-json dc-json-twin; do
	cp -a "$dc" "$work/$twin"
done

# 1. merge --submissions: without a terminal, nothing more than before
run ts -C "$dc" merge --submissions
check "merge: merged" exit_is 0
check "merge: stdout says so" stdout_has "bj.dc.jingshan"
check "merge without a terminal: stderr stays empty" stderr_is_empty
check "merge without a terminal: no control characters on stdout" no_control "$work/out"
cp "$work/out" "$work/merge.plain"

# a phase shows its line once it has run a second (TIERSYNC_PROGRESS_DELAY,
# as git's GIT_PROGRESS_DELAY): this small merge, at once, prints none
cp -a "$work/dc-twin" "$work/dc-quiet"
on_terminal "$work/merge.quiet" "$TIERSYNC" -C "$work/dc-quiet" merge --submissions
check "merge on a terminal, under a second: merged" is "$rc" 0
check "merge on a terminal, under a second: no progress line" not_has "$work/merge.quiet" "merge: writing rows"
check "merge on a terminal, under a second: the result line" has "$work/merge.quiet" "bj.dc.jingshan"
# the rest of this script shows every phase, however short
export TIERSYNC_PROGRESS_DELAY=0

on_terminal "$work/merge.tty" "$TIERSYNC" -C "$work/dc-twin" merge --submissions
check "merge on a terminal: merged" is "$rc" 0
check "merge on a terminal: every phase shown and ended" phases_shown merge "$work/merge.tty"
check "merge on a terminal: the rows written, counted first" has "$work/merge.tty" "merge: comparing trees: "
check "merge on a terminal: the result line as without one" \
	has "$work/merge.tty" "$(sed 's/  [0-9a-f]\{12\}  .*//' "$work/merge.plain")"
check "merge on a terminal: the counts as without one" \
	has "$work/merge.tty" "$(sed 's/.*[0-9a-f]\{12\}  //' "$work/merge.plain")"
check "merge: both runs made one tree (stock git)" is "$(tree "$dc")" "$(tree "$work/dc-twin")"

# --json: stdout a file, stderr the terminal; stdout the JSON it was
run ts -C "$work/dc-json" merge --submissions --json
check "merge --json without a terminal: stderr stays empty" stderr_is_empty
cp "$work/out" "$work/json.plain"
on_terminal "$work/json.tty" "$TIERSYNC" -C "$work/dc-json-twin" merge --submissions --json ">$work/json.out"
check "merge --json on a terminal: exit 0" is "$rc" 0
check "merge --json on a terminal: the phases on stderr" phases_shown merge "$work/json.tty"
check "merge --json on a terminal: stdout is valid JSON" json_valid "$work/json.out"
for field in node result rows_written rows_deleted conflicts; do
	check "merge --json on a terminal: $field as without one" \
		is "$(json_get "$work/json.out" "\$[0].$field")" "$(json_get "$work/json.plain" "\$[0].$field")"
done
check "merge --json on a terminal: no control characters on stdout" no_control "$work/json.out"

# 2. pull: a fast-forward, with the fetch's line before the apply's
cp -a "$st" "$work/st-twin"
run ts -C "$st" pull
check "pull: exit 0" exit_is 0
check "pull without a terminal: stderr stays empty" stderr_is_empty
check "pull without a terminal: no control characters on stdout" no_control "$work/out"
on_terminal "$work/pull.tty" "$TIERSYNC" -C "$work/st-twin" pull
check "pull on a terminal: exit 0" is "$rc" 0
check "pull on a terminal: the fetch's progress" has "$work/pull.tty" "pull upstream: "
check "pull on a terminal: the rows written" has "$work/pull.tty" "$(printf '\rpull upstream: writing rows: ')"
check "pull on a terminal: ended" has "$work/pull.tty" "$(printf 'rows (100%%), done\033[K')"
check "pull on a terminal: a fast-forward walks no merge" not_has "$work/pull.tty" "merging trees"
check "pull on a terminal: the result line" has "$work/pull.tty" "pull upstream: fast-forward"
check "pull: both runs made one tree (stock git)" is "$(tree "$st")" "$(tree "$work/st-twin")"

# 3. sync: the district moved on, the street pulls it and pushes
ts -C "$dc" case new --category small_ads --source patrol --address "景山前街 100号" >/dev/null
ts -C "$dc" commit -m "the district's own case" >/dev/null
cp -a "$st" "$work/st-twin2"
run ts -C "$st" sync
check "sync: exit 0" exit_is 0
check "sync without a terminal: stderr stays empty" stderr_is_empty
on_terminal "$work/sync.tty" "$TIERSYNC" -C "$work/st-twin2" sync
check "sync on a terminal: exit 0" is "$rc" 0
check "sync on a terminal: the rows written" has "$work/sync.tty" "$(printf '\rsync upstream: writing rows: ')"
check "sync on a terminal: the result lines" has "$work/sync.tty" "push upstream: "

# 4. bundle import: an update from the district on a stick
ts -C "$dc" case new --category small_ads --source patrol --address "景山前街 101号" >/dev/null
ts -C "$dc" commit -m "another case" >/dev/null
ts -C "$dc" bundle create "$work/update.bundle" --for bj.dc.jingshan >/dev/null
cp -a "$st" "$work/st-twin3"
run ts -C "$st" bundle import "$work/update.bundle"
check "bundle import: exit 0" exit_is 0
check "bundle import without a terminal: stderr stays empty" stderr_is_empty
on_terminal "$work/bundle.tty" "$TIERSYNC" -C "$work/st-twin3" bundle import "$work/update.bundle"
check "bundle import on a terminal: exit 0" is "$rc" 0
check "bundle import on a terminal: the rows written" \
	has "$work/bundle.tty" "$(printf '\rbundle import: writing rows: ')"
check "bundle import: both runs made one tree (stock git)" is "$(tree "$st")" "$(tree "$work/st-twin3")"

# 5. tiersync-gen: the day and the cases, on a terminal only
g=$work/gen
mkdir "$g"
ts init "$g/dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$g/js" --tier street --id bj.dc.jingshan --upstream "$g/dc" --author "王伟" >/dev/null
enroll "$g/dc" bj.dc.jingshan "$g/js/id_ed25519.pub"
cp -a "$g" "$work/gen-twin"
run "$gen" --district "$g/dc" --street "$g/js" --cases 40 --commit-every 30 --seed 7
check "tiersync-gen: exit 0" exit_is 0
check "tiersync-gen without a terminal: stderr stays empty" stderr_is_empty
check "tiersync-gen without a terminal: no control characters" no_control "$work/out"
on_terminal "$work/gen.tty" "$gen" --district "$work/gen-twin/dc" --street "$work/gen-twin/js" --cases 40 \
	--commit-every 30 --seed 7
check "tiersync-gen on a terminal: exit 0" is "$rc" 0
check "tiersync-gen on a terminal: the last day, its node and the cases" \
	has "$work/gen.tty" "day 365 of 365: bj.dc.jingshan "
check "tiersync-gen on a terminal: ended" has "$work/gen.tty" ", done"
check "tiersync-gen: both runs wrote one tree (stock git)" is "$(tree "$g/js")" "$(tree "$work/gen-twin/js")"
