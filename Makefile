# weft: a terminal loom for writing evaluation datasets with language models.
#
# Two builds of the same sources: build/release (./weft) and build/asan
# (AddressSanitizer + UndefinedBehaviorSanitizer), which `make test` uses.
# Every src/*/*.c except src/cli/main.c goes into libweft.a; every
# tests/unit/test_*.c is its own cmocka program linked against it.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PYTHON  ?= python3

# The libraries, each with the Debian package that ships its .pc file.
PKGS     = ncursesw libcurl libcjson libpcre2-8 lapacke
deb_ncursesw   = libncurses-dev
deb_libcurl    = libcurl4-openssl-dev
deb_libcjson   = libcjson-dev
deb_libpcre2-8 = libpcre2-dev
deb_lapacke    = liblapacke-dev
deb_cmocka     = libcmocka-dev

# Two sets of Debian packages: what building and running need (`make run`,
# `make deps`), and what the tests add (`make test`, `make deps-test`;
# chromium opens the map page in tests/integration/test_map_browser.py).
# valgrind (`make valgrind`, `make test-long`) and clang with its sanitizer
# runtimes (`make fuzz`, `make CC=clang test`) come only with the goals that
# use them.
DEPS_RUN   = build-essential pkg-config $(foreach p,$(PKGS),$(deb_$(p)))
DEPS_TEST  = $(DEPS_RUN) $(deb_cmocka) tmux python3 git chromium
DEPS_CLANG = clang libclang-rt-dev
DEPS_LONG  = $(DEPS_TEST) valgrind
ifneq ($(findstring clang,$(CC)),)
DEPS_TEST += $(DEPS_CLANG)
endif

# Warnings: everything the issue asks for; -Wsign-conversion (which
# -Wconversion implies in C) is turned off because size_t/int mixing in
# loops makes it noise, not signal. Warnings are errors in the development
# and CI builds (`make test`, `make test-unit`, `make test-long`, `make
# release`, `make asan`, `.ci/run`) and not in a user's `make`, `make run`
# or `make install`, where a newer compiler's new warning (or an LTO link's)
# must not stop the build; WERROR=1 or WERROR=0 on the command line decides
# either way. A change of WERROR rebuilds (see build/NAME/flags).
ifneq ($(filter test test-unit test-long release asan lto valgrind,$(MAKECMDGOALS)),)
WERROR ?= 1
endif
WERROR  ?= 0
WARN    = -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion \
          -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla \
          -Wundef -Wwrite-strings $(if $(filter 1,$(WERROR)),-Werror)
STD     = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -D_XOPEN_SOURCE_EXTENDED

# Before anything compiles, each library's pkg-config is asked on its own
# (one missing .pc file must not empty the others' flags): a missing one
# stops make with one line naming the Debian packages and how to install
# them. Goals that install packages first (deps, run, test, test-long) or
# compile nothing skip the check; run and test check in the make they call.
NOCHECK_GOALS = deps deps-test deps-long deps-fuzz run test test-long help clean demo \
                check-deps format format-check fuzz uninstall
CMOCKA_GOALS  = release asan test-unit valgrind
ifneq ($(filter-out $(NOCHECK_GOALS),$(or $(MAKECMDGOALS),all)),)
NEED_PKGS := $(PKGS) $(if $(filter $(CMOCKA_GOALS),$(MAKECMDGOALS)),cmocka)
HAVE_PKG_CONFIG := $(shell command -v pkg-config >/dev/null 2>&1 && echo 1)
MISSING_PKGS := $(if $(HAVE_PKG_CONFIG),$(foreach p,$(NEED_PKGS),\
    $(if $(shell pkg-config --exists $(p) 2>/dev/null && echo 1),,$(p))),$(NEED_PKGS))
