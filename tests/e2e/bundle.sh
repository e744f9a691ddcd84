#!/bin/sh
# Bundles: a sync carried on a USB stick. A city, a district, a street
# office and a device pass their work up and down as bundle files only;
# stock git verifies each file (`git bundle verify` inside the receiving
# node's history, `git bundle list-heads`), and each receiving node ends on
# the tree a push and `merge --submissions`, or a pull, gives a twin of it.
# Truncated, altered, foreign and crafted bundles are refused in one line
# with nothing moved; importing twice and out of order is harmless.
. "$TS_TOP/tests/e2e/lib.sh"

city=$work/city
dc=$work/dc
st=$work/jingshan
dev=$work/d07
usb=$work/usb
mkdir "$usb"
ts init "$city" --tier city --id bj --author "王城" >/dev/null
ts init "$dc" --tier district --id bj.dc --upstream "$city" --author "张区" >/dev/null
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "李街" >/dev/null
ts init "$dev" --tier device --id bj.dc.jingshan.d07 --upstream "$st" --author "赵强" >/dev/null
enroll "$city" bj.dc "$dc/id_ed25519.pub"
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"
enroll "$st" bj.dc.jingshan.d07 "$dev/id_ed25519.pub"

tree() {
	on_git "$1" rev-parse 'refs/heads/main^{tree}'
}

# stock git reads the file: verify (inside the receiving node's history,
# where its prerequisites must be) and list-heads name the ref
stock_git_reads() {
	_file=$1
	_node=$2
	_ref=$3
	check "$(basename "$_file"): git bundle verify in $(basename "$_node")" \
		on_git "$_node" bundle verify "$_file"
	check "$(basename "$_file"): git bundle list-heads names $_ref" \
		is "$(git bundle list-heads "$_file" | awk '{ print $2 }')" "$_ref"
}

# down UPPER LOWER LOWER_ID NAME: an update from UPPER for LOWER, on the
# stick and into LOWER; a twin of LOWER pulls instead, and both hold one tree.
down() {
	_file=$usb/$4.bundle
	run ts -C "$1" bundle create "$_file" --for "$3" --json
	check "$4: the update is written" exit_is 0
	check "$4: --json is valid JSON" json_valid "$work/out"
	check "$4: it carries refs/heads/main" is "$(json_get "$work/out" '$.bundle.ref')" refs/heads/main
	stock_git_reads "$_file" "$2" refs/heads/main
	rm -rf "$work/twin"
	cp -a "$2" "$work/twin"
	ts -C "$work/twin" pull >/dev/null
	run ts -C "$2" bundle import "$_file"
	check "$4: imported" exit_is 0
	check "$4: the same tree as a pull gives" is "$(tree "$2")" "$(tree "$work/twin")"
	check "$4: $(basename "$2") verifies" ts -C "$2" verify
}

# up LOWER UPPER NAME: a submission of LOWER, on the stick and into UPPER;
# a twin of UPPER takes a push and merges submissions instead.
up() {
	_file=$usb/$3.bundle
	_id=$(ts -C "$1" config node.id)
	run ts -C "$1" bundle create "$_file" --json
	check "$3: the submission is written" exit_is 0
	check "$3: it carries refs/submissions/$_id" \
		is "$(json_get "$work/out" '$.bundle.ref')" "refs/submissions/$_id"
	stock_git_reads "$_file" "$2" "refs/submissions/$_id"
	twin_merged "$1" "$2"
	run ts -C "$2" bundle import "$_file" --json
	check "$3: imported" exit_is 0
	check "$3: as a submission of $_id" is "$(json_get "$work/out" '$.from')" "$_id"
	check "$3: the same tree as push and merge --submissions give" is "$(tree "$2")" "$(tree "$work/twin")"
	check "$3: $(basename "$2") verifies" ts -C "$2" verify
}

# --- down the tiers: each lower node gets what is above it ----------------
down "$city" "$dc" bj.dc city-to-dc
down "$dc" "$st" bj.dc.jingshan dc-to-st
down "$st" "$dev" bj.dc.jingshan.d07 st-to-dev
check "the first update to the device holds the whole history (no prerequisite)" \
	is "$(sed -n 2p "$usb/st-to-dev.bundle" | cut -d' ' -f2)" refs/heads/main

