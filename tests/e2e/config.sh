#!/bin/sh
# tiersync config reads and changes NODE/config as git config does: stock
# `git config -f NODE/config` judges every change. The node's id and tier
# are refused with the reason, a typo is refused naming the known keys, and
# a refusal leaves the file as it was.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dc
js=$work/js
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$js" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null

run ts -C "$js" config --list
check "config --list" exit_is 0
git config -f "$js/config" --list >"$work/git-list"
check "  ...is what git config --list says" same_files "$work/out" "$work/git-list"
run ts -C "$js" config --list --json
check "config --list --json is JSON" json_valid "$work/out"
check "  ...one entry per setting" is "$(json_length "$work/out" '$')" "$(wc -l <"$work/git-list" | tr -d ' ')"
check "  ...node.id is not settable" is "$(json_get "$work/out" '$[0].key'),$(json_get "$work/out" '$[0].settable')" "node.id,0"

run ts -C "$js" config user.name
check "config KEY prints its value" is "$(cat "$work/out")" "李街"
run ts -C "$js" config user.name "王伟"
check "config KEY VALUE sets it" exit_is 0
check "  ...as git config reads it" is "$(git config -f "$js/config" user.name)" "王伟"
ts -C "$js" case new --category unlicensed_vending --source patrol --address "景山前街" >/dev/null
check "  ...and the node writes under the new identity" \
	is "$(db "$js" 'SELECT author FROM ts_staged ORDER BY seq DESC LIMIT 1')" "王伟"
run ts -C "$js" config USER.NAME --json
check "config KEY --json, any case of section and name" is "$(json_get "$work/out" '$.value')" "王伟"

run ts -C "$js" config --unset user.name
check "config --unset KEY" exit_is 0
check "  ...git config no longer finds it" check_not "unset" git config -f "$js/config" user.name
run ts -C "$js" config user.name
check "an unset KEY: exit 1, like git" exit_is 1
check "  ...one line" stderr_is_one_line

cp "$js/config" "$work/config-before"
run ts -C "$js" config node.id bj.dc.other
check "node.id is refused (exit 1)" exit_is 1
check "  ...one line" stderr_is_one_line
check "  ...saying why" stderr_has "bound to its key and to its enrollment"
run ts -C "$js" config node.tier city
check "node.tier is refused" exit_is 1
run ts -C "$js" config --unset node.id
check "unsetting node.id is refused" exit_is 1
run ts -C "$js" config user.nmae "王伟"
check "a typo is refused" exit_is 1
check "  ...naming the keys that may be set" stderr_has "user.name, remote.<name>.url and remote.<name>.identity"
run ts -C "$js" config remote.upstream.url ftp://example.invalid/x
check "a URL of an unknown kind is refused" exit_is 1
run ts -C "$js" config --unset remote.upstream.url
check "a remote's url is not unset alone" exit_is 1
check "  ...the CLI says what does it" stderr_has "tiersync remote remove NAME"
check "the refusals left the file as it was" same_files "$work/config-before" "$js/config"

cd "$work"
run ts -C "$js" config remote.mirror.url dc
check "remote.NAME.url with a relative path" exit_is 0
check "  ...taken from the current directory" is "$(git config -f "$js/config" remote.mirror.url)" "$dc"
run ts -C "$js" fetch mirror
check "  ...and the remote works" exit_is 0
run ts -C "$js" config remote.mirror.identity js/id_ed25519
check "remote.NAME.identity" exit_is 0
check "  ...stored absolute" is "$(git config -f "$js/config" remote.mirror.identity)" "$js/id_ed25519"
run ts -C "$js" config remote.nothere.identity js/id_ed25519
check "the identity of a remote without a url is refused" exit_is 1
cd /

run ts -C "$js" config
check "no KEY and no --list is bad usage" exit_is 2
run ts -C "$js" config --list user.name
check "--list with a KEY is bad usage" exit_is 2
run ts -C "$js" config a b c
check "three arguments are bad usage" exit_is 2
run ts -C "$js" config --help
check "config --help names the keys" stdout_has "remote.NAME.identity"
