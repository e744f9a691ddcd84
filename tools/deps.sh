#!/bin/sh
# Installs the Debian packages that building and testing tiersync need, when
# any is missing. Quiet when everything is already there.
#
#   sh tools/deps.sh          what `make`, `make test` and `make check` need
#   sh tools/deps.sh fuzz     clang and its libFuzzer runtime, for `make fuzz` only
set -e
case "${1:-}" in
fuzz)	pkgs="clang libclang-rt-14-dev" ;;
"")	pkgs="libsqlite3-dev libgit2-dev libssh2-1-dev zlib1g-dev libdeflate-dev libssl-dev pkg-config git sqlite3 openssh-server openssh-client time groff-base" ;;
*)	echo "usage: sh tools/deps.sh [fuzz]" >&2; exit 2 ;;
esac
need=""
for pkg in $pkgs; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "tiersync: missing Debian packages:$need (run: sudo apt-get install$need)" >&2
	exit 1
fi
echo "tiersync: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends $need >&2