# --- work at every tier, carried up ----------------------------------------
dcase=$(ts -C "$dev" case new --category small_ads --source patrol --address "景山前街 7号" --author "赵强")
ts -C "$dev" commit -m "a case on the street" >/dev/null
scase=$(ts -C "$st" case new --category outdoor_bbq --source complaint --address "景山后街 2号" --author "李街")
ts -C "$st" commit -m "a street case" >/dev/null
up "$dev" "$st" dev-to-st
check "the device's case reached the street" \
	is "$(db "$st" "SELECT count(*) FROM cases WHERE id IN ('$dcase', '$scase')")" 2
up "$st" "$dc" st-to-dc
up "$dc" "$city" dc-to-city
check "both cases reached the city" \
	is "$(db "$city" "SELECT count(*) FROM cases WHERE id IN ('$dcase', '$scase')")" 2
check "the city's history names the device's officer (stock git)" \
	is "$(on_git "$city" log --format=%an main | grep -m 1 赵强)" 赵强

# --- and back down: every node ends on the city's tree ---------------------
area=$(ts -C "$city" area add "天安门地区" --zone "长安街以北" --reason "游客密集" --in bj.dc --author "刘局")
ts -C "$city" commit -m "a key area" >/dev/null
down "$city" "$dc" bj.dc city-to-dc-2
down "$dc" "$st" bj.dc.jingshan dc-to-st-2
down "$st" "$dev" bj.dc.jingshan.d07 st-to-dev-2
check "the city's key area reached the device" \
	is "$(db "$dev" "SELECT count(*) FROM key_areas WHERE id = '$area'")" 1
check "an update builds on what the lower node submitted" \
	is "$(sed -n 2p "$usb/dc-to-st-2.bundle" | cut -c2-41)" "$(on_git "$dc" rev-parse refs/submissions/bj.dc.jingshan)"
check "the street and the device hold one tree" is "$(tree "$st")" "$(tree "$dev")"
check "stock git fsck on the device" fsck_sound "$dev"

# --- twice, and out of order -----------------------------------------------
run ts -C "$dc" bundle import "$usb/st-to-dc.bundle"
check "importing a bundle again: exit 0" exit_is 0
check "  ...says nothing new" stdout_has "nothing new"
ts -C "$st" case new --category small_ads --source patrol --address "景山前街 9号" >/dev/null
ts -C "$st" commit -m one >/dev/null
ts -C "$st" bundle create "$usb/one.bundle" >/dev/null
c2=$(ts -C "$st" case new --category small_ads --source patrol --address "景山前街 11号")
ts -C "$st" commit -m two >/dev/null
ts -C "$st" bundle create "$usb/two.bundle" >/dev/null
run ts -C "$dc" bundle import "$usb/two.bundle"
check "the newer bundle first" exit_is 0
submitted=$(on_git "$dc" rev-parse refs/submissions/bj.dc.jingshan)
snapshot "$dc" "$work/before"
run ts -C "$dc" bundle import "$usb/one.bundle" --json
check "then the older one: exit 0" exit_is 0
check "  ...nothing new" is "$(json_get "$work/out" '$.nothing_new')" 1
snapshot "$dc" "$work/after"
check "  ...and nothing moved" same_files "$work/before" "$work/after"
check "  ...the submission ref not moved back" \
	is "$(on_git "$dc" rev-parse refs/submissions/bj.dc.jingshan)" "$submitted"
check "the second case is at the district" is "$(db "$dc" "SELECT count(*) FROM cases WHERE id = '$c2'")" 1
ts -C "$dc" bundle create "$usb/u1.bundle" --for bj.dc.jingshan >/dev/null
ts -C "$dc" case new --category small_ads --source patrol --address "东四 1号" >/dev/null
ts -C "$dc" commit -m "district case" >/dev/null
ts -C "$dc" bundle create "$usb/u2.bundle" --for bj.dc.jingshan >/dev/null
run ts -C "$st" bundle import "$usb/u2.bundle"
check "the street takes the newer update" exit_is 0
run ts -C "$st" bundle import "$usb/u1.bundle"
check "  ...then the older one: nothing new" stdout_has "nothing new"
run ts -C "$st" bundle import "$usb/u2.bundle"
check "  ...and the newer again: nothing new" stdout_has "nothing new"
check "the street and the district hold one tree" is "$(tree "$st")" "$(tree "$dc")"

