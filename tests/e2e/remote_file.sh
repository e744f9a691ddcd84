#!/bin/sh
# A street office and its district on one machine: the street pushes its
# history to the district by path, where it waits as the street's submission,
# and fetches the district's main back. Stock git judges both histories.
. "$TS_TOP/tests/e2e/lib.sh"

district=$work/dongcheng
street=$work/jingshan

run ts init "$district" --tier district --id bj.dc --author "张三"
check "the district node is created" exit_is 0
run ts init "$street" --tier street --id bj.dc.jingshan --author "王伟" --upstream "$district/history.git"
check "the street node is created with an upstream" exit_is 0

run ts -C "$street" remote list
check "remote list shows the upstream from init" stdout_has "upstream"
check "remote list shows its URL" stdout_has "$district/history.git"

# --- a case on the street, committed and pushed --------------------------------
run ts -C "$street" case new --category small_ads --source patrol --address "景山前街 4号"
check "a case is recorded on the street" exit_is 0
case_id=$(cat "$work/out")
run ts -C "$street" commit -m "巡查发现小广告"
check "the street commits" exit_is 0
street_head=$(on_git "$street" rev-parse HEAD)

run ts -C "$street" push
check "push succeeds" exit_is 0
check "push says where the history went" stdout_has "refs/submissions/bj.dc.jingshan"
check "push prints no progress when stderr is not a terminal" stderr_is_empty
check "git: the district holds the street's HEAD as its submission" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$street_head"
check "git: the submitted commit names the officer" \
	is "$(on_git "$district" log -1 --format=%an refs/submissions/bj.dc.jingshan)" "王伟"
check "git: the submitted tree holds the case row" \
	sh -c 'git --git-dir "$1/history.git" ls-tree -r --name-only refs/submissions/bj.dc.jingshan | grep -q "^cases/.*/$2\$"' - "$district" "$case_id"
check "git fsck --strict: the district's history is clean after the push" fsck_clean "$district"
check "the district's own main is untouched" \
	is "$(on_git "$district" rev-parse HEAD)" "$(on_git "$district" rev-parse refs/heads/main)"
run ts -C "$district" verify
check "the district still verifies (a submission is not its state)" exit_is 0

run ts -C "$street" push --json
check "a second push succeeds" exit_is 0
check "push --json is valid JSON" json_valid "$work/out"
check "push --json: nothing changed this time" is "$(json_get "$work/out" '$.updated')" 0
check "push --json names the commit" is "$(json_get "$work/out" '$.commit')" "$street_head"
check "push --json names the ref" is "$(json_get "$work/out" '$.ref')" "refs/submissions/bj.dc.jingshan"
packs_before=$(ls "$district/history.git/objects/pack" | wc -l)
run ts -C "$street" push
check "a push with nothing new says so" stdout_has "already has"
check "a push with nothing new writes nothing at the district" \
	is "$(ls "$district/history.git/objects/pack" | wc -l)" "$packs_before"

# the submission ref belongs to the street: a push overwrites whatever is there
on_git "$district" update-ref refs/submissions/bj.dc.jingshan "$(on_git "$district" rev-parse HEAD)"
run ts -C "$street" push
check "push overwrites a submission ref that moved (forced)" exit_is 0
check "git: the submission is the street's HEAD again" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$street_head"

# --- the district moves on; the street fetches it ---------------------------------
run ts -C "$district" case new --category outside_store --source complaint --address "东四北大街 1号"
check "a case is recorded at the district" exit_is 0
run ts -C "$district" commit -m "区级受理"
check "the district commits" exit_is 0
district_head=$(on_git "$district" rev-parse HEAD)

run ts -C "$street" fetch
check "fetch succeeds" exit_is 0
check "fetch prints the fetched commit id" is "$(cat "$work/out")" "$district_head"
check "fetch: nothing on stderr when not a terminal" stderr_is_empty
check "git: refs/remotes/upstream/main is the district's HEAD" \
	is "$(on_git "$street" rev-parse refs/remotes/upstream/main)" "$district_head"
