#!/bin/sh
# A street syncs back to its district the merge the district made of its
# own submission: the push carries no new object (git sends a pack of none),
# and the district's next command must find nothing to repair and say so
# by saying nothing.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dongcheng
st=$work/jingshan
district_and_street
ts -C "$st" pull >/dev/null

ts -C "$dc" case new --category signboard --source patrol --address "东直门内大街 1号" >/dev/null
ts -C "$dc" commit -m "district's own" >/dev/null
ts -C "$st" case new --category small_ads --source patrol --address "景山前街 4号" >/dev/null
ts -C "$st" commit -m "street's own" >/dev/null
ts -C "$st" push >/dev/null
run ts -C "$dc" merge --submissions
check "the district merges the submission (a merge commit: both sides moved)" stdout_has "merged"
merged=$(on_git "$dc" rev-parse HEAD)
run ts -C "$st" sync
check "the street syncs: it takes the merge and pushes it back" exit_is 0
check "  ...the push carried nothing new" stdout_has "push upstream: sent"
check "  ...as the submission, now the district's main" is "$(on_git "$dc" rev-parse refs/submissions/bj.dc.jingshan)" "$merged"
run ts -C "$dc" status
check "the district's next command succeeds" exit_is 0
check "  ...with nothing to repair, so no note" stderr_is_empty
run ts -C "$dc" verify
check "the district equals its history" exit_is 0
check "  ...and stock git finds it sound" fsck_sound "$dc"
run ts -C "$dc" merge --submissions
check "merging again finds nothing new" stdout_has "up to date"
check "  ...and still no note" stderr_is_empty