ifneq ($(strip $(MISSING_PKGS)),)
MISSING_DEBS := $(if $(HAVE_PKG_CONFIG),,pkg-config) $(foreach p,$(MISSING_PKGS),$(deb_$(p)))
INSTALL_HOW := $(if $(filter 0,$(shell id -u)),make $(if $(filter cmocka,$(MISSING_PKGS)),deps-test,deps),sudo apt-get install -y $(strip $(MISSING_DEBS)))
$(error weft needs the Debian packages $(strip $(MISSING_DEBS)) (pkg-config finds no $(strip $(MISSING_PKGS))); install them with: $(INSTALL_HOW))
endif
endif
PKG_CFLAGS := $(foreach p,$(PKGS),$(shell pkg-config --cflags $(p) 2>/dev/null))
PKG_LIBS   := $(foreach p,$(PKGS),$(shell pkg-config --libs $(p) 2>/dev/null))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# `make V=1` shows the full compiler commands.
ifeq ($(V),1)
Q =
say = @true
else
Q = @
say = @printf '  %-6s %s\n'
endif

CFLAGS_release = -O2 -g
# `make lto`: the release build with link-time optimisation, in build/lto
# (.ci/run links it with warnings as errors, as LTO finds new ones).
CFLAGS_lto     = -O2 -g -flto=auto
LDFLAGS_lto    = -flto=auto
CFLAGS_asan    = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                 -fno-sanitize-recover=undefined
LDFLAGS_asan   = -fsanitize=address,undefined

LIB_SRC  := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
TEST_SRC := $(wildcard tests/unit/test_*.c)
HEADERS  := $(wildcard include/weft/*.h src/*/*.h)

obj_of   = $(patsubst src/%.c,build/$(1)/obj/%.o,$(LIB_SRC))
tests_of = $(patsubst tests/unit/%.c,build/$(1)/tests/%,$(TEST_SRC))

.PHONY: FORCE all release asan lto test test-unit test-long run demo deps deps-test \
        deps-long deps-fuzz check-deps \
        format format-check valgrind bench bench-tree fuzz install uninstall clean help

all: weft

help:
	@echo "make            build ./weft"
	@echo "make run        install missing packages, build, open a copy of the offline demo"
	@echo "make test       install missing test packages, build both builds, run all tests"
	@echo "make deps       install the packages building and running need (deps-test: and testing)"
	@echo "make WERROR=1   warnings are errors (the default in make test and CI)"
	@echo "make lto        build/lto/weft, linked with link-time optimisation"
	@echo "make test-long  long fault, crash and soak runs"
	@echo "make bench      benchmarks against the baselines (prints a table)"
	@echo "make fuzz       libFuzzer targets (FUZZ_SECONDS each, default 60)"
	@echo "make valgrind   unit tests under valgrind"
	@echo "make check-deps layering rules for includes"
	@echo "make format-check / make format"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)"

# ---- the two builds -------------------------------------------------------

define BUILD_template
build/$(1)/obj/%.o: src/%.c $(HEADERS) build/prefix build/$(1)/flags | build/$(1)/.dir
	@mkdir -p $$(dir $$@)
	$(say) "CC" "$$< ($(1))"
	$(Q)$$(CC) $(STD) $(WARN) $$(CFLAGS_$(1)) $$(CFLAGS) -DWEFT_VERSION='"$(VERSION)"' \
	    -DWEFT_DATADIR='"$(PREFIX)/share/weft"' \
	    -Iinclude $(PKG_CFLAGS) -c $$< -o $$@

build/$(1)/libweft.a: $(call obj_of,$(1))
	@rm -f $$@
	$(Q)ar rcs $$@ $$^

build/$(1)/weft: src/cli/main.c build/$(1)/libweft.a build/$(1)/flags
	$(say) "LINK" "$$@"
	$(Q)$$(CC) $(STD) $(WARN) $$(CFLAGS_$(1)) $$(CFLAGS) -Iinclude $(PKG_CFLAGS) \
	    $$< build/$(1)/libweft.a $$(LDFLAGS_$(1)) $$(LDFLAGS) $(PKG_LIBS) -lm -o $$@

