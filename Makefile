# tiersync — build, test, bench, demo, install.
#
#   make            the library (libtiersync.a) and the `tiersync` binary
#   make test       unit tests + end-to-end tests; last line "N passed, N failed"
#   make check      the same tests built with ASan + UBSan
#   make bench      ratios against plain SQLite / stock git, measured in one run
#   make faults     the fault campaigns: transfers cut through a proxy, processes
#                   killed with SIGKILL (docs/FAULTS.md)
#   make converge   the randomised convergence test over 200 seeds (SEEDS=N)
#   make powercut   the power-loss campaign: 200 power cuts (TRIALS=N), see docs/FAULTS-POWER.md
#   make fuzz       every tests/fuzz/fuzz_*.c under libFuzzer for FUZZ_SECONDS
#                   (default 60) each; clang comes from `tools/deps.sh fuzz`
#   make demo       the main job: every tier recording, syncing, merging, auditing, reporting
#   make demo-year  a generated year of a district, synced up the tiers, and its report
#   make install PREFIX=/usr/local   (the binary, the library, its headers, tiersync(1),
#                   the daemon's systemd unit; DESTDIR= for a staging root)
#
# Missing Debian packages are installed by tools/deps.sh (as root) before
# anything is built; set TS_NO_DEPS=1 to skip that step.

PREFIX    ?= /usr/local
# where `make install` puts tiersync-daemon@.service (systemd reads
# /usr/lib/systemd/system and /usr/local/lib/systemd/system alike)
UNITDIR   ?= $(PREFIX)/lib/systemd/system
CC        ?= cc
OPT       ?= -O2 -g
WARN      := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS  += -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK -D_GNU_SOURCE -Iinclude -Isync -Inode -Ischema -I$(B)
PKGS      := libgit2 sqlite3 zlib libdeflate libssh2 libcrypto
SANITIZE  ?=

ifneq ($(SANITIZE),)
B         := build/san
SANFLAGS  := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B         := build/rel
SANFLAGS  :=
endif

CFLAGS    += $(OPT) $(WARN) $(SANFLAGS)
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lgit2 -lsqlite3 -lz -ldeflate) -lm
LDFLAGS   += $(SANFLAGS)

