#!/bin/sh
# A transfer cut in the middle goes on from the last whole commit. A street
# office reaches its district over SSH (OpenSSH on 127.0.0.1, the forced
# command `tiersync gate`) through faultproxy (tools/faultproxy.c), which
# cuts the connection at a byte offset drawn inside a whole transfer.
#
# Down: the district holds 30 commits the new street lacks. A fetch is cut
# until one cut lands after some commits came whole: they stay in the
# street's history.git/tiersync-kept-fetch-upstream (a quarantine, nothing
# of it in the street's refs or objects), and the next fetch, uncut, moves
# fewer bytes than a whole one and ends at the district's main.
# Up: the street records 30 commits and its push is cut the same way; the
# district keeps the whole ones in tiersync-kept-push-<street>, shows the
# last as "partial", and the next push sends only the rest. Stock git judges
# the ends: the same main and submission ids, `git fsck` and `tiersync
# verify` clean on both, nothing kept once a transfer completed.
. "$TS_TOP/tests/e2e/lib.sh"
. "$TS_TOP/tests/e2e/lib_sshd.inc"

sshd_skip_unless_installed
. "$TS_TOP/tests/e2e/lib_proxy.inc"
check "faultproxy is built next to tiersync" test -x "$proxy"
ssh-keygen -q -t ed25519 -N '' -C "bj.dc.jingshan" -f "$work/street_key"
sshd_setup
check "sshd starts on 127.0.0.1" sshd_start

