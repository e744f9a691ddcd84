#!/bin/sh
# A fetch names the commits it holds, not only its tips: a street with
# commits of its own since it last pulled, fetching its district under a
# name it never fetched before (no ref of it to name as held), is sent the
# district's one new commit, not the district's whole history again.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dongcheng
st=$work/jingshan
district_and_street
for n in 1 2 3 4 5 6; do
	ts -C "$dc" case new --category signboard --source patrol --address "东直门内大街 $n号" >/dev/null
	ts -C "$dc" commit -m "district's case $n" >/dev/null
done
ts -C "$st" pull >/dev/null
for n in 1 2 3; do
	ts -C "$st" case new --category small_ads --source patrol --address "景山前街 $n号" >/dev/null
	ts -C "$st" commit -m "street's case $n" >/dev/null
done
ts -C "$dc" case new --category signboard --source patrol --address "东直门内大街 7号" >/dev/null
ts -C "$dc" commit -m "district's case 7" >/dev/null
district_commits=$(on_git "$dc" rev-list --count HEAD)

ts -C "$st" remote add again "$dc" >/dev/null
run ts -C "$st" fetch again --json
check "the first fetch under a new name succeeds" exit_is 0
check "  ...and lands the district's main" is "$(on_git "$st" rev-parse refs/remotes/again/main)" "$(on_git "$dc" rev-parse HEAD)"
check "  ...sending the one commit the street lacks (of $district_commits)" is "$(json_get "$work/out" '$.commits')" 1
run ts -C "$st" merge again/main
check "the street merges it" exit_is 0
run ts -C "$st" verify
check "  ...and equals its history" exit_is 0
check "  ...which stock git finds sound" fsck_sound "$st"
finished