check "git: the street's own main did not move" is "$(on_git "$street" rev-parse refs/heads/main)" "$street_head"
check "sqlite3: the fetch keeps what it admitted, onto which head, for the merge" \
	is "$(db "$street" "SELECT substr(value, 1, 81) FROM ts_meta WHERE key = 'admitted'")" \
	"$district_head $street_head"
check "git fsck --strict: the street's history is clean after the fetch" fsck_clean "$street"
check "git: the fetched history reads back whole" \
	sh -c 'git --git-dir "$1/history.git" log --format=%s refs/remotes/upstream/main | grep -qx "区级受理"' - "$street"
run ts -C "$street" verify
check "the street still verifies" exit_is 0
check "fetch leaves no quarantine behind in history.git" \
	sh -c '! ls -d "$1"/history.git/tiersync-incoming-* "$1"/history.git/tiersync-kept-* 2>/dev/null' - "$street"

# what a fetch killed mid-way leaves (a quarantine whose owner is gone) goes
# with the next fetch; one made a moment ago by a fetch still setting up stays
mkdir "$street/history.git/tiersync-incoming-killed" "$street/history.git/tiersync-incoming-new"
: >"$street/history.git/tiersync-incoming-killed/owner.lock"
run ts -C "$street" fetch
check "a fetch after a killed one succeeds" exit_is 0
check "the killed fetch's quarantine is removed" test ! -e "$street/history.git/tiersync-incoming-killed"
check "a quarantine being set up right now is left alone" test -d "$street/history.git/tiersync-incoming-new"
rmdir "$street/history.git/tiersync-incoming-new"
run ts -C "$street" fetch --json
check "fetch --json is valid JSON" json_valid "$work/out"
check "fetch --json: nothing new" is "$(json_get "$work/out" '$.updated')" 0
check "fetch --json names the ref" is "$(json_get "$work/out" '$.ref')" "refs/remotes/upstream/main"

# --- more remotes: the node directory, file:// ---------------------------------
run ts -C "$street" remote add bynode "$district"
check "remote add takes the node's directory" exit_is 0
run ts -C "$street" remote add byurl "file://$district"
check "remote add takes a file:// URL" exit_is 0
run ts -C "$street" fetch bynode
check "fetch by the node's directory" is "$(cat "$work/out")" "$district_head"
run ts -C "$street" fetch byurl
check "fetch by file:// URL" is "$(cat "$work/out")" "$district_head"
check "git: refs/remotes/byurl/main is the district's HEAD" \
	is "$(on_git "$street" rev-parse refs/remotes/byurl/main)" "$district_head"
run ts -C "$street" case dispatch "$case_id" --officer "李娜" --author "李娜"
run ts -C "$street" commit -m "派遣"
street_head=$(on_git "$street" rev-parse HEAD)
run ts -C "$street" push byurl
check "push by file:// URL" exit_is 0
check "git: the district has the street's new HEAD" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$street_head"
check "git fsck --strict: still clean" fsck_clean "$district"

run ts -C "$street" remote list --json
check "remote list --json is valid JSON" json_valid "$work/out"
check "remote list --json lists three remotes" is "$(json_length "$work/out" '$')" 3
check "remote list --json: the node directory is stored absolute" \
	is "$(json_get "$work/out" '$[1].url')" "$district"

run ts -C "$street" remote remove byurl
check "remote remove succeeds" exit_is 0
check "remote remove drops the fetched ref" \
	sh -c '! git --git-dir "$1/history.git" rev-parse -q --verify refs/remotes/byurl/main' - "$street"
run ts -C "$street" remote list --json
check "two remotes are left" is "$(json_length "$work/out" '$')" 2
check "the street's config no longer names it" sh -c '! git config -f "$1/config" remote.byurl.url' - "$street"

