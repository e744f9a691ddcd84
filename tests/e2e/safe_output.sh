#!/bin/sh
# `evidence get -o PATH` writes only a regular file, created or replaced by
# rename. A device (/dev/null: the tests may run as root), a FIFO, a
# directory or a symbolic link at PATH is refused with one line, and stays
# exactly what it was (judged by stat).
. "$TS_TOP/tests/e2e/lib.sh"

node=$work/jingshan
ts init "$node" --tier street --id bj.dc.jingshan --author "王伟" >/dev/null
case_id=$(ts -C "$node" case new --category small_ads --source patrol --address "景山前街 4号")
head -c 20000 /dev/urandom >"$work/photo.jpg"
sha=$(sha256sum "$work/photo.jpg" | cut -c1-64)
ts -C "$node" evidence add "$case_id" "$work/photo.jpg" --author "李娜" >/dev/null

# refused OUTPUT WHAT: get -o OUTPUT exits 1 with one line naming WHAT
refused() {
	run ts -C "$node" evidence get "$case_id" "$sha" -o "$1"
	check "-o $1: refused" exit_is 1
	check "  ...with one line" stderr_is_one_line
	check "  ...saying it is $2" stderr_has "$2"
}

before=$(stat -c '%F %t:%T %i %s' /dev/null)
refused /dev/null "a character device"
check "stat: /dev/null is still the same character device" is "$(stat -c '%F %t:%T %i %s' /dev/null)" "$before"
check "  ...and no temporary file was left in /dev" sh -c "! ls /dev | grep -q '^null\.tmp-'"

mkfifo "$work/pipe"
refused "$work/pipe" "a FIFO"
check "stat: the FIFO is still a FIFO" is "$(stat -c %F "$work/pipe")" "fifo"

mkdir "$work/dir"
refused "$work/dir" "a directory"
check "stat: the directory is still a directory, empty" is "$(stat -c %F "$work/dir") $(ls -A "$work/dir")" "directory "

echo "keep me" >"$work/target"
ln -s "$work/target" "$work/link"
refused "$work/link" "a symbolic link"
check "the link's target is untouched" is "$(cat "$work/target")" "keep me"
check "the link is still a link" test -L "$work/link"

echo old >"$work/regular.jpg"
run ts -C "$node" evidence get "$case_id" "$sha" -o "$work/regular.jpg"
check "a regular file is replaced" exit_is 0
check "  ...byte for byte (cmp)" cmp "$work/photo.jpg" "$work/regular.jpg"
run ts -C "$node" evidence get "$case_id" "$sha" -o "$work/dir/new.jpg"
check "a new file is created" exit_is 0
check "  ...byte for byte (cmp)" cmp "$work/photo.jpg" "$work/dir/new.jpg"
check "no temporary files are left" is "$(ls -A "$work" | grep -c '\.tmp-' || true)" 0