# last_bytes DIR: the bytes the last connection moved in DIR (up or down)
last_bytes() {
	tail -n 1 "$proxy_log" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

district=$work/dongcheng
street=$work/jingshan
ts init "$district" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$district" bj.dc
ts -C "$district" enroll --node bj.dc.jingshan --key "$work/street_key.pub" \
	--authorized-keys "$sshd_dir/authorized_keys" >/dev/null
i=0
while [ "$i" -lt 30 ]; do
	i=$((i + 1))
	ts -C "$district" case new --category signboard --source complaint --address "东四北大街 $i号" >/dev/null
	ts -C "$district" commit -m "区级受理 $i" >/dev/null
done
district_main=$(on_git "$district" rev-parse refs/heads/main)

check "faultproxy starts in pass mode" proxy_start pass 0
url="ssh://127.0.0.1:$proxy_port$district/history.git"
ts init "$street" --tier street --id bj.dc.jingshan --author "王伟" \
	--upstream "$url" --identity "$work/street_key" >/dev/null
run ts -C "$street" remote trust upstream --expect "$(ssh-keygen -lf "$sshd_dir/host_key.pub" | awk '{ print $2 }')"
check "the street trusts the district's host key, through the proxy" exit_is 0
proxy_stop

# a whole first fetch, measured on a copy of the street
cp -a "$street" "$work/measure"
proxy_start pass 1 || exit 1
run ts -C "$work/measure" fetch --json
proxy_stop
check "a whole fetch through the proxy completes" exit_is 0
whole_down=$(last_bytes down)
whole_up=$(last_bytes up)
# stream_bytes: the changes stream's bytes of the last transfer (its --json)
stream_bytes() { sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' "$work/out"; }
whole_fetch=$(stream_bytes)
echo "a whole fetch moves $whole_down bytes down, $whole_fetch of them its changes"

# --- down: cut fetches until one keeps some commits -----------------------------------
kept=$street/history.git/tiersync-kept-fetch-upstream
street_refs=$(on_git "$street" for-each-ref)
seed=1
kept_tip=""
# offsets stop short of the last bytes either way (the stream's end, the channel's close and the
# client's own close after it), so that no cut lets the whole fetch through
while [ "$seed" -le 25 ] && [ -z "$kept_tip" ]; do
	proxy_start cut "$seed" "$((whole_up - 400)),$((whole_down - 400))" || break
	run ts -C "$street" fetch --timeout 20
	proxy_stop
	seed=$((seed + 1))
	[ -d "$kept" ] && kept_tip=$(git --git-dir "$kept" rev-parse --verify -q refs/kept/tip || true)
done
check "a fetch was cut after some commits came whole (seed $((seed - 1)))" test -n "$kept_tip"
check "  ...the cut fetch failed" exit_is 1
check "  ...saying the whole commits are kept" stderr_has "that came whole"
check "  ...the kept commit is one of the district's" \
	on_git "$district" merge-base --is-ancestor "$kept_tip" "$district_main"
check "  ...git: no ref of the street moved" is "$(on_git "$street" for-each-ref)" "$street_refs"
check "  ...git: the street's own objects do not hold it" \
	sh -c '! git --git-dir "$1/history.git" cat-file -e "$2" 2>/dev/null' - "$street" "$kept_tip"
check "  ...git: the kept commits are whole (fsck of the quarantine)" \
	git --git-dir "$kept" fsck --no-dangling "$kept_tip"

proxy_start pass 99 || exit 1
run ts -C "$street" fetch --json
check "the next fetch completes" exit_is 0
resumed=$(stream_bytes)
echo "the resumed fetch's changes are $resumed bytes, a whole one's $whole_fetch"
check "  ...sending fewer changes than a whole fetch" test "$resumed" -lt "$whole_fetch"
check "  ...git: the street holds the district's main" \
	is "$(on_git "$street" rev-parse refs/remotes/upstream/main)" "$district_main"
check "  ...nothing is kept any more" test ! -e "$kept"
run ts -C "$street" pull
check "the street pulls it in" exit_is 0
# a fetch killed as it made its place leaves libgit2's lock of the place's
# config, or a repository that does not yet read the node's objects
mkdir "$kept" && : >"$kept/config.lock"
run ts -C "$street" fetch
check "a fetch after one killed as it made its place completes" exit_is 0
check "  ...nothing is kept" test ! -e "$kept"
git init -q --bare "$kept"
run ts -C "$street" fetch
check "a fetch after one killed before its place read the node's objects completes" exit_is 0
check "  ...nothing is kept" test ! -e "$kept"
proxy_stop
run ts -C "$street" verify
check "  ...verify passes" exit_is 0
check "  ...git fsck is clean" fsck_sound "$street"

# --- up: a cut push keeps its whole commits at the district ------------------------------
i=0
while [ "$i" -lt 30 ]; do
	i=$((i + 1))
	ts -C "$street" case new --category small_ads --source patrol --address "景山前街 $i号" >/dev/null
	ts -C "$street" commit -m "巡查 $i" >/dev/null
done
street_main=$(on_git "$street" rev-parse refs/heads/main)
# the stream a whole push sends, measured by a push to a copy of the district
# on this machine; through the proxy, SSH adds its handshake (about what a
# fetch sends up) and its framing. Offsets up go to the handshake and three
# quarters of the stream, so that a cut never comes after the whole push
# went through (the handshakes of a fetch and a push differ a little); a
# push receives only the handshake and the gate's few replies, fewer bytes
# than any bound measured here, so a cut down comes at one of its first two
# bytes (a cut that a push outlives would let it through whole)
cp -a "$district" "$work/measure-district"
run ts -C "$street" remote add measure "$work/measure-district"
run ts -C "$street" push measure --json
check "a whole push to a copy of the district completes" exit_is 0
stream=$(stream_bytes)
push_up=$((whole_up + stream * 3 / 4))
push_down=1
echo "a whole push's stream is $stream bytes: cuts up to $push_up bytes up"
pkept=$district/history.git/tiersync-kept-push-bj.dc.jingshan
district_refs=$(on_git "$district" for-each-ref)
seed=100
partial=""
while [ "$seed" -le 125 ] && [ -z "$partial" ]; do
	proxy_start cut "$seed" "$push_up,$push_down" || break
	run ts -C "$street" push --timeout 20
	proxy_stop
	seed=$((seed + 1))
	# the gate keeps what came whole once it has seen the cut
	sleep 0.3
	[ -d "$pkept" ] && partial=$(git --git-dir "$pkept" rev-parse --verify -q refs/kept/tip || true)
done
check "a push was cut after some commits came whole (seed $((seed - 1)))" test -n "$partial"
check "  ...the kept commit is one of the street's" \
	on_git "$street" merge-base --is-ancestor "$partial" "$street_main"
check "  ...git: no ref of the district moved" is "$(on_git "$district" for-each-ref)" "$district_refs"
check "  ...git: the district's own objects do not hold it" \
	sh -c '! git --git-dir "$1/history.git" cat-file -e "$2" 2>/dev/null' - "$district" "$partial"

proxy_start pass 199 || exit 1
run ts -C "$street" push --json
proxy_stop
check "the next push completes" exit_is 0
resumed=$(stream_bytes)
echo "the resumed push's changes are $resumed bytes, a whole one's $stream"
check "  ...sending fewer changes than a whole push" test "$resumed" -lt "$stream"
check "  ...git: the district holds the street's main as its submission" \
	is "$(on_git "$district" rev-parse refs/submissions/bj.dc.jingshan)" "$street_main"
check "  ...nothing is kept any more" test ! -e "$pkept"
run ts -C "$district" merge --submissions
check "the district merges it" exit_is 0
run ts -C "$district" verify
check "  ...verify passes" exit_is 0
check "  ...git fsck is clean" fsck_sound "$district"

sshd_stop
