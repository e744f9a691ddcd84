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
db_one() { "$bin" -C "$1" sql "$2" | tail -n 1; }
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
ts case dispatch "$c1" --officer "李娜" --author "张敏"
ts case dispatch "$c2" --officer "李娜" --author "张敏"
ts status

say "李娜 handles the first on site (教育核录) and commits the morning's work"
ts case educate "$c1" --author "李娜"
ts commit -m "morning patrol"

say "Afternoon: the ads come back; 李娜 warns the advertiser (警示训诫)"
ts case warn "$c1" --note "ads re-posted; phone warned" --author "李娜"
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

# ---------------------------------------------------------------------------
# The tiers: a city, the district, two street offices and an officer's device.
# The district reaches the city over SSH (a real sshd on 127.0.0.1, when it
# can run here) through the city's gate: the city enrolls the district's key
# with the forced command `tiersync gate`, as README.md's "Setting up an
# upper host" says. The others are on this machine and use plain paths; each
# is still enrolled at its upper node before anything of it is merged there
# (their authorized_keys lines go to build/demo/authorized_keys, which no
# sshd reads).
city=$demo/city
district=$demo/dongcheng
street2=$demo/donghuamen
device=$demo/jingshan-d07
sshd_pid=""
stop_sshd() { [ -z "$sshd_pid" ] || kill "$sshd_pid" 2>/dev/null || true; }
trap stop_sshd EXIT