build/$(1)/tests/%: tests/unit/%.c tests/unit/testutil.h build/$(1)/libweft.a build/$(1)/flags
	@mkdir -p $$(dir $$@)
	$(say) "LINK" "$$@"
	$(Q)$$(CC) $(STD) $(WARN) -Wno-missing-prototypes $$(CFLAGS_$(1)) $$(CFLAGS) \
	    -Iinclude -Itests/unit $(PKG_CFLAGS) $$< build/$(1)/libweft.a \
	    $$(LDFLAGS_$(1)) $$(LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS) -lm -o $$@

build/$(1)/.dir:
	@mkdir -p build/$(1)/obj build/$(1)/tests
	@touch $$@

# The compiler and flags the build was made with: another CC, CFLAGS,
# LDFLAGS or WERROR rebuilds it rather than mixing objects of two kinds
# (gcc's and clang's sanitizer runtimes do not link together).
build/$(1)/flags: FORCE | build/$(1)/.dir
	@printf '%s\n' '$$(subst ','\'',$$(CC) $(STD) $(WARN) $$(CFLAGS_$(1)) $$(CFLAGS) $$(LDFLAGS_$(1)) $$(LDFLAGS) $(PKG_CFLAGS) $(PKG_LIBS))' \
	    | cmp -s - $$@ || printf '%s\n' '$$(subst ','\'',$$(CC) $(STD) $(WARN) $$(CFLAGS_$(1)) $$(CFLAGS) $$(LDFLAGS_$(1)) $$(LDFLAGS) $(PKG_CFLAGS) $(PKG_LIBS))' > $$@

endef
$(eval $(call BUILD_template,release))
$(eval $(call BUILD_template,asan))
$(eval $(call BUILD_template,lto))

release: build/release/weft $(call tests_of,release)
asan: build/asan/weft $(call tests_of,asan)
lto: build/lto/weft

# The data folder (PREFIX/share/weft) is compiled in: a new PREFIX rebuilds,
# so `make install PREFIX=DIR` installs a weft that finds its prompts.
build/prefix: FORCE
	@mkdir -p build
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@
FORCE:

weft: build/release/weft
	cp build/release/weft weft

# ---- set-up ---------------------------------------------------------------

deps:
	@sh tests/deps.sh $(DEPS_RUN)

deps-test:
	@sh tests/deps.sh $(DEPS_TEST)

deps-long:
	@sh tests/deps.sh $(DEPS_LONG)

deps-fuzz:
	@sh tests/deps.sh $(DEPS_RUN) $(DEPS_CLANG)

# The demo opens from a fresh copy in build/demo, so the tracked
# sessions/demo.json stays as it is whatever is done in the loom; the
# changes stay in the copy until the next `make run` copies it again.
DEMO     = build/demo/demo.json
DEMO_BIN = ./weft

run: deps
	@$(MAKE) --no-print-directory weft
	@$(MAKE) --no-print-directory demo

demo:
	@mkdir -p $(dir $(DEMO))
	@rm -f $(DEMO).journal
	@cp sessions/demo.json $(DEMO)
	@echo "weft: opening $(DEMO), a fresh copy of sessions/demo.json"
	@$(DEMO_BIN) $(DEMO); status=$$?; \
	    echo "weft: the demo's changes are in $(DEMO); sessions/demo.json is as it was"; \
	    exit $$status

# ---- tests ----------------------------------------------------------------

test: deps-test
	@$(MAKE) --no-print-directory check-deps
	@$(MAKE) --no-print-directory -j2 release asan weft WERROR=$(WERROR)
	@$(PYTHON) tests/run.py --build release --build asan

test-unit: release asan
	@$(PYTHON) tests/run.py --build release --build asan --unit-only