LIB_SRC   := $(wildcard sync/*.c) $(wildcard node/*.c) $(B)/schema_sql.c $(B)/schema_expected.c
CLI_SRC   := $(wildcard tools/cmd_*.c) tools/tiersync.c tools/cli.c tools/json.c tools/ca_bundle.c
TEST_SRC  := $(wildcard tests/test_*.c)
SCHEMA    := $(sort $(wildcard schema/*.sql))

LIB_OBJ   := $(patsubst %.c,$(B)/%.o,$(notdir $(LIB_SRC)))
CLI_OBJ   := $(patsubst %.c,$(B)/%.o,$(notdir $(CLI_SRC)))
TEST_OBJ  := $(patsubst %.c,$(B)/%.o,$(notdir $(TEST_SRC))) $(B)/harness.o $(B)/nodes.o $(B)/json.o

vpath %.c sync node tools tests schema $(B)

.PHONY: all deps test check unit e2e bench demo demo-year install clean headercheck layers converge fuzz fuzz-deps powercut faults

all: deps $(B)/tiersync $(B)/tiersync-gen $(B)/faultproxy bin/tiersync $(B)/tiersync.1

deps:
	@[ -n "$(TS_NO_DEPS)" ] || sh tools/deps.sh

# man tiersync: written by the binary from its command table, as --help is
$(B)/tiersync.1: $(B)/tiersync
	$(B)/tiersync help --man > $@.tmp && mv $@.tmp $@

bin/tiersync: $(B)/tiersync
	@mkdir -p bin
	cp $< $@

$(B)/%.o: %.c $(wildcard include/*.h include/tiersync/*.h sync/*.h node/*.h tools/*.h tests/*.h) | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The CLI, the bench and the generator stand on the public headers only:
# built without the library's folders, an include of a private header fails.
TOOLS_OBJ := $(patsubst tools/%.c,$(B)/%.o,$(wildcard tools/*.c))
$(TOOLS_OBJ): CPPFLAGS := $(filter-out -Isync -Inode -Ischema -I$(B),$(CPPFLAGS))

$(B):
	@mkdir -p $@

# The migrations are compiled into the binary, in file-name order.
$(B)/schema_sql.c: $(SCHEMA) tools/embed-schema.sh | $(B)
	sh tools/embed-schema.sh $(SCHEMA) > $@

# The schema of a fresh node at the newest version, as rows the library
# carries: schema/expected_gen.c runs the engine's setup and the migrations
# at build time, so a commit's schema check need not run them again.
SYNC_OBJ  := $(patsubst sync/%.c,$(B)/%.o,$(wildcard sync/*.c))
$(B)/schema-expected: $(B)/expected_gen.o $(SYNC_OBJ) $(B)/migrate.o $(B)/schema_sql.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/schema_expected.c: $(B)/schema-expected
	$(B)/schema-expected > $@.tmp && mv $@.tmp $@

$(B)/libtiersync.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/tiersync: $(CLI_OBJ) $(B)/libtiersync.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libtiersync.a $(LDLIBS)

# Test cases are found by name: every `void test_<module>__<case>(void)`.
$(B)/test_list.h: $(TEST_SRC) | $(B)
	sed -n 's/^void \(test_[a-z0-9_]*__[a-z0-9_]*\)(void).*/\1/p' $(TEST_SRC) > $@.names
	{ sed 's/.*/void &(void);/' $@.names; echo 'static const struct ts_test ts_tests[] = {'; \
	  sed 's/^test_\(.*\)__\(.*\)$$/{ "\1::\2", test_\1__\2 },/' $@.names; echo '{ 0, 0 } };'; } > $@

$(B)/harness.o: tests/harness.c $(B)/test_list.h tests/harness.h | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/unit: $(TEST_OBJ) $(B)/libtiersync.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(B)/libtiersync.a $(LDLIBS)

# Every public header stands alone, compiled with the public folder only.
headercheck: | $(B)
	for h in tiersync.h $(patsubst include/%,%,$(wildcard include/tiersync/*.h)); do \
		echo "#include \"$$h\"" | $(CC) -Iinclude $(CFLAGS) -x c -c -o $(B)/headercheck.o - || exit 1; \
	done

unit: deps headercheck $(B)/unit $(B)/tiersync
	$(B)/unit

e2e: deps $(B)/tiersync $(B)/tiersync-gen $(B)/powercut.so $(B)/powercut-restore $(B)/faultproxy
	sh tests/run-e2e.sh $(B)/tiersync

test: deps headercheck layers $(B)/unit $(B)/tiersync $(B)/tiersync-gen $(B)/powercut.so $(B)/powercut-restore $(B)/faultproxy
	sh tests/run-all.sh $(B)/unit $(B)/tiersync

# The layering of docs/ARCHITECTURE.md: no private header in tools/, no call
# from sync/ into node/, no circle of calls between the library's files.
layers: $(LIB_OBJ)
	sh tools/layers.sh $(B)

check:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		$(MAKE) SANITIZE=address,undefined OPT="-O1 -g" test

# make converge [SEEDS=200] [FIRST=1] [ROUNDS=5] [JOBS=2]: the randomised
# convergence test (tests/test_converge.c) over many seeds, one process each
converge: deps $(B)/unit
	UNIT=$(B)/unit ROUNDS=$(ROUNDS) JOBS=$(JOBS) \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		sh tools/converge.sh $(or $(SEEDS),200) $(or $(FIRST),1)

# make fuzz [FUZZ_SECONDS=60]: each tests/fuzz/fuzz_NAME.c, linked with the
# library built by clang under ASan + UBSan, runs on a copy of its seed corpus
# tests/fuzz/corpus/NAME/ (in build/fuzz/corpus/NAME, so the tree is never
# written); fails if any target crashed (see tools/fuzz.sh)
FZ        := build/fuzz
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(FZ)/%,$(FUZZ_SRC))
FUZZ_OBJ  := $(patsubst %.c,$(FZ)/lib/%.o,$(notdir $(filter-out $(B)/schema_sql.c,$(LIB_SRC)))) $(FZ)/lib/schema_sql.o

fuzz: fuzz-deps $(FUZZ_BIN)
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tools/fuzz.sh $(FZ) $(FUZZ_BIN)

fuzz-deps:
	@[ -n "$(TS_NO_DEPS)" ] || sh tools/deps.sh fuzz

$(FZ)/lib/%.o: %.c $(wildcard include/*.h include/tiersync/*.h sync/*.h node/*.h) | fuzz-deps
	@mkdir -p $(FZ)/lib
	$(FUZZ_CC) $(CPPFLAGS) -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FZ)/lib/schema_sql.o: $(B)/schema_sql.c | fuzz-deps
	@mkdir -p $(FZ)/lib
	$(FUZZ_CC) $(CPPFLAGS) -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FZ)/libtiersync.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FZ)/libtiersync.a $(wildcard include/*.h include/tiersync/*.h sync/*.h node/*.h)
	$(FUZZ_CC) $(CPPFLAGS) -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FZ)/libtiersync.a $(LDLIBS)

# The power-cut shim and its restore tool, for the tests only (one source,
# tests/faults/powercut.c; see docs/FAULTS-POWER.md). make powercut
# [TRIALS=200]: the power-loss campaign, tests/e2e/powercut.sh with that
# many trials.
PC_FLAGS  := -O1 -g -U_FORTIFY_SOURCE -D_GNU_SOURCE $(WARN)
$(B)/powercut.so: tests/faults/powercut.c | $(B)
	$(CC) $(PC_FLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

$(B)/powercut-restore: tests/faults/powercut.c | $(B)
	$(CC) $(PC_FLAGS) -DPOWERCUT_TOOL -o $@ $<

powercut: deps $(B)/tiersync $(B)/powercut.so $(B)/powercut-restore
	TIERSYNC=$(CURDIR)/$(B)/tiersync TS_TOP=$(CURDIR) TS_POWERCUT_TRIALS=$(or $(TRIALS),200) \
		sh tests/e2e/powercut.sh

# faultproxy: the loopback proxy that cuts and stalls connections for the
# fault tests (tools/faultproxy.c); plain C, no library
$(B)/faultproxy: $(B)/faultproxy.o
	$(CC) $(LDFLAGS) -o $@ $^

# make faults [TS_FAULT_ROUNDS=100] [TS_KILL_ROUNDS=140]: the long fault
# campaigns of docs/FAULTS.md: transfers over SSH cut through faultproxy,
# push, pull, merge and bundle import killed with SIGKILL at random moments,
# 60 commits killed (tests/e2e/crash.sh), and the
# power-cut campaign (make powercut)
faults: deps $(B)/tiersync $(B)/faultproxy $(B)/powercut.so $(B)/powercut-restore
	TIERSYNC=$(CURDIR)/$(B)/tiersync TS_TOP=$(CURDIR) TS_FAULT_ROUNDS=$(or $(TS_FAULT_ROUNDS),100) \
		sh tests/e2e/faults.sh
	TIERSYNC=$(CURDIR)/$(B)/tiersync TS_TOP=$(CURDIR) TS_KILL_ROUNDS=$(or $(TS_KILL_ROUNDS),140) \
		sh tests/e2e/kills.sh
	TIERSYNC=$(CURDIR)/$(B)/tiersync TS_TOP=$(CURDIR) TS_CRASH_KILLS=60 sh tests/e2e/crash.sh
	TIERSYNC=$(CURDIR)/$(B)/tiersync TS_TOP=$(CURDIR) TS_POWERCUT_TRIALS=$(or $(TRIALS),200) \
		sh tests/e2e/powercut.sh

# tiersync-gen: a district's year of realistic cases (tools/generate.c)
$(B)/tiersync-gen: $(B)/generate.o $(B)/libtiersync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# make demo-year: a district, two streets and a device get a generated year,
# each enrolled at its upper node, the work goes up the tiers, and the
# district reports (nodes left in build/demo-year; the authorized_keys lines
# enrollment writes go to build/demo-year/authorized_keys)
demo-year: all
	@d=$(CURDIR)/build/demo-year; t=$(CURDIR)/$(B)/tiersync; rm -rf $$d && mkdir -p $$d && \
	$$t init $$d/dc --tier district --id bj.dc --author 张敏 >/dev/null && \
	$$t init $$d/jingshan --tier street --id bj.dc.jingshan --upstream $$d/dc --author 王伟 >/dev/null && \
	$$t init $$d/donghuamen --tier street --id bj.dc.donghuamen --upstream $$d/dc --author 赵强 >/dev/null && \
	$$t init $$d/d07 --tier device --id bj.dc.jingshan.d07 --upstream $$d/jingshan --author 李娜 >/dev/null && \
	$$t -C $$d/dc enroll --node bj.dc.jingshan --key $$d/jingshan/id_ed25519.pub \
		--authorized-keys $$d/authorized_keys >/dev/null && \
	$$t -C $$d/dc enroll --node bj.dc.donghuamen --key $$d/donghuamen/id_ed25519.pub \
		--authorized-keys $$d/authorized_keys >/dev/null && \
	$$t -C $$d/jingshan enroll --node bj.dc.jingshan.d07 --key $$d/d07/id_ed25519.pub \
		--authorized-keys $$d/authorized_keys >/dev/null && \
	$(B)/tiersync-gen --district $$d/dc --street $$d/jingshan --street $$d/donghuamen --device $$d/d07 \
		--year 2015 --cases 3000 --seed 2015 && \
	$$t -C $$d/d07 push >/dev/null && $$t -C $$d/jingshan merge --submissions && \
	$$t -C $$d/jingshan push >/dev/null && $$t -C $$d/donghuamen push >/dev/null && \
	$$t -C $$d/dc merge --submissions && $$t -C $$d/dc report --period 2015

bench: deps $(B)/tiersync $(B)/bench
	$(B)/bench

# the bench: tools/bench.c (main, shared helpers) + one tools/bench_*.c per figure group
BENCH_OBJ := $(patsubst tools/%.c,$(B)/%.o,tools/bench.c $(sort $(wildcard tools/bench_*.c)))

$(B)/bench: $(BENCH_OBJ) $(B)/libtiersync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

demo: all
	sh tools/demo.sh $(B)/tiersync

install: deps $(B)/tiersync $(B)/tiersync.1 $(B)/libtiersync.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(B)/tiersync $(DESTDIR)$(PREFIX)/bin/tiersync
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(B)/tiersync.1 $(DESTDIR)$(PREFIX)/share/man/man1/tiersync.1
	install -m 644 $(B)/libtiersync.a $(DESTDIR)$(PREFIX)/lib/libtiersync.a
	install -d $(DESTDIR)$(PREFIX)/include/tiersync
	install -m 644 include/tiersync.h $(DESTDIR)$(PREFIX)/include/tiersync.h
	install -m 644 include/tiersync/*.h $(DESTDIR)$(PREFIX)/include/tiersync/
	sed -e 's|@PREFIX@|$(PREFIX)|g' tools/tiersync.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tiersync.pc
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|^ExecStart=/usr/local/bin/tiersync |ExecStart=$(PREFIX)/bin/tiersync |' \
		tools/tiersync-daemon@.service > $(DESTDIR)$(UNITDIR)/tiersync-daemon@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/tiersync-daemon@.service

clean:
	rm -rf build bin
