#!/bin/sh
# Urgent reports on a USB stick: a street office with a backlog and an
# urgent report writes its submission bundle; the bundle carries the urgent
# commit a push would send first, as a second ref, refs/urgent/<street>,
# and stock git still verifies the file. The district's import takes it as
# the gate takes a push to refs/urgent/<street>: the urgent commit's shape
# checked, then admitted, then merged before the submission, so that its
# main shows the reports merged first and ends on the tree a push and
# `merge --submissions` give a twin of it. A bundle with the urgent ref of
# another node, an urgent commit of another shape, an urgent ref without
# its submission or with an update is refused whole, nothing moved.
# Stock git and sqlite3 judge.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dongcheng
st=$work/jingshan
usb=$work/usb
mkdir "$usb"
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"
ts -C "$st" pull >/dev/null
base=$(on_git "$dc" rev-parse refs/heads/main)

# --- a backlog, then an urgent report ---------------------------------------------
i=1
while [ "$i" -le 6 ]; do
	ts -C "$st" case new --category small_ads --source patrol --address "景山前街 $i 号" --author "王伟" >/dev/null
	ts -C "$st" commit -m "巡查 $i" >/dev/null
	i=$((i + 1))
done
gas=$(ts -C "$st" case new --category gas_safety --source patrol --address "景山后街 9号" --author "王伟")
ts -C "$st" commit -m "燃气安全" >/dev/null
report=$(ts -C "$st" urgent new --subject "景山后街液化气罐泄漏" --case "$gas" --author "王伟")
st_main=$(on_git "$st" rev-parse refs/heads/main)

run ts -C "$st" bundle create "$usb/sub.bundle" --json
check "the street writes its submission bundle" exit_is 0
check "  ...--json is valid JSON" json_valid "$work/out"
urgent=$(json_get "$work/out" '$.bundle.urgent')
check "  ...it carries an urgent commit" test -n "$urgent"
check "  ...holding one report" is "$(json_get "$work/out" '$.urgent_reports')" 1
check "  ...the one a push would send first (refs/urgent-out/upstream)" \
	is "$(on_git "$st" rev-parse refs/urgent-out/upstream)" "$urgent"
check "git bundle verify in the district's history" on_git "$dc" bundle verify "$usb/sub.bundle"
check "git bundle list-heads: the urgent ref first, then the submission" \
	is "$(git bundle list-heads "$usb/sub.bundle" | tr '\n' ' ')" \
	"$urgent refs/urgent/bj.dc.jingshan $st_main refs/submissions/bj.dc.jingshan "
check "git: the urgent commit is one commit on the district's main" \
	is "$(on_git "$st" rev-parse "$urgent^") $(on_git "$st" rev-list --count "$urgent" "^$base")" "$base 1"
on_git "$st" diff-tree -r --name-only "$urgent^" "$urgent" | sed 's,/.*/,/,' | sort >"$work/added"
check "git: it adds the report and its case, nothing else" \
	is "$(tr '\n' ' ' <"$work/added")" "cases/$gas urgent_reports/$report "
run ts -C "$st" bundle create "$usb/sub-text.bundle"
check "the text output names the urgent report first" stdout_has "1 urgent report first: refs/urgent/bj.dc.jingshan"

# --- refused whole ------------------------------------------------------------------
# the urgent ref of another node beside the street's submission
sed '3s|refs/urgent/bj.dc.jingshan|refs/urgent/bj.dc.donghuamen|' "$usb/sub.bundle" >"$usb/other.bundle"
check "stock git still reads the renamed ref" on_git "$dc" bundle verify "$usb/other.bundle"
forbidden "another node's urgent ref" "only the urgent reports of the node whose submission it is" "$dc" \
	ts -C "$dc" bundle import "$usb/other.bundle"
# an urgent ref naming the whole backlog: not one commit on the district's main
sed "3s|^$urgent|$st_main|" "$usb/sub.bundle" >"$usb/backlog.bundle"
forbidden "an urgent ref naming the backlog" "does not stand on a commit of this node's main" "$dc" \
	ts -C "$dc" bundle import "$usb/backlog.bundle"
