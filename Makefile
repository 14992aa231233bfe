# Spanner — set-up, build and tests.
#
#   make run    install what is missing, build the Kore module, start the
#               embedded PostgreSQL, migrate, seed and serve on
#               http://127.0.0.1:8080 through `kore -c kore.conf`
#   make test   the same set-up, then unit, integration and browser tests
#
# Set-up is idempotent: Debian packages are installed only when missing
# (apt-get, as root or through sudo), npm packages with `npm ci` from the
# committed lock file only when the lock file changed.

SHELL := /bin/bash
.DEFAULT_GOAL := build

DEB_PACKAGES := gcc clang libclang-rt-14-dev make pkg-config libc6-dev kore libssl-dev libpq-dev libcsv-dev \
	libargon2-dev libjansson-dev libcmocka-dev libcurl4-gnutls-dev postgresql-15 \
	nodejs npm chromium fonts-liberation python3-aiosmtpd wrk openssl curl ca-certificates procps \
	nginx-light sqlmap podman debootstrap
PKGS := libpq jansson libargon2 libcurl

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc $(WARN) -g -fPIC
# Debian's Kore is built with pgsql and tasks; its headers need the same switches.
KORE_CFLAGS := -DKORE_USE_PGSQL -DKORE_USE_TASKS
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread -lm
RELEASE_CFLAGS := -O2
ASAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

