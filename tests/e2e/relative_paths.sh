#!/bin/sh
# Relative paths given to `init --upstream` and `remote add` mean what the
# person typing them sees from where they stand: they are stored absolute,
# and a later fetch, pull or push from inside the node (or from anywhere
# else) finds the upper node. URLs are stored as given.
. "$TS_TOP/tests/e2e/lib.sh"

cd "$work"
ts init dc --tier district --id bj.dc --author "张敏" >/dev/null
city_above "$work/dc" bj.dc

run ts init js --tier street --id bj.dc.jingshan --upstream dc --author "李街"
check "init with a relative --upstream" exit_is 0
check "  ...stores it absolute (git config judges)" \
	is "$(git config -f js/config remote.upstream.url)" "$work/dc"
enroll "$work/dc" bj.dc.jingshan "$work/js/id_ed25519.pub"
run sh -c "cd js && '$TIERSYNC' fetch"
check "a fetch from inside the node finds the upper node" exit_is 0
run ts -C js pull
check "a pull with -C from the parent finds it too" exit_is 0

mkdir -p sub
run ts init ./sub/dh --tier street --id bj.dc.donghuamen --upstream ./dc/ --author "赵强"
check "init with ./dc/" exit_is 0
check "  ...stored without the ./" is "$(git config -f sub/dh/config remote.upstream.url)" "$work/dc/"

run ts -C js remote add mirror ../dc
check "remote add with a path relative to the current directory, not the node's" exit_is 1
check "  ...refused in one line when nothing is there" stderr_is_one_line
run ts -C js remote add mirror dc
check "remote add with a relative path (from the current directory)" exit_is 0
check "  ...stored absolute" is "$(git config -f js/config remote.mirror.url)" "$work/dc"
run sh -c "cd js && '$TIERSYNC' fetch mirror"
check "  ...and fetched from inside the node" exit_is 0
run sh -c "cd sub && '$TIERSYNC' -C ../js fetch mirror"
check "  ...and from another directory" exit_is 0

run ts -C js remote add far ssh://example.invalid/srv/dc
check "an ssh:// URL is stored as given" is "$(git config -f js/config remote.far.url)" "ssh://example.invalid/srv/dc"
run ts -C js remote add local "file://$work/dc"
check "a file:// URL is taken as it names the path" is "$(git config -f js/config remote.local.url)" "$work/dc"
run ts init js2 --tier street --id bj.dc.js2 --upstream ssh://example.invalid/srv/dc --author "李街"
check "init keeps an ssh:// upstream as given" is "$(git config -f js2/config remote.upstream.url)" "ssh://example.invalid/srv/dc"
run ts init --help
check "init --help says how a relative path is taken" stdout_has "taken from the current directory"
run ts remote --help
check "remote --help says so too" stdout_has "taken from the current directory"
cd /
