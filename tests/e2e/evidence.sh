#!/bin/sh
# Evidence on a street office: a photo and a 100 MB body-camera video are
# added to a case, committed, fetched back and pushed to the district,
# where they are fetched back again; a second street's photo joins them
# there (the union of both streets' files), and that street pulls the
# first one's. sha256sum and cmp judge the content, stock git the history,
# GNU time the peak memory of add and get (far below the file's size: the
# content streams through). An altered stored object is caught by verify
# and by get, naming the file.
. "$TS_TOP/tests/e2e/lib.sh"

dc=$work/dc
st=$work/jingshan
ts init "$dc" --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$dc" bj.dc
ts init "$st" --tier street --id bj.dc.jingshan --upstream "$dc" --author "王伟" >/dev/null
enroll "$dc" bj.dc.jingshan "$st/id_ed25519.pub"
case_id=$(ts -C "$st" case new --category small_ads --source patrol --address "景山前街 4号" --author "王伟")

# --- a photo: the everyday path ------------------------------------------------
head -c 50000 /dev/urandom >"$work/photo.jpg"
photo_sha=$(sha256sum "$work/photo.jpg" | cut -c1-64)
run ts -C "$st" evidence add "$case_id" "$work/photo.jpg" --lng 116.3975 --lat 39.9245 \
	--note "电线杆上的小广告" --author "李娜" --json
check "evidence add succeeds" exit_is 0
check "  ...and says so in valid JSON" json_valid "$work/out"
check "  ...naming the content's SHA-256 as sha256sum computes it" is "$(json_get "$work/out" '$.sha256')" "$photo_sha"
photo_id=$(json_get "$work/out" '$.id')
check "sqlite3: the evidence row records who captured it, when and where" \
	is "$(db "$st" "SELECT kind, media_type, captured_by, lng, lat, size, captured_at GLOB '????-??-??T??:??:??+08:00'
		FROM evidence WHERE id = '$photo_id' AND case_id = '$case_id' AND sha256 = '$photo_sha'")" \
	"photo|image/jpeg|李娜|116.3975|39.9245|50000|1"
check "sqlite3: the case gains an 'evidence' event by the same officer" \
	is "$(db "$st" "SELECT count(*) FROM case_events WHERE case_id = '$case_id' AND kind = 'evidence'
		AND officer = '李娜' AND detail LIKE '%$photo_sha%'")" 1
check "sqlite3: evidence stays immutable" \
	sh -c "! sqlite3 '$st/tiersync.db' \"UPDATE evidence SET note = 'x'\" 2>/dev/null"

snapshot "$st" "$work/before"
run ts -C "$st" evidence add "$case_id" "$work/photo.jpg" --author "李娜"
check "the same content twice in one case is refused" exit_is 1
check "  ...with one line" stderr_is_one_line
check "  ...that says the case already holds it" stderr_has "already holds this content"
run ts -C "$st" evidence add "bj.dc.jingshan-c20150101-9999" "$work/photo.jpg"
check "an unknown case is refused" exit_is 1
check "  ...with one line" stderr_is_one_line
run ts -C "$st" evidence add "$case_id" "$work/no-such.jpg"
check "a missing file is refused" exit_is 1
check "  ...with one line naming it" stderr_has "no-such.jpg"
run ts -C "$st" evidence add "$case_id" "$work/photo.jpg" --kind selfie
check "an unknown kind is refused" exit_is 1
run ts -C "$st" evidence add "$case_id"
check "add without a file is bad usage" exit_is 2
run ts -C "$st" evidence get "$case_id" "$photo_sha"
check "get without -o is bad usage" exit_is 2
snapshot "$st" "$work/after"
check "refused adds change nothing" same_files "$work/before" "$work/after"

run ts -C "$st" evidence list "$case_id" --json
check "evidence list --json is valid JSON" json_valid "$work/out"
check "  ...with one item" is "$(json_length "$work/out" '$')" 1
check "  ...showing its SHA-256" is "$(json_get "$work/out" '$[0].sha256')" "$photo_sha"
run ts -C "$st" evidence list "$case_id"
check "evidence list shows the SHA-256 for people" stdout_has "$photo_sha"
run ts -C "$st" evidence get "$case_id" "$(printf %.10s "$photo_sha")" -o "$work/photo.staged"
check "a staged photo is gettable by a prefix of its SHA-256" exit_is 0
check "  ...byte for byte (cmp)" cmp "$work/photo.jpg" "$work/photo.staged"

# --- a second street's photo: the district holds the union ---------------------
b=$work/donghuamen
ts init "$b" --tier street --id bj.dc.donghuamen --upstream "$dc" --author "赵强" >/dev/null
enroll "$dc" bj.dc.donghuamen "$b/id_ed25519.pub"
b_case=$(ts -C "$b" case new --category outdoor_bbq --source complaint --address "东华门大街 1号")
head -c 30000 /dev/urandom >"$work/b.jpg"
b_sha=$(sha256sum "$work/b.jpg" | cut -c1-64)
ts -C "$b" evidence add "$b_case" "$work/b.jpg" >/dev/null
ts -C "$b" commit -m "露天烧烤照片" >/dev/null
ts -C "$st" commit -m "小广告照片" --author "李娜" >/dev/null
run ts -C "$st" push
check "street a pushes its photo" exit_is 0
run ts -C "$b" push
check "street b pushes its photo" exit_is 0
run ts -C "$dc" merge --submissions
check "the district merges both" exit_is 0
check "git: the district's tree holds both photos" \
	is "$(on_git "$dc" ls-tree -r --name-only HEAD _tiersync/files | sed 's|.*/||' | sort | tr '\n' ' ')" \
	"$(printf '%s\n%s\n' "$photo_sha" "$b_sha" | sort | tr '\n' ' ')"