# Kore-free code: the module and the test binaries share it.
KORE_ONLY := src/core/http.c src/core/db_kore.c src/core/page.c
LIB_SRC := $(sort $(filter-out $(KORE_ONLY),$(wildcard src/core/*.c src/domain/*.c)))
# What only exists inside kore: hooks, the HTTP layer, handlers.
MOD_SRC := src/app.c $(KORE_ONLY) $(sort $(wildcard src/web/*.c))
CTL_SRC := src/ctl.c
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
INTEG_SRC := $(sort $(wildcard tests/integration/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

REL_OBJ := $(LIB_SRC:%.c=build/release/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
MOD_REL_OBJ := $(MOD_SRC:%.c=build/release/%.o)
MOD_ASAN_OBJ := $(MOD_SRC:%.c=build/asan/%.o)
SUPPORT_OBJ := $(TEST_SUPPORT:%.c=build/asan/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/unit/%)
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=build/tests/integration/%)
# libFuzzer harnesses: clang, with the library instrumented for coverage, ASan and UBSan.
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/bin/%)
FUZZ_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

# Keep test objects between runs (make would delete them as intermediates).
.SECONDARY:

.PHONY: symbols-check build run stop-db backup restore test deps deps-debian deps-npm clang-check format clean bench unit integration e2e fuzz

build: deps build/spanner.so build/spanner-asan.so build/spanner-ctl assets/vendor/htmx.min.js

# ---------------------------------------------------------------- set-up

deps: deps-debian deps-npm

# SPANNER_SKIP_DEPS=1 skips the package check (container builds install their own).
deps-debian:
	@[ -n "$(SPANNER_SKIP_DEPS)" ] || scripts/install-deps $(DEB_PACKAGES)

deps-npm: node_modules/.spanner-stamp

node_modules/.spanner-stamp: package.json package-lock.json | deps-debian
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

assets/vendor/htmx.min.js: node_modules/.spanner-stamp
	@mkdir -p assets/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# ---------------------------------------------------------------- build

build/release/%.o: %.c | deps-debian
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(BASE_CFLAGS) $(RELEASE_CFLAGS) $(KORE_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c | deps-debian
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	@$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) $(KORE_CFLAGS) $(PKG_CFLAGS) -Itests/support -MMD -MP -c $< -o $@

build/fuzz/%.o: %.c | deps-debian
	@mkdir -p $(dir $@)
	@echo "  CC fuzz $<"
	@clang $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(KORE_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/libspanner.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/bin/%: build/fuzz/tests/fuzz/%.o build/fuzz/libspanner.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

build/release/libspanner.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/asan/libspanner.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The module kore loads. -Bsymbolic: Kore's binary exports unprefixed names
# (fatal, worker, ...); the module's own references must never bind to them.
build/spanner.so: $(MOD_REL_OBJ) $(REL_OBJ)
	$(CC) -shared -Wl,-Bsymbolic -o $@ $^ $(PKG_LIBS)

# The same under AddressSanitizer and UBSan (tests run kore with libasan preloaded).
build/spanner-asan.so: $(MOD_ASAN_OBJ) $(ASAN_OBJ)
	$(CC) $(ASAN_FLAGS) -shared -Wl,-Bsymbolic -o $@ $^ $(PKG_LIBS)

build/spanner-ctl: build/release/src/ctl.o build/release/libspanner.a
	$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(PKG_LIBS)

build/tests/unit/%: build/asan/tests/unit/%.o $(SUPPORT_OBJ) build/asan/libspanner.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

# The route table without its handlers, for the tests that walk every route.
build/asan/routes_table.o: src/web/routes.c | deps-debian
	@mkdir -p $(dir $@)
	@$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -DROUTES_TABLE_ONLY $(KORE_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

build/tests/integration/%: build/asan/tests/integration/%.o $(SUPPORT_OBJ) build/asan/routes_table.o build/asan/libspanner.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

# Compiles everything with the other compiler too: no warnings under gcc and clang.
clang-check: | deps-debian
	@for f in $(LIB_SRC) $(MOD_SRC) $(CTL_SRC) $(UNIT_SRC) $(INTEG_SRC) $(TEST_SUPPORT) $(FUZZ_SRC); do \
		clang $(BASE_CFLAGS) $(KORE_CFLAGS) $(PKG_CFLAGS) -Itests/support -fsyntax-only $$f || exit 1; \
	done
	@echo "clang: no warnings"

-include $(shell find build -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- run and test

run: build
	@scripts/run-server

# A consistent pg_dump of the database in use (embedded or `database`), into FILE
# or var/backups/spanner-<UTC time>.dump.
backup: build/spanner-ctl
	@mkdir -p var/backups
	@build/spanner-ctl --backup "$${FILE:-var/backups/spanner-$$(date -u +%Y%m%d-%H%M%S).dump}"

# FILE into a fresh database: the embedded cluster of an empty SPANNER_VAR_DIR (move
# var/ aside first, or name another one), or an empty external `database`.
restore: build/spanner-ctl
	@[ -n "$(FILE)" ] || { echo "usage: make restore FILE=var/backups/….dump" >&2; exit 2; }
	@build/spanner-ctl --restore "$(FILE)" >/dev/null && echo "restored $(FILE)"

stop-db: build/spanner-ctl
	build/spanner-ctl --stop-db

# Kore's binary exports unprefixed names (fatal, worker, http_init …): a module
# symbol of the same name would be shadowed for Kore and confuse every reader.
# No name the module defines may be one that kore defines.
symbols-check: build/spanner.so | deps-debian
	@nm -D --defined-only build/spanner.so | awk '{print $$3}' | sort -u >build/module.syms
	@nm -D --defined-only "$$(command -v kore)" | awk '{print $$3}' | sort -u >build/kore.syms
	@clash=$$(comm -12 build/module.syms build/kore.syms); \
	if [ -n "$$clash" ]; then echo "module symbols that kore also defines: $$clash"; exit 1; fi
	@echo "symbols: none shared with kore"

test: build clang-check symbols-check $(UNIT_BIN) $(INTEG_BIN) $(FUZZ_BIN)
	@tests/run-all

# Each harness for FUZZ_SECONDS (default 600) on a corpus kept in build/fuzz/corpus;
# `make test` runs them for 30 s each.
fuzz: $(FUZZ_BIN)
	@tests/fuzz/run $${FUZZ_SECONDS:-600}

unit: $(UNIT_BIN)
	@tests/run-all unit

integration: build $(INTEG_BIN)
	@tests/run-all integration

e2e: build
	@tests/run-all e2e

bench: build
	@bench/run

format:
	clang-format -i $(LIB_SRC) $(MOD_SRC) $(CTL_SRC) $(UNIT_SRC) $(INTEG_SRC) $(TEST_SUPPORT) $(FUZZ_SRC) $(wildcard src/*/*.h tests/support/*.h)

clean:
	rm -rf build