# --- refused whole, with nothing moved --------------------------------------
ts -C "$st" case new --category small_ads --source patrol --address "景山前街 13号" >/dev/null
ts -C "$st" commit -m three >/dev/null
ts -C "$st" bundle create "$usb/three.bundle" >/dev/null
size=$(wc -c <"$usb/three.bundle")
head -c $((size - 1)) "$usb/three.bundle" >"$usb/cut.bundle"
forbidden "a bundle cut short by one byte" "cut short" "$dc" ts -C "$dc" bundle import "$usb/cut.bundle"
head -c $((size / 2)) "$usb/three.bundle" >"$usb/half.bundle"
forbidden "a bundle cut in half" "damaged" "$dc" ts -C "$dc" bundle import "$usb/half.bundle"
head -c 60 "$usb/three.bundle" >"$usb/header.bundle"
forbidden "a bundle cut inside its header" "not a whole git bundle" "$dc" ts -C "$dc" bundle import "$usb/header.bundle"

# one byte flipped: in the header's prerequisite, its ref's id, its ref's
# name, the pack's header, its middle, its checksum
flip() {
	cp "$usb/three.bundle" "$usb/flip.bundle"
	_byte=$(od -An -tu1 -j "$1" -N1 "$usb/flip.bundle" | tr -d ' ')
	printf "$(printf '\\%03o' $((_byte ^ $2)))" |
		dd of="$usb/flip.bundle" bs=1 seek="$1" conv=notrunc 2>/dev/null
}
pack_at=$(grep -abo PACK "$usb/three.bundle" | head -n 1 | cut -d: -f1)
for at in 20 60 70 75 $((pack_at - 3)) $((pack_at + 2)) $((pack_at + 9)) $((pack_at + 40)) \
	$(((pack_at + size) / 2)) $((size - 30)) $((size - 1)); do
	flip "$at" 1
	forbidden "byte $at of $size flipped" "tiersync:" "$dc" ts -C "$dc" bundle import "$usb/flip.bundle"
done
flip 17 32   # lower-case hex made upper case: the same id to a lax reader
forbidden "a prerequisite's hex digit in upper case" "not a whole git bundle" "$dc" \
	ts -C "$dc" bundle import "$usb/flip.bundle"
# bytes all along the bundle (every TS_BUNDLE_STRIDE-th, default 61, to keep
# this short; a stride of 1 tries them all)
small=$usb/three.bundle
refused=0
tried=0
at=0
snapshot "$dc" "$work/before"
while [ "$at" -lt "$size" ]; do
	flip "$at" 4
	tried=$((tried + 1))
	if ts -C "$dc" bundle import "$usb/flip.bundle" >/dev/null 2>&1; then
		printf 'byte %s flipped was taken\n' "$at" >>"$work/taken"
	else
		refused=$((refused + 1))
	fi
	at=$((at + ${TS_BUNDLE_STRIDE:-61}))
done
snapshot "$dc" "$work/after"
check "every one of $tried flipped bundles was refused" is "$refused" "$tried"
check "  ...and none moved anything" same_files "$work/before" "$work/after"

# a bundle for another node: another district's, and the device's, at the district
ts init "$work/xc" --tier district --id bj.xc --upstream "$city" --author "周区" >/dev/null
enroll "$city" bj.xc "$work/xc/id_ed25519.pub"
forbidden "a street's submission at another district" "not a node below bj.xc" "$work/xc" \
	ts -C "$work/xc" bundle import "$usb/three.bundle"
ts -C "$dev" bundle create "$usb/dev.bundle" >/dev/null
forbidden "a device's submission at the district, past its street" "enrolled by bj.dc.jingshan" "$dc" \
	ts -C "$dc" bundle import "$usb/dev.bundle"
ts -C "$dc" bundle create "$usb/for-st.bundle" --for bj.dc.jingshan >/dev/null
forbidden "an update at the city" "no node is above it" "$city" \
	ts -C "$city" bundle import "$usb/for-st.bundle"
forbidden "a street's own submission at the street" "not a node below" "$st" \
	ts -C "$st" bundle import "$usb/three.bundle"
# a ref no node takes: stock git's bundle of a branch
on_git "$st" bundle create "$usb/branch.bundle" refs/heads/main >/dev/null 2>&1
sed '2s|refs/heads/main|refs/heads/work|' "$usb/branch.bundle" >"$usb/other-ref.bundle"
forbidden "a bundle of another ref" "does not take" "$dc" ts -C "$dc" bundle import "$usb/other-ref.bundle"

# built on a commit the district lacks
ts -C "$st" case new --category small_ads --source patrol --address "景山前街 15号" >/dev/null
ts -C "$st" commit -m four >/dev/null
ts -C "$st" bundle create "$usb/since.bundle" --since main >/dev/null
forbidden "a bundle built on a commit the district lacks" "which this node lacks" "$dc" \
	ts -C "$dc" bundle import "$usb/since.bundle"

