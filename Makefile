# Socle — the two commands a newcomer needs: `make run` and `make test`.
# Everything else here is for developers (see docs/architecture.md).
SHELL := /bin/bash
PRESET ?= default
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)
HTTP ?= 127.0.0.1:8090
DATA_DIR ?= ./socle_data

.PHONY: run test test-asan deps sdk-deps smtp-deps configure build fuzz bench clean help

help:
	@echo "make run        install missing packages, build, start socle-server on $(HTTP)"
	@echo "make test       install missing packages, build, run every test suite"
	@echo "make test-asan  the whole suite under AddressSanitizer + UBSan"
	@echo "make fuzz       build and briefly run the libFuzzer targets (clang)"
	@echo "make bench      the load benchmark: Socle and its peers against the machine's ceilings"
	@echo "                (build/bench/latest/report.md; settings: tests/load/bench.sh --help)"

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target socle-server socle
	@echo "Starting socle-server on http://$(HTTP) (data in $(DATA_DIR)); Ctrl-C stops it."
	@$(BUILD_DIR)/apps/socle-server/socle-server --http $(HTTP) --data-dir $(DATA_DIR)

# The PocketBase JS SDK the end-to-end tests drive (tests/sdk), from its lockfile.
sdk-deps: deps
	@[ -f tests/sdk/node_modules/pocketbase/package.json ] || \
	  (cd tests/sdk && npm ci --no-audit --no-fund --prefer-offline)

# The SMTP receiver and mail parser the mail adapter's tests use (tests/support/smtp).
smtp-deps: deps
	@[ -f tests/support/smtp/node_modules/smtp-server/package.json ] && \
	  [ -f tests/support/smtp/node_modules/mailparser/package.json ] || \
	  (cd tests/support/smtp && npm ci --no-audit --no-fund --prefer-offline)

test: build sdk-deps smtp-deps
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-asan:
	@$(MAKE) --no-print-directory test PRESET=asan

fuzz:
	@SOCLE_FUZZ_DEPS=1 scripts/install-deps.sh
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@for f in build/fuzz/fuzz/*_fuzz; do n=$$(basename $$f); echo "== $$n"; \
	  mkdir -p build/fuzz/corpus/$$n && \
	  $$f -max_total_time=$${FUZZ_SECONDS:-30} -max_len=65536 build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

# The load benchmark (tests/load/bench.sh): Release binaries, wrk, nginx, pgbench and gnuplot.
# BENCH_ARGS passes options (e.g. BENCH_ARGS='--targets socle --runs 1'); BENCH_* variables too.
bench:
	@SOCLE_BENCH_DEPS=1 scripts/install-deps.sh
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target socle-server socle
	@tests/load/bench.sh $(BENCH_ARGS)

clean:
	@rm -rf build