# --- refusals: one line, exit 1 (or 2 for bad usage), nothing changed ----------
run ts -C "$street" remote add bynode "$district"
check "remote add refuses a name in use" exit_is 1
check "remote add refusal is one line" stderr_is_one_line
run ts -C "$street" remote add nowhere "$work/nowhere"
check "remote add refuses a path with nothing there" exit_is 1
check "remote add refusal names the path" stderr_has "$work/nowhere"
run ts -C "$street" remote add "bad name" "$district"
check "remote add refuses a bad name (usage)" exit_is 2
run ts -C "$street" remote add web "https://example.org/x.git"
check "remote add refuses an unsupported URL" exit_is 1
run ts -C "$street" remote add
check "remote add without arguments is bad usage" exit_is 2

# a path that went away: configured by hand, then pushed to
git config -f "$street/config" remote.gone.url "$work/gone/history.git"
run ts -C "$street" push gone
check "push to a bad path fails" exit_is 1
check "push to a bad path: one line" stderr_is_one_line
check "push to a bad path names the remote" stderr_has "remote gone"
check "push to a bad path names the path" stderr_has "$work/gone"
run ts -C "$street" fetch gone
check "fetch from a bad path fails" exit_is 1
check "fetch from a bad path: one line naming the remote" stderr_has "remote gone"
run ts -C "$street" push nosuch
check "push to an unknown remote fails" exit_is 1
check "push to an unknown remote says how to add one" stderr_has "tiersync remote add nosuch"
run ts -C "$street" push upstream extra
check "push with two remotes is bad usage" exit_is 2
run ts -C "$street" fetch --timeout 0
check "fetch --timeout 0 is bad usage" exit_is 2
run ts -C "$street" remote remove nosuch
check "remote remove of an unknown remote fails" exit_is 1
run ts -C "$street" remote trust upstream
check "remote trust of a local remote is refused" exit_is 1
check "remote trust of a local remote says why" stderr_has "no host key"

# a plain git repository (no tiersync node) works as an upper history too
git init -q --bare "$work/plain.git"
run ts -C "$street" remote add plain "$work/plain.git"
check "remote add takes a plain bare repository" exit_is 0
run ts -C "$street" push plain
check "push to a plain bare repository" exit_is 0
check "git: the plain repository holds the submission" \
	is "$(git --git-dir "$work/plain.git" rev-parse refs/submissions/bj.dc.jingshan)" "$street_head"
ls "$street/history.git/objects/pack" >"$work/packs-before"
run ts -C "$street" fetch plain
check "fetch from a repository without main fails" exit_is 1
check "fetch without main says so" stderr_has "has no refs/heads/main"
ls "$street/history.git/objects/pack" >"$work/packs-after"
check "a failed fetch adds nothing to the node's objects" same_files "$work/packs-before" "$work/packs-after"
check "a failed fetch leaves no quarantine behind" \
	sh -c '! ls -d "$1"/history.git/tiersync-incoming-* "$1"/history.git/tiersync-kept-* 2>/dev/null' - "$street"

# --- progress on a terminal ---------------------------------------------------
if command -v script >/dev/null 2>&1; then
	run ts -C "$street" case dispatch "$case_id" --officer "李娜" --author "李娜"
	run ts -C "$street" commit -m "指派"
	script -qec "\"$TIERSYNC\" -C \"$street\" push" /dev/null >"$work/tty" 2>&1 || true
	check "on a terminal, push shows a progress line updated in place" \
		sh -c 'tr "\r" "\n" <"$1" | grep -Eq "^push upstream: .* (objects|commits?)"' - "$work/tty"
	check "on a terminal, push still reports where it went" file_has "$work/tty" "pushed main"
	script -qec "\"$TIERSYNC\" -C \"$street\" fetch" /dev/null >"$work/tty" 2>&1 || true
	check "on a terminal, fetch still prints the commit" file_has "$work/tty" "$district_head"
fi