# another deployment's: a city and district of their own
ts init "$work/sh" --tier city --id bj --author "孙城" >/dev/null
ts init "$work/shdc" --tier district --id bj.dc --upstream "$work/sh" --author "钱区" >/dev/null
enroll "$work/sh" bj.dc "$work/shdc/id_ed25519.pub"
ts -C "$work/sh" bundle create "$usb/foreign.bundle" --for bj.dc >/dev/null
forbidden "another deployment's update" "another deployment's" "$dc" ts -C "$dc" bundle import "$usb/foreign.bundle"

# crafted with stock git: the street changes a rule only the upper tiers
# write, signs it with its own key, and bundles it
craft=$work/craft.git
git clone -q --bare "$st/history.git" "$craft"
path=$(git --git-dir "$craft" ls-tree -r --name-only main | grep '^case_rules/' | head -n 1)
blob=$(git --git-dir "$craft" cat-file -p "main:$path" | sed 's/^value .*/value 1/' |
	git --git-dir "$craft" hash-object -w --stdin)
GIT_INDEX_FILE=$work/craft.index git --git-dir "$craft" read-tree main
GIT_INDEX_FILE=$work/craft.index git --git-dir "$craft" update-index --cacheinfo "100644,$blob,$path"
crafted_tree=$(GIT_INDEX_FILE=$work/craft.index git --git-dir "$craft" write-tree)
check "the crafted tree differs (mktree's view of the change)" \
	sh -c "[ '$crafted_tree' != '$(on_git "$st" rev-parse 'main^{tree}')' ]"
crafted=$(GIT_AUTHOR_NAME=李街 GIT_AUTHOR_EMAIL=bj.dc.jingshan GIT_COMMITTER_NAME=bj.dc.jingshan \
	GIT_COMMITTER_EMAIL=bj.dc.jingshan git --git-dir "$craft" -c gpg.format=ssh \
	-c user.signingkey="$st/id_ed25519" commit-tree -S -p main -m "a shorter deadline" "$crafted_tree")
git --git-dir "$craft" update-ref refs/submissions/bj.dc.jingshan "$crafted"
git --git-dir "$craft" bundle create "$usb/crafted.bundle" refs/submissions/bj.dc.jingshan \
	"^$(on_git "$dc" rev-parse refs/submissions/bj.dc.jingshan)" >/dev/null 2>&1
check "stock git made the crafted bundle" on_git "$dc" bundle verify "$usb/crafted.bundle"
forbidden "a crafted bundle writing a row the street may not write" "may not change case_rules" "$dc" \
	ts -C "$dc" bundle import "$usb/crafted.bundle"

# the good one still goes in after all that
run ts -C "$dc" bundle import "$usb/three.bundle"
check "the good bundle is taken after the refusals" exit_is 0
check "the district verifies" ts -C "$dc" verify
check "stock git fsck on the district" fsck_sound "$dc"
check "no quarantine left behind" is "$(ls "$dc/history.git" | grep -c tiersync-incoming || true)" 0

# --- usage ------------------------------------------------------------------
run ts -C "$city" bundle create "$usb/c.bundle"
check "a city's submission: refused" exit_is 1
check "  ...in one line naming --for" stderr_has "--for NODE"
run ts -C "$dc" bundle create "$usb/x.bundle" --for bj.xc
check "an update for a node not below: refused" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts -C "$dc" bundle
check "no verb: usage (exit 2)" exit_is 2
run ts -C "$dc" bundle create
check "no file: usage (exit 2)" exit_is 2
run ts -C "$dc" bundle import "$usb/x" --for bj.dc.jingshan
check "import does not take --for (exit 2)" exit_is 2
run ts -C "$dc" bundle create "$usb/since-for.bundle" --for bj.dc.jingshan --since main~1 --json
check "--for with --since: written" exit_is 0
check "  ...built on the commit --since names" \
	is "$(sed -n 2p "$usb/since-for.bundle" | cut -c2-41)" "$(on_git "$dc" rev-parse main~1)"
run ts -C "$dc" bundle create "$usb/x" --since no-such-rev
check "an unknown --since: refused (exit 1)" exit_is 1
check "  ...in one line" stderr_is_one_line
run ts bundle --help
check "bundle --help" exit_is 0
check "  ...shows the usage" stdout_has "tiersync bundle create FILE"
