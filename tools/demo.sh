#!/bin/sh
# make demo: a street office records cases offline, commits them with real
# names, and proves with stock git and sqlite3 who changed what.
# Usage: demo.sh TIERSYNC   (the nodes are left in build/demo to explore)
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/build/demo
rm -rf "$demo"
mkdir -p "$demo"
node=$demo/jingshan

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$bin|tiersync|g; s|$demo/||g"; "$@"; }
ts() { run "$bin" -C "$node" "$@"; }

say "A street office creates its node (景山街道, Dongcheng district, Beijing)"
run "$bin" init "$node" --tier street --id bj.dc.jingshan

say "Officer 王伟 finds small ads on patrol; a complaint comes in about a street stall"
c1=$("$bin" -C "$node" case new --category small_ads --source patrol --address "景山前街 4号" --author "王伟")
echo "$c1"
c2=$("$bin" -C "$node" case new --category unlicensed_vending --source complaint \
	--address "地安门内大街 23号" --set complainant_phone=13800138000 --author "王伟")
echo "$c2"

say "The office dispatches both to officer 李娜; nothing is committed yet, but all is on disk"
ts case update "$c1" --set status=dispatched --set officer="李娜" --author "张敏"
ts case update "$c2" --set status=dispatched --set officer="李娜" --author "张敏"
ts status

say "李娜 handles the first on site (教育核录) and commits the morning's work"
ts case update "$c1" --set status=handling --set stage=educate --author "李娜"
ts commit -m "morning patrol"

say "Afternoon: the ads come back; 李娜 warns the advertiser (警示训诫)"
ts case update "$c1" --set stage=warn --set description="ads re-posted; phone warned" --author "李娜"
ts commit -m "afternoon follow-up" --author "李娜"

say "The history, the case's own history, and what the last commit changed"
ts log
ts log --case "$c1"
ts diff HEAD~1 HEAD

say "Who set each field of the case"
ts blame cases "$c1"

say "Stock tools agree: git reads the history, sqlite3 the database"
run git --git-dir "$node/history.git" log --format='%h %an <%ae> %s'
run git --git-dir "$node/history.git" fsck --strict
path=$(git --git-dir "$node/history.git" ls-tree -r --name-only HEAD | grep "^cases/.*$c1\$")
run git --git-dir "$node/history.git" show "HEAD:$path"
run sqlite3 "$node/tiersync.db" "SELECT id, status, stage, officer FROM cases"

say "The database equals its history"
ts verify

say "Someone edits the database behind the node's back; verify names the field"
run sqlite3 "$node/tiersync.db" "UPDATE cases SET status='closed' WHERE id='$c2'"
if ts verify; then
	echo "demo: verify missed the tampering" >&2
	exit 1
fi
run sqlite3 "$node/tiersync.db" "UPDATE cases SET status='dispatched' WHERE id='$c2'"
ts verify

say "Done. The node is in build/demo/jingshan; try: build/rel/tiersync -C build/demo/jingshan log"
