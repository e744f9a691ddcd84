#!/bin/sh
# The manual page comes from the command table --help reads: every command
# is in it with its summary, stock groff (or man) formats it without a
# warning, and the page the build wrote beside the binary is the same.
# Skips the formatting checks when neither groff nor man is installed.
. "$TS_TOP/tests/e2e/lib.sh"

run ts help --man
check "help --man writes the page" exit_is 0
cp "$work/out" "$work/tiersync.1"
check "  ...a man page (.TH)" is "$(head -n 1 "$work/tiersync.1" | cut -d' ' -f1-3)" ".TH TIERSYNC 1"
if [ -f "$(dirname "$TIERSYNC")/tiersync.1" ]; then
	check "the built tiersync.1 is what the binary writes" same_files "$(dirname "$TIERSYNC")/tiersync.1" "$work/tiersync.1"
fi

# the commands, as --help lists them
ts --help | sed -n '/^commands:/,/^$/p' | awk 'NF >= 2 && $1 != "commands:" { print $1 }' >"$work/commands"
check "--help lists commands" test -s "$work/commands"
missing=""
while read -r name; do
	grep -qx ".SS $name" "$work/tiersync.1" || missing="$missing $name"
done <"$work/commands"
check "every command of the table has its section" is "$missing" ""
check "  ...and no other" is "$(grep -c '^\.SS ' "$work/tiersync.1")" "$(wc -l <"$work/commands" | tr -d ' ')"

if command -v groff >/dev/null 2>&1; then
	LC_ALL=C.UTF-8 groff -man -Tutf8 -ww "$work/tiersync.1" >"$work/page.txt" 2>"$work/groff.err" || true
	check "groff formats it" test -s "$work/page.txt"
	check "  ...without a warning" is "$(cat "$work/groff.err")" ""
	# each command's usage, as --help shows it (kept unfilled in the page)
	bad=""
	while read -r name; do
		first=$(ts "$name" --help | sed -n 1p | sed 's/^usage: //' | cut -c1-40)
		grep -qF -- "$first" "$work/page.txt" || bad="$bad $name"
	done <"$work/commands"
	check "each command's usage reads as in --help" is "$bad" ""
	check "Chinese text survives (重点地区)" grep -q "重点地区" "$work/page.txt"
	check "flags read as typed (--upstream)" grep -q -- "--upstream URL" "$work/page.txt"
else
	echo "skip: groff is not installed (apt-get install groff-base)"
fi
man_reads "$work/tiersync.1" "Take back staged writes" "man -l shows it"