# crafted with stock git: signed by the street, built on the district's
# main, adding the report and a case it does not name
craft=$work/craft.git
git clone -q --bare "$st/history.git" "$craft"
cg() { GIT_INDEX_FILE=$work/craft.index git --git-dir "$craft" "$@"; }
cg read-tree "$base"
other=$(on_git "$st" ls-tree -r --name-only "$st_main" cases/ | grep -v "/$gas\$" | head -n 1)
for p in $(on_git "$st" ls-tree -r --name-only "$urgent" | grep -e "^urgent_reports/" -e "/$gas\$") "$other"; do
	cg update-index --add --cacheinfo "100644,$(on_git "$st" rev-parse "$st_main:$p"),$p"
done
crafted=$(GIT_AUTHOR_NAME="王伟" GIT_AUTHOR_EMAIL=bj.dc.jingshan GIT_COMMITTER_NAME=bj.dc.jingshan \
	GIT_COMMITTER_EMAIL=bj.dc.jingshan cg -c gpg.format=ssh -c user.signingkey="$st/id_ed25519" \
	commit-tree -S -p "$base" -m "urgent reports of bj.dc.jingshan: 1" "$(cg write-tree)")
check "git: the crafted commit adds three rows on the district's main" \
	is "$(git --git-dir "$craft" diff-tree -r --name-only "$base" "$crafted" | wc -l)" 3
git --git-dir "$craft" update-ref refs/urgent/bj.dc.jingshan "$crafted"
git --git-dir "$craft" update-ref refs/submissions/bj.dc.jingshan "$st_main"
git --git-dir "$craft" bundle create "$usb/crafted.bundle" refs/urgent/bj.dc.jingshan \
	refs/submissions/bj.dc.jingshan "^$base" >/dev/null 2>&1
check "stock git made the crafted bundle" on_git "$dc" bundle verify "$usb/crafted.bundle"
forbidden "a crafted urgent commit with a case no report names" "is a case no urgent report in it names" "$dc" \
	ts -C "$dc" bundle import "$usb/crafted.bundle"
check "  ...naming the commit" stderr_has "$(printf %.12s "$crafted")"
# an urgent ref alone, and one beside an update
git --git-dir "$craft" bundle create "$usb/alone.bundle" refs/urgent/bj.dc.jingshan "^$base" >/dev/null 2>&1
forbidden "an urgent ref without its submission" "urgent reports travel with the submission" "$dc" \
	ts -C "$dc" bundle import "$usb/alone.bundle"
on_git "$dc" bundle create "$usb/update.bundle" refs/heads/main >/dev/null 2>&1
git --git-dir "$craft" fetch -q "$usb/update.bundle" "+refs/heads/main:refs/heads/district"
git --git-dir "$craft" bundle create "$usb/update-urgent.bundle" refs/heads/district \
	refs/urgent/bj.dc.jingshan >/dev/null 2>&1
sed '/^[0-9a-f]* refs\/heads\/district$/s|refs/heads/district|refs/heads/main|' "$usb/update-urgent.bundle" \
	>"$usb/update-urgent2.bundle"
forbidden "an urgent ref beside an update from above" "refs/urgent/bj.dc.jingshan with refs/heads/main" "$st" \
	ts -C "$st" bundle import "$usb/update-urgent2.bundle"
check "no quarantine left behind at the district" \
	is "$(ls "$dc/history.git" | grep -c tiersync-incoming || true)" 0

# --- taken as a push and merge --submissions take it ------------------------------------
twin_merged "$st" "$dc"

run ts -C "$dc" bundle import "$usb/sub.bundle" --json
check "the district imports the bundle" exit_is 0
check "  ...--json is valid JSON" json_valid "$work/out"
check "  ...its urgent reports merged first" is "$(json_get "$work/out" '$.urgent_merged')" 1
check "git: refs/urgent/bj.dc.jingshan is the urgent commit, as a push sets it" \
	is "$(on_git "$dc" for-each-ref --format='%(refname) %(objectname)' refs/urgent/)" \
	"refs/urgent/bj.dc.jingshan $urgent"
check "git: refs/submissions/bj.dc.jingshan is the street's main" \
	is "$(on_git "$dc" rev-parse refs/submissions/bj.dc.jingshan)" "$st_main"
# (the district's main had not moved since the street's pull: the urgent
# commit fast-forwards it, as merge --submissions would)
check "git: main took the urgent commit first, then merged the submission" \
	is "$(on_git "$dc" log --first-parent --format=%H -2 refs/heads/main | sed -n 2p)" "$urgent"