say "The tiers: city 北京, district 东城, street offices 景山 and 东华门, and officer 李娜's handheld"
run "$bin" init "$city" --tier city --id bj --author "刘洋"
upstream_city=$city
if [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null; then
	keys=$demo/ssh
	mkdir -p "$keys" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$keys/host_key"
	ssh-keygen -q -t ed25519 -N '' -C bj.dc -f "$keys/dongcheng_key"
	: >"$keys/authorized_keys"
	port=$((22000 + $$ % 5000))
	cat >"$keys/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $keys/host_key
PidFile $keys/sshd.pid
AuthorizedKeysFile $keys/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CFG
	/usr/sbin/sshd -D -e -f "$keys/sshd_config" 2>"$keys/log" &
	sshd_pid=$!
	sleep 1
	if kill -0 "$sshd_pid" 2>/dev/null; then
		upstream_city="ssh://$(id -un)@127.0.0.1:$port$city/history.git"
		echo "(the city's history is served by sshd on 127.0.0.1:$port)"
	else
		sshd_pid=""
		echo "(sshd could not start here; the district reaches the city by path)"
	fi
fi
if [ -n "$sshd_pid" ]; then
	run "$bin" init "$district" --tier district --id bj.dc --author "张敏" \
		--upstream "$upstream_city" --identity "$keys/dongcheng_key"
	say "An unknown host key is refused; the district trusts the city's key after checking its fingerprint"
	if run "$bin" -C "$district" push; then
		echo "demo: an unknown host key was accepted" >&2
		exit 1
	fi
	run "$bin" -C "$district" remote trust upstream \
		--expect "$(ssh-keygen -lf "$keys/host_key.pub" | awk '{ print $2 }')"
	say "The city enrolls the district's key: a row of sync_signers, and its line in sshd's authorized_keys"
	run "$bin" -C "$city" enroll --node bj.dc --key "$keys/dongcheng_key.pub" --author "刘洋" \
		--authorized-keys "$keys/authorized_keys"
	sed "s|$bin|tiersync|g; s|$demo/||g" "$keys/authorized_keys" | cut -c1-110
else
	run "$bin" init "$district" --tier district --id bj.dc --author "张敏" --upstream "$upstream_city"
	run "$bin" -C "$city" enroll --node bj.dc --key "$district/id_ed25519.pub" --author "刘洋" \
		--authorized-keys "$demo/authorized_keys"
fi
ts remote add upstream "$district"
run "$bin" init "$street2" --tier street --id bj.dc.donghuamen --author "赵强" --upstream "$district"
run "$bin" init "$device" --tier device --id bj.dc.jingshan.d07 --author "李娜" --upstream "$node"

say "Each upper node enrolls the nodes below it before merging anything of theirs"
run "$bin" -C "$district" enroll --node bj.dc.jingshan --key "$node/id_ed25519.pub" \
	--authorized-keys "$demo/authorized_keys"
run "$bin" -C "$district" enroll --node bj.dc.donghuamen --key "$street2/id_ed25519.pub" \
	--authorized-keys "$demo/authorized_keys"
ts enroll --node bj.dc.jingshan.d07 --key "$device/id_ed25519.pub" --author "王伟" \
	--authorized-keys "$demo/authorized_keys"
run "$bin" -C "$city" enroll --list

say "Offline on the handheld, 李娜 records an outdoor barbecue (露天烧烤)"
c3=$("$bin" -C "$device" case new --category outdoor_bbq --source patrol --address "景山东街 17号")
echo "$c3"
run "$bin" -C "$device" commit -m "evening patrol"

say "Back in signal: the device syncs to 景山, which merges and syncs to 东城, which syncs to the city"
run "$bin" -C "$device" sync
ts merge --submissions
ts sync
run "$bin" -C "$street2" sync
run "$bin" -C "$district" merge --submissions
run "$bin" -C "$district" sync
if [ -n "$sshd_pid" ]; then
	# the gate (sshd's forced command) took the commits as their changes, rebuilt them to their
	# ids and admitted them before the ref moved: the city records what it admitted, from whom
	echo "(the district's push went through the city's gate, which rebuilt and admitted it: the city's" \
		"last admitted commit is $("$bin" -C "$city" sql "SELECT substr(value, 1, 12) FROM ts_meta WHERE key = 'admitted'" | tail -n 1), from bj.dc)"
fi
run "$bin" -C "$city" merge --submissions
run "$bin" -C "$city" sql "SELECT id, category, created_by_node FROM cases ORDER BY id"

say "景山 and its district, 东城, dispatch 李娜's case offline, to different officers"
run "$bin" -C "$district" pull
ts case dispatch "$c3" --officer "李娜" --author "张敏"
ts commit -m "dispatch to 李娜"
run "$bin" -C "$district" case dispatch "$c3" --officer "陈刚"
run "$bin" -C "$district" commit -m "dispatch to 陈刚"
ts push

say "The district merges 景山's submission; the conflict waits for review, the merge does not"
run "$bin" -C "$district" merge --submissions
run "$bin" -C "$district" conflicts
conflict=$("$bin" -C "$district" sql "SELECT id FROM sync_conflicts WHERE status = 'open' LIMIT 1" | tail -n 1)

say "张敏 decides: 景山's dispatch stands"
run "$bin" -C "$district" resolve "$conflict" --take theirs --author "张敏"
run "$bin" -C "$district" conflicts --all

# ---------------------------------------------------------------------------
# The enforcement work itself: a case through its lifecycle with evidence, a
# key area and a supervision item between the tiers, a generated year of a
# district's work, and the figures each tier reports from its own data.

say "A complaint case goes through every step: three steps, a major penalty, legal review, filing up"
ts case educate "$c2" --note "无照经营，当事人已登记" --author "李娜"
ts case warn "$c2" --author "李娜"
ts case penalize "$c2" --author "李娜"
ts case file "$c2" --author "李娜"
ts case decide "$c2" --basis "《无照经营查处取缔办法》第十四条" --amount 12000 --author "李娜"
if ts case execute "$c2" --author "李娜"; then
	echo "demo: a major penalty was executed before its legal review" >&2
	exit 1
fi
if ts case review "$c2" --approve --reviewer "周律" --author "周律"; then
	echo "demo: a street reviewed its own major penalty" >&2
	exit 1
fi
ts commit -m "处罚决定"
ts push

say "The district's legal staff review the decision (法制审核), someone other than the deciding officer"
run "$bin" -C "$district" merge --submissions
if "$bin" -C "$district" case review "$c2" --approve --reviewer "李娜" --author "李娜"; then
	echo "demo: the deciding officer reviewed her own decision" >&2
	exit 1
fi
run "$bin" -C "$district" case review "$c2" --approve --reviewer "周律" --author "周律"
run "$bin" -C "$district" commit -m "法制审核"
ts pull
ts case file-up "$c2" --author "李娜"
ts case execute "$c2" --author "李娜"

say "A photo of the stall is kept in history by its SHA-256"
printf 'JPEG stand-in: the stall at 地安门内大街 23号, %s\n' "$(date)" > "$demo/stall.jpg"
ts evidence add "$c2" "$demo/stall.jpg" --kind photo --lng 116.3975 --lat 39.9330 --author "李娜"
ts evidence list "$c2"

say "Feedback, the complainant's return visit, closing; the ads' phone number gets its warning call"
ts case feedback "$c2" --author "李娜"
ts case visit "$c2" --satisfaction satisfied --author "王伟"
ts case close "$c2" --author "李娜"
ts ads add "$c1" 13912345678 --author "李娜"
ts ads warn 13912345678 --outcome warned --author "王伟"
ts case feedback "$c1" --author "李娜"
ts case close "$c1" --author "李娜"
ts commit -m "案件办结"
ts case show "$c2"

say "The city lists a key area in 东城; the district sends 景山 a supervision item (督办)"
ts sync
run "$bin" -C "$district" merge --submissions
run "$bin" -C "$district" sync
run "$bin" -C "$city" merge --submissions
run "$bin" -C "$city" area add "景山公园周边" --zone "景山前街至景山后街" --reason "游客集中，游商反复" \
	--in bj.dc --author "刘洋"
run "$bin" -C "$city" commit -m "重点地区挂账"
run "$bin" -C "$district" pull
run "$bin" -C "$district" area list
run "$bin" -C "$district" case filings --pending
run "$bin" -C "$district" case file-up-ack "$c2" --note "已备案" --author "张敏"
item=$("$bin" -C "$district" supervise issue --to bj.dc.jingshan --subject "景山前街游商回潮" \
	--case "$c1" --due 2099-12-31 --author "张敏")
echo "$item"
run "$bin" -C "$district" commit -m "督办"
ts pull
ts supervise answer "$item" --text "已组织联合整治，游商清理完毕" --author "李娜"
ts commit -m "督办反馈"
ts push
run "$bin" -C "$district" merge --submissions
run "$bin" -C "$district" supervise close "$item" --author "张敏"
run "$bin" -C "$district" commit -m "督办办结"
run "$bin" -C "$district" supervise list

# ---------------------------------------------------------------------------
# A day on the street: a patrol of the key area finds a case (twice: the
# same vendor comes back, a repeat offender), and a shop's responsibility
# zone gets its notice, fails its check and passes after rectifying.
fail() { echo "demo: $*" >&2; exit 1; }
area=$("$bin" -C "$node" sql "SELECT id FROM key_areas WHERE name = '景山公园周边'" | tail -n 1)
[ -n "$area" ] || fail "景山 does not hold the city's key area 景山公园周边"

say "A day on 景山's streets: 王伟 and 李娜 patrol the key area 景山公园周边 (人盯车巡)"
started=$(TZ=CST-8 date -d '-50 min' '+%Y-%m-%d %H:%M')
patrol=$("$bin" -C "$node" patrol start --area "景山公园周边" --key-area "$area" --officer "王伟" --officer "李娜" \
	--at "$started" --author "王伟")
echo "$patrol"

say "On the patrol 李娜 finds a vendor selling off a tricycle (case new --patrol); she records him on site (教育核录)"
c4=$("$bin" -C "$node" case new --patrol "$patrol" --category unlicensed_vending --address "景山前街 1号" \
	--set key_area_id="$area" --author "李娜")
echo "$c4"
if ts party add "$c4" --kind person --name "马建国" --id-number 110102197803150033 --author "李娜"; then
	fail "an identity number was taken before the party's identity was checked"
fi
ts case dispatch "$c4" --officer "李娜" --author "王伟"
ts case educate "$c4" --note "无照游商，教育劝离" --author "李娜"
ts party add "$c4" --kind person --name "马建国" --id-number 110102197803150033 --phone 13701012345 \
	--address "西城区新街口北大街 8号" --author "李娜"

say "Forty minutes later he is back at the east gate: a second case on the same patrol, the same party"
c5=$("$bin" -C "$node" case new --patrol "$patrol" --category unlicensed_vending --address "景山东街 2号" \
	--set key_area_id="$area" --author "李娜")
echo "$c5"
ts case dispatch "$c5" --officer "李娜" --author "王伟"
ts case educate "$c5" --author "李娜"
ts case warn "$c5" --note "屡教不改，警示训诫" --author "李娜"
ts party add "$c5" --kind person --name "马建国" --id-number 110102197803150033 --phone 13701012345 \
	--author "李娜"
ts party list "$c5"
ts party list --repeat
"$bin" -C "$node" party list --repeat --json | grep -q "$c5" || fail "party list --repeat misses 马建国"
ts patrol end "$patrol" --route "景山前街—景山东街—景山后街" --notes "游商2起，已教育登记" --author "王伟"
ts patrol show "$patrol"
[ "$(db_one "$node" "SELECT found FROM patrols WHERE id = '$patrol'")" = 2 ] ||
	fail "the patrol does not count the two cases found on it"

say "鑫源便利店 on the patrol's street: its zone (门前三包), the notice (告知书), a failed check, a passed re-check"
zone=$("$bin" -C "$node" zone add "鑫源便利店" --address "景山前街 9号" --key-area "$area" --author "王伟")
echo "$zone"
if ts zone check "$zone" --met --author "李娜"; then
	fail "a zone was checked before its unit had the notice"
fi
ts zone notice "$zone" --author "王伟"
ts zone check "$zone" --not-met --note "门前堆放纸箱，占用人行道" --author "李娜"
ts zone check "$zone" --met --note "复查：已清理" --author "李娜"
ts zone checks "$zone"
ts commit -m "景山公园周边巡查" --author "王伟"

say "A year of the district's work (2015), generated: cases, patrols, parties, zones, exposures, supervision"
gen=$(dirname "$bin")/tiersync-gen
run "$gen" --district "$district" --street "$node" --street "$street2" --device "$device" --city "$city" \
	--year 2015 --cases 1500 --seed 2015

say "Everyone syncs until quiet; between the rounds 东城 closes the supervision items its streets answered"
for round in 1 2; do
	run "$bin" -C "$device" sync
	ts merge --submissions
	ts sync
	run "$bin" -C "$street2" sync
	run "$bin" -C "$district" merge --submissions
	if [ "$round" = 1 ]; then
		answered=$("$bin" -C "$district" sql "SELECT id FROM supervision_items WHERE status = 'answered'
			ORDER BY id" | tail -n +2)
		[ -n "$answered" ] || fail "no supervision item came back answered"
		printf '$ tiersync -C dongcheng supervise close ITEM --author 张敏   (for each of %s answered items)\n' \
			"$(echo "$answered" | wc -l)"
		for i in $answered; do
			"$bin" -C "$district" supervise close "$i" --author "张敏" >/dev/null
		done
		run "$bin" -C "$district" commit -m "督办: close the items the streets answered" --author "张敏"
	fi
	run "$bin" -C "$district" sync
	run "$bin" -C "$city" merge --submissions
done
run "$bin" -C "$district" pull
ts pull
run "$bin" -C "$street2" pull
run "$bin" -C "$device" pull

say "Every node holds the same state, and each database equals its history"
want=$(git --git-dir "$city/history.git" rev-parse 'HEAD^{tree}')
for n in "$city" "$district" "$node" "$street2" "$device"; do
	got=$(git --git-dir "$n/history.git" rev-parse 'HEAD^{tree}')
	printf '%-14s tree %s  officer %s\n' "$(basename "$n")" "$got" \
		"$("$bin" -C "$n" sql "SELECT officer FROM cases WHERE id = '$c3'" | tail -n 1)"
	"$bin" -C "$n" verify >/dev/null
	if [ "$got" != "$want" ]; then
		echo "demo: $(basename "$n") did not converge" >&2
		exit 1
	fi
done
run "$bin" -C "$city" log --case "$c3"

say "The year's supervision items, judged by sqlite3: answered by their due date, late, and closed"
run sqlite3 "$city/tiersync.db" "SELECT i.target_node, count(*) AS items,
	count(*) FILTER (WHERE (SELECT min(at) FROM supervision_feedback f WHERE f.item_id = i.id) <= i.due_at) AS on_time,
	count(*) FILTER (WHERE (SELECT min(at) FROM supervision_feedback f WHERE f.item_id = i.id) > i.due_at) AS late,
	count(*) FILTER (WHERE i.status = 'closed') AS closed
	FROM supervision_items i WHERE i.issued_at LIKE '2015-%' GROUP BY i.target_node"
[ "$(db_one "$city" "SELECT count(*) FROM supervision_items i WHERE status = 'closed' AND issued_at LIKE '2015-%'
	AND EXISTS (SELECT 1 FROM supervision_feedback f WHERE f.item_id = i.id AND f.at > i.due_at)")" -gt 0 ] ||
	fail "no late-answered item was closed"
say "Repeat offenders (屡查屡犯) of 2015 at each street, found by their identity numbers"
for n in "$node" "$street2"; do
	run "$bin" -C "$n" party list --repeat --period 2015 --min-cases 5 | grep -v '^    '   # without their cases
	[ "$("$bin" -C "$n" party list --repeat --period 2015 --json | grep -o '"ncases"' | wc -l)" -gt 0 ] ||
		fail "$(basename "$n") lists no repeat offender"
done
say "The city's complaint baselines (常量) for 2015 against the year's complaints (goal: 15% or more below), and the exposures (主动曝光)"
baselines="WITH c AS (SELECT jurisdiction AS j, key_area_id, category FROM cases WHERE source = 'complaint'
	AND reported_at >= '2015-01-01' AND reported_at < '2016-01-01')
SELECT b.scope, b.subject, b.complaints AS baseline, (SELECT count(*) FROM c WHERE (c.j = b.scope OR c.j LIKE
	b.scope || '.%') AND CASE b.subject WHEN 'key_areas' THEN c.key_area_id IS NOT NULL WHEN 'dust_muck' THEN
	c.category IN ('construction_dust', 'muck_spill', 'muck_vehicle') ELSE c.category = b.subject END) AS complaints
FROM complaint_baselines b WHERE b.year = '2015' ORDER BY b.scope, b.subject"
run sqlite3 "$node/tiersync.db" "SELECT *, CASE WHEN complaints <= 0.85 * baseline THEN 'met' ELSE 'missed' END
	FROM ($baselines)"
[ "$(sqlite3 "$node/tiersync.db" "SELECT count(DISTINCT complaints <= 0.85 * baseline) FROM ($baselines)")" = 2 ] ||
	fail "the baselines do not give some goals met and some missed"
run sqlite3 "$node/tiersync.db" "SELECT jurisdiction, count(*), count(case_id) FROM exposures
	WHERE published_at LIKE '2015-%' GROUP BY jurisdiction"

say "Stock git checks every signature each node holds, with that node's own allowed_signers"
for n in "$city" "$district" "$node" "$street2" "$device"; do
	all=0 good=0
	for commit in $(git --git-dir "$n/history.git" rev-list --all); do
		all=$((all + 1))
		if git --git-dir "$n/history.git" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$n/allowed_signers" \
			verify-commit "$commit" >/dev/null 2>&1; then
			good=$((good + 1))
		else
			echo "demo: $(basename "$n"): git verify-commit refuses $commit (committer" \
				"$(git --git-dir "$n/history.git" log -1 --format=%ce "$commit"))" >&2
		fi
	done
	printf '%-14s %d of %d commits verified by git verify-commit\n' "$(basename "$n")" "$good" "$all"
	if [ "$good" != "$all" ]; then
		echo "demo: $(basename "$n") holds commits its allowed_signers cannot verify" >&2
		exit 1
	fi
done

say "Each tier reports the plan's figures from its own data, with the goals (李娜's handheld counts under her street, 景山); the city's row for 东城 is the district's own"
brief() { out=$(run "$@") || fail "report failed: $*"; printf '%s\n' "$out" | sed '/^per category/,$d'; }
brief "$bin" -C "$node" report --period 2015
brief "$bin" -C "$street2" report --period 2015
brief "$bin" -C "$district" report --period 2015
brief "$bin" -C "$city" report --period 2015
city_dc=$("$bin" -C "$city" report --period 2015 --json | grep -o '"cases_found":[0-9]*' | sed -n 2p)
dc_own=$("$bin" -C "$district" report --period 2015 --json | grep -o '"cases_found":[0-9]*' | sed -n 1p)
echo "city's row for bj.dc: $city_dc; 东城's own: $dc_own"
if [ "$city_dc" != "$dc_own" ]; then
	echo "demo: the city's figure for the district differs from the district's own" >&2
	exit 1
fi

say "Done. The nodes are in build/demo; try: build/rel/tiersync -C build/demo/city log"