test-long: deps-long
	@$(MAKE) --no-print-directory -j2 release asan weft WERROR=$(WERROR)
	@WEFT_LONG=1 $(PYTHON) tests/run.py --build asan --long
	@echo "== the user flows with weft under valgrind (uninitialised reads)"
	@WEFT_LONG=1 $(PYTHON) tests/run.py --build release --long --valgrind -k flows/

valgrind: release
	@for t in $(call tests_of,release); do \
	    echo "== $$t"; \
	    valgrind --quiet --error-exitcode=1 --leak-check=full $$t || exit 1; \
	done

# Not part of `make test`: prints one table of figures against baselines.
bench: weft build/release/bench/tree_1m build/release/bench/weft_bench \
       build/release/bench/fast_server build/release/bench/tui_bench
	@$(PYTHON) tests/bench/run.py

# 1,000,000-node session save and reload: times and peak RSS (not a test).
build/release/bench/tree_1m: tests/bench/tree_1m.c build/release/libweft.a
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS_release) $(CFLAGS) -Iinclude $(PKG_CFLAGS) $< \
	    build/release/libweft.a $(LDFLAGS) $(PKG_LIBS) -lm -o $@

build/release/bench/weft_bench: tests/bench/weft_bench.c build/release/libweft.a
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS_release) $(CFLAGS) -Iinclude $(PKG_CFLAGS) $< \
	    build/release/libweft.a $(LDFLAGS) $(PKG_LIBS) -lm -o $@

build/release/bench/tui_bench: tests/bench/tui_bench.c build/release/libweft.a
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS_release) $(CFLAGS) -pthread -Iinclude $(PKG_CFLAGS) $< \
	    build/release/libweft.a $(LDFLAGS) $(PKG_LIBS) -lm -o $@

build/release/bench/fast_server: tests/bench/fast_server.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS_release) $(CFLAGS) $< -o $@

bench-tree: build/release/bench/tree_1m
	build/release/bench/tree_1m save build/bench-1m.json
	build/release/bench/tree_1m load build/bench-1m.json
	@rm -f build/bench-1m.json

fuzz: deps-fuzz
	@WEFT_PKGS="$(PKGS)" sh tests/fuzz/run.sh

# ---- hygiene --------------------------------------------------------------

check-deps:
	@sh tests/check-deps.sh

format:
	clang-format -i $(wildcard src/*/*.c include/weft/*.h tests/unit/*.c tests/unit/*.h)

format-check:
	@clang-format --dry-run --Werror $(wildcard src/*/*.c include/weft/*.h tests/unit/*.c tests/unit/*.h) \
	    && echo "format-check: ok"

# ---- install --------------------------------------------------------------

# PREFIX/bin/weft, the tasks and themes in PREFIX/share/weft (compiled in,
# and found beside PREFIX/bin wherever PREFIX is moved), the man page and
# the bash completion; their text names the compiled-in PREFIX/share/weft.
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

install: weft
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/weft \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 weft $(DESTDIR)$(PREFIX)/bin/weft
	rm -rf $(DESTDIR)$(PREFIX)/share/weft/themes $(DESTDIR)$(PREFIX)/share/weft/prompts
	cp -R themes prompts $(DESTDIR)$(PREFIX)/share/weft/
	sed 's|/usr/local/share/weft|$(PREFIX)/share/weft|g' man/weft.1 > $(DESTDIR)$(MANDIR)/man1/weft.1
	chmod 644 $(DESTDIR)$(MANDIR)/man1/weft.1
	sed 's|@DATADIR@|$(PREFIX)/share/weft|g' completion/weft.bash > $(DESTDIR)$(BASHCOMPDIR)/weft
	chmod 644 $(DESTDIR)$(BASHCOMPDIR)/weft

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/weft
	rm -rf $(DESTDIR)$(PREFIX)/share/weft
	rm -f $(DESTDIR)$(MANDIR)/man1/weft.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/weft

clean:
	rm -rf build weft
