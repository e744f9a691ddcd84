#!/bin/sh
# make install into a staging root, as a packager runs it:
# `make install DESTDIR=ROOT PREFIX=/usr` puts the binary under test, its
# manual page (which stock man reads), the library with its headers and
# pkg-config file, and the daemon's systemd unit in place, the unit's
# ExecStart naming the installed binary's path under PREFIX.
#
# The make runs in this tree, on the build directory the binary under
# test comes from, so it installs that binary and builds nothing new;
# skipped when the binary was not built in this tree.
. "$TS_TOP/tests/e2e/lib.sh"

build_dir=$(cd "$(dirname "$TIERSYNC")" && pwd)
top=$(cd "$TS_TOP" && pwd)
case $build_dir in
"$top"/build/*) ;;
*)
	echo "skip: $TIERSYNC was not built in this tree's build/"
	exit 0
	;;
esac
if ! command -v make >/dev/null 2>&1; then
	echo "skip: make is not installed"
	exit 0
fi

root=$work/root
run make -C "$top" install DESTDIR="$root" PREFIX=/usr B="${build_dir#"$top"/}" TS_NO_DEPS=1
check "make install DESTDIR=... PREFIX=/usr" exit_is 0

bin=$root/usr/bin/tiersync
check "the binary is at PREFIX/bin" test -x "$bin"
check "  ...the binary under test, byte for byte" same_files "$TIERSYNC" "$bin"
run "$bin" --help
check "  ...and it runs" stdout_has "commands:"

page=$root/usr/share/man/man1/tiersync.1
check "the manual page is at PREFIX/share/man/man1" test -f "$page"
check "  ...what the binary writes" sh -c '"$1" help --man | cmp -s - "$2"' - "$TIERSYNC" "$page"
man_reads "$page" "tiersync bundle create FILE" "  ...man -l reads it"

check "the library is at PREFIX/lib" test -f "$root/usr/lib/libtiersync.a"
check "the public headers are at PREFIX/include" test -f "$root/usr/include/tiersync/bundle.h"
check "the pkg-config file names PREFIX" file_has "$root/usr/lib/pkgconfig/tiersync.pc" "prefix=/usr"
# a program of the user's own, built on the installed files alone: the
# static library needs what pkg-config --static names (libdeflate, threads)
cat > "$work/link.c" <<'EOF2'
#include <tiersync.h>
int main(void)
{
	ts_node *node = NULL;
	return ts_node_open(&node, "/nonexistent/node") == TS_ENOTFOUND ? 0 : 1;
}
EOF2
flags=$(PKG_CONFIG_PATH=$root/usr/lib/pkgconfig pkg-config --define-variable=prefix="$root/usr" \
	--static --cflags --libs tiersync)
# a library built with the sanitizers (make check) links only with them
if nm "$root/usr/lib/libtiersync.a" 2>/dev/null | grep -q " U __asan_"; then
	flags="-fsanitize=address,undefined $flags"
fi
check "a program links with pkg-config --static tiersync, and runs" \
	sh -c 'cc -o "$1" "$2" $3 && "$1"' - "$work/link" "$work/link.c" "$flags"

unit=$root/usr/lib/systemd/system/tiersync-daemon@.service
check "the systemd unit is at PREFIX/lib/systemd/system" test -f "$unit"
check "  ...readable by all (mode 644)" is "$(stat -c %a "$unit")" 644
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
check "  ...one ExecStart" is "$(grep -c '^ExecStart=' "$unit")" 1
check "  ...running the binary at PREFIX/bin" is "${exec_start%% *}" /usr/bin/tiersync
check "  ...which is in DESTDIR" test -x "$root${exec_start%% *}"
check "  ...with the daemon's arguments" is "${exec_start#* }" "-C %f daemon --interval 60"
check "  ...otherwise the unit of the tree" \
	is "$(diff "$TS_TOP/tools/tiersync-daemon@.service" "$unit" | grep -c '^[<>]')" 2

# another PREFIX, and a unit directory of the packager's choosing
run make -C "$top" install DESTDIR="$root/2" PREFIX=/opt/tiersync UNITDIR=/lib/systemd/system \
	B="${build_dir#"$top"/}" TS_NO_DEPS=1
check "make install PREFIX=/opt/tiersync UNITDIR=/lib/systemd/system" exit_is 0
unit=$root/2/lib/systemd/system/tiersync-daemon@.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
check "  ...the unit runs /opt/tiersync/bin/tiersync" is "${exec_start%% *}" /opt/tiersync/bin/tiersync
check "  ...which is in DESTDIR" test -x "$root/2${exec_start%% *}"