check "git: ...the submission's merge is the last commit" \
	is "$(on_git "$dc" log --format=%s -1 refs/heads/main) $(on_git "$dc" rev-parse 'main^2')" \
	"merge submission of bj.dc.jingshan $st_main"
check "the same tree as push and merge --submissions give" \
	is "$(on_git "$dc" rev-parse 'main^{tree}')" "$(on_git "$work/twin" rev-parse 'main^{tree}')"
check "sqlite3: the report is at the district" \
	is "$(db "$dc" "SELECT subject || '|' || case_id FROM urgent_reports WHERE id = '$report'")" \
	"景山后街液化气罐泄漏|$gas"
check "sqlite3: ...with the backlog" \
	is "$(db "$dc" "SELECT count(*) FROM cases WHERE jurisdiction = 'bj.dc.jingshan'")" 7
run ts -C "$dc" conflicts --all
check "no conflict recorded, not even settled" stdout_has "no conflicts recorded"
check "the district verifies" ts -C "$dc" verify
check "stock git fsck on the district" fsck_sound "$dc"
check "git: the district verifies the urgent commit's signature" \
	sh -c 'git --git-dir "$1/history.git" cat-file commit "$2" | grep -q "^gpgsig "' - "$dc" "$urgent"
head=$(on_git "$dc" rev-parse refs/heads/main)
run ts -C "$dc" merge --submissions
check "merge --submissions afterwards: exit 0" exit_is 0
check "  ...main has not moved" is "$(on_git "$dc" rev-parse refs/heads/main)" "$head"
snapshot "$dc" "$work/before"
run ts -C "$dc" bundle import "$usb/sub.bundle"
check "importing it again: nothing new" stdout_has "nothing new"
snapshot "$dc" "$work/after"
check "  ...and nothing moved" same_files "$work/before" "$work/after"

# --- again, with the district's main moved on: the urgent commit merges first ------------
ts -C "$dc" case new --category small_ads --source patrol --address "东四 1号" --author "张敏" >/dev/null
ts -C "$dc" commit -m "区里的案件" >/dev/null
ts -C "$st" case new --category small_ads --source patrol --address "景山前街 20 号" --author "王伟" >/dev/null
ts -C "$st" commit -m "巡查 20" >/dev/null
report2=$(ts -C "$st" urgent new --subject "景山西街树木倒伏" --author "王伟")
st_main=$(on_git "$st" rev-parse refs/heads/main)
run ts -C "$st" bundle create "$usb/sub2.bundle" --json
check "the second bundle carries a new urgent commit" exit_is 0
urgent2=$(json_get "$work/out" '$.bundle.urgent')
check "  ...on what the street last took from the district" is "$(on_git "$st" rev-parse "$urgent2^")" "$base"
check "git bundle verify in the district's history" on_git "$dc" bundle verify "$usb/sub2.bundle"
run ts -C "$dc" bundle import "$usb/sub2.bundle"
check "the district imports it" exit_is 0
check "  ...saying the urgent reports went first" stdout_has "urgent reports first"
check "git: main merged the urgent reports, then the submission" \
	is "$(on_git "$dc" log --first-parent --format=%s -2 refs/heads/main | tr '\n' '|')" \
	"merge submission of bj.dc.jingshan|merge urgent reports of bj.dc.jingshan|"
check "git: the first merge's other parent is the urgent commit" is "$(on_git "$dc" rev-parse 'main~1^2')" "$urgent2"
check "sqlite3: the second report is at the district" \
	is "$(db "$dc" "SELECT count(*) FROM urgent_reports WHERE id = '$report2'")" 1
run ts -C "$dc" conflicts --all
check "no conflict recorded" stdout_has "no conflicts recorded"
check "the district verifies" ts -C "$dc" verify

# --- the urgent commit only when something is known to be held above ---------------------
ts init "$work/new" --tier street --id bj.dc.donghuamen --upstream "$dc" --author "孙" >/dev/null
ts -C "$work/new" urgent new --subject "东华门大街火情" --author "孙" >/dev/null
run ts -C "$work/new" bundle create "$usb/new.bundle" --json
check "a street that never took its district's main: written" exit_is 0
check "  ...without an urgent ref (its whole history carries the report)" \
	is "$(json_get "$work/out" '$.bundle.urgent')" ""
check "  ...git bundle list-heads names the submission alone" \
	is "$(git bundle list-heads "$usb/new.bundle" | awk '{ print $2 }')" refs/submissions/bj.dc.donghuamen
