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

PKGS     = ncursesw libcurl libcjson libpcre2-8
DEPS_APT = build-essential pkg-config libncurses-dev libcurl4-openssl-dev \
           libcjson-dev libpcre2-dev libcmocka-dev tmux python3 clang \
           libclang-rt-14-dev valgrind

# Warnings: everything the issue asks for; -Wsign-conversion (which
# -Wconversion implies in C) is turned off because size_t/int mixing in
# loops makes it noise, not signal.
WARN    = -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion \
          -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla \
          -Wundef -Wwrite-strings -Werror
STD     = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -D_XOPEN_SOURCE_EXTENDED
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
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
CFLAGS_asan    = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                 -fno-sanitize-recover=undefined
LDFLAGS_asan   = -fsanitize=address,undefined

LIB_SRC  := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
TEST_SRC := $(wildcard tests/unit/test_*.c)
HEADERS  := $(wildcard include/weft/*.h)

obj_of   = $(patsubst src/%.c,build/$(1)/obj/%.o,$(LIB_SRC))
tests_of = $(patsubst tests/unit/%.c,build/$(1)/tests/%,$(TEST_SRC))

.PHONY: FORCE all release asan test test-unit test-long run deps check-deps \
        format format-check valgrind bench bench-tree fuzz install uninstall clean help

all: weft

help:
	@echo "make            build ./weft"
	@echo "make run        install missing packages, build, open the offline demo"
	@echo "make test       install missing packages, build both builds, run all tests"
	@echo "make test-long  long fault, crash and soak runs"
	@echo "make bench      benchmarks against the baselines (prints a table)"
	@echo "make fuzz       libFuzzer targets (FUZZ_SECONDS each, default 60)"
	@echo "make valgrind   unit tests under valgrind"
	@echo "make check-deps layering rules for includes"
	@echo "make format-check / make format"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)"

# ---- the two builds -------------------------------------------------------

define BUILD_template
build/$(1)/obj/%.o: src/%.c $(HEADERS) build/prefix | build/$(1)/.dir
	@mkdir -p $$(dir $$@)
	$(say) "CC" "$$< ($(1))"
	$(Q)$$(CC) $(STD) $(WARN) $$(CFLAGS_$(1)) $$(CFLAGS) -DWEFT_VERSION='"$(VERSION)"' \
	    -DWEFT_DATADIR='"$(PREFIX)/share/weft"' \
	    -Iinclude $(PKG_CFLAGS) -c $$< -o $$@

build/$(1)/libweft.a: $(call obj_of,$(1))
	@rm -f $$@
	$(Q)ar rcs $$@ $$^

build/$(1)/weft: src/cli/main.c build/$(1)/libweft.a
	$(say) "LINK" "$$@"
	$(Q)$$(CC) $(STD) $(WARN) $$(CFLAGS_$(1)) $$(CFLAGS) -Iinclude $(PKG_CFLAGS) \
	    $$< build/$(1)/libweft.a $$(LDFLAGS_$(1)) $$(LDFLAGS) $(PKG_LIBS) -lm -o $$@

build/$(1)/tests/%: tests/unit/%.c tests/unit/testutil.h build/$(1)/libweft.a
	@mkdir -p $$(dir $$@)
	$(say) "LINK" "$$@"
	$(Q)$$(CC) $(STD) $(WARN) -Wno-missing-prototypes $$(CFLAGS_$(1)) $$(CFLAGS) \
	    -Iinclude -Itests/unit $(PKG_CFLAGS) $$< build/$(1)/libweft.a \
	    $$(LDFLAGS_$(1)) $$(LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS) -lm -o $$@

build/$(1)/.dir:
	@mkdir -p build/$(1)/obj build/$(1)/tests
	@touch $$@

$(1): build/$(1)/weft $(call tests_of,$(1))
endef
$(eval $(call BUILD_template,release))
$(eval $(call BUILD_template,asan))

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
	@sh tests/deps.sh $(DEPS_APT)

run: deps
	@$(MAKE) --no-print-directory weft
	./weft sessions/demo.json

# ---- tests ----------------------------------------------------------------

test: deps
	@$(MAKE) --no-print-directory check-deps
	@$(MAKE) --no-print-directory -j2 release asan weft
	@$(PYTHON) tests/run.py --build release --build asan

test-unit: release asan
	@$(PYTHON) tests/run.py --build release --build asan --unit-only

test-long: deps
	@$(MAKE) --no-print-directory -j2 release asan weft
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

fuzz:
	@sh tests/fuzz/run.sh

# ---- hygiene --------------------------------------------------------------

check-deps:
	@sh tests/check-deps.sh

format:
	clang-format -i $(wildcard src/*/*.c include/weft/*.h tests/unit/*.c tests/unit/*.h)

format-check:
	@clang-format --dry-run --Werror $(wildcard src/*/*.c include/weft/*.h tests/unit/*.c tests/unit/*.h) \
	    && echo "format-check: ok"

# ---- install --------------------------------------------------------------

install: weft
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/weft
	install -m 755 weft $(DESTDIR)$(PREFIX)/bin/weft
	cp -R themes prompts $(DESTDIR)$(PREFIX)/share/weft/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/weft
	rm -rf $(DESTDIR)$(PREFIX)/share/weft

clean:
	rm -rf build weft