run ts -C "$b" pull
check "street b pulls" exit_is 0
run ts -C "$b" evidence get "$case_id" "$photo_sha" -o "$work/photo.b"
check "street b gets street a's photo" exit_is 0
check "  ...byte for byte (cmp)" cmp "$work/photo.jpg" "$work/photo.b"
run ts -C "$b" verify
check "street b verifies" exit_is 0

# --- a 100 MB video: streamed in and out -------------------------------------
head -c 100000000 /dev/urandom >"$work/bodycam.mp4"
big_sha=$(sha256sum "$work/bodycam.mp4" | cut -c1-64)
/usr/bin/time -f %M -o "$work/add.kb" "$TIERSYNC" -C "$st" evidence add "$case_id" "$work/bodycam.mp4" \
	--kind bodycam --author "李娜" >"$work/out" 2>"$work/err" && rc=0 || rc=$?
check "a 100 MB video is added" exit_is 0
add_kb=$(tail -n 1 "$work/add.kb")
echo "peak memory of evidence add (100 MB): $add_kb KB"
check "  ...with a peak memory far below its size (< 64 MB)" test "$add_kb" -lt 65536
run ts -C "$st" commit -m "执法记录仪视频" --author "李娜"
check "the street commits the evidence" exit_is 0

path=_tiersync/files/$(printf %.2s "$big_sha")/$big_sha
check "git: the history holds the video at its SHA-256 path" \
	sh -c "git --git-dir '$st/history.git' ls-tree -r --name-only HEAD | grep -qx '$path'"
check "git: the blob there is 100000000 bytes" is "$(on_git "$st" cat-file -s "HEAD:$path")" 100000000
check "git + sha256sum: its content has the SHA-256 of its name" \
	is "$(on_git "$st" cat-file blob "HEAD:$path" | sha256sum | cut -c1-64)" "$big_sha"
check "git fsck --strict: the street's history is clean" fsck_clean "$st"

/usr/bin/time -f %M -o "$work/get.kb" "$TIERSYNC" -C "$st" evidence get "$case_id" "$big_sha" \
	-o "$work/bodycam.out" >"$work/out" 2>"$work/err" && rc=0 || rc=$?
check "the video is fetched back" exit_is 0
get_kb=$(tail -n 1 "$work/get.kb")
echo "peak memory of evidence get (100 MB): $get_kb KB"
check "  ...with a peak memory far below its size (< 64 MB)" test "$get_kb" -lt 65536
check "  ...byte for byte (cmp)" cmp "$work/bodycam.mp4" "$work/bodycam.out"
check "  ...with the same SHA-256 (sha256sum)" \
	is "$(sha256sum "$work/bodycam.out" | cut -c1-64)" "$big_sha"
rm -f "$work/bodycam.out"
run ts -C "$st" verify
check "the street verifies, files included" exit_is 0

# --- up to the district ---------------------------------------------------------
/usr/bin/time -f %M -o "$work/push.kb" "$TIERSYNC" -C "$st" push >"$work/out" 2>"$work/err" && rc=0 || rc=$?
check "the street pushes its evidence" exit_is 0
run ts -C "$dc" merge --submissions
check "the district merges the submission" exit_is 0
echo "peak memory of push (100 MB file inside): $(tail -n 1 "$work/push.kb") KB"
check "git: the district's main holds the video" is "$(on_git "$dc" cat-file -s "HEAD:$path")" 100000000
check "sqlite3: the district holds both evidence rows" \
	is "$(db "$dc" "SELECT count(*) FROM evidence WHERE case_id = '$case_id'")" 2
/usr/bin/time -f %M -o "$work/getdc.kb" "$TIERSYNC" -C "$dc" evidence get "$case_id" "$big_sha" \
	-o "$work/bodycam.dc" >"$work/out" 2>"$work/err" && rc=0 || rc=$?
check "the district gets the video back (a loose object: the push streamed it in)" exit_is 0
check "  ...with a peak memory far below its size (< 64 MB)" test "$(tail -n 1 "$work/getdc.kb")" -lt 65536
check "  ...byte for byte (cmp)" cmp "$work/bodycam.mp4" "$work/bodycam.dc"
rm -f "$work/bodycam.dc" "$work/bodycam.mp4"
run ts -C "$dc" evidence get "$case_id" "$photo_sha" -o "$work/photo.dc"
check "the district gets the photo back" cmp "$work/photo.jpg" "$work/photo.dc"
run ts -C "$dc" verify
check "the district verifies, files included" exit_is 0
check "git fsck --strict: the district's history is clean" fsck_clean "$dc"

# --- an altered stored object is caught ----------------------------------------
photo_blob=$(on_git "$st" rev-parse "HEAD:_tiersync/files/$(printf %.2s "$photo_sha")/$photo_sha")
check "the photo's object is found on disk" object_home "$st" "$photo_blob"
damage_object "$st" "$photo_blob"
run ts -C "$st" verify
check "verify catches the altered photo" exit_is 1
check "  ...naming the file" stdout_has "$photo_sha"
check "  ...with one line on stderr" stderr_is_one_line
run ts -C "$st" evidence get "$case_id" "$photo_sha" -o "$work/photo.bad"
check "get refuses the altered photo" exit_is 1
check "  ...with one line naming it" stderr_has "$photo_sha"
check "  ...leaving no partial output" test ! -e "$work/photo.bad"
check "  ...nor a temporary file" sh -c "! ls '$work' | grep -q 'photo.bad'"

video_blob=$(on_git "$dc" rev-parse "HEAD:$path")
damage_object "$dc" "$video_blob"
run ts -C "$dc" verify
check "verify catches the altered video in the district's pack" exit_is 1
check "  ...naming the file" stdout_has "$big_sha"
