# logpack - binary logging for C programs.
#
#   make         build bin/logpack
#   make demo    the CRIU-like example built both ways, run, decoded, compared
#   make vet     gofmt check, go vet and staticcheck
#   make test    make vet, then every Go test (including the example and corpus builds)
#   make bench   the log-call benchmark: bench/out/results.md and docs/bench.svg
#   make criu-check CRIU_SRC=DIR   the real CRIU built both ways, run, compared (root)
#   make clean
GO      ?= go
CC      := gcc
BIN     := bin/logpack
GOFILES := $(shell find . -name '*.go' -not -path './examples/*/build/*')
RTFILES := $(wildcard runtime/c/*.c runtime/c/*.h)
# staticcheck at a pinned version (go run fetches it into the module cache
# once; go.mod does not list it): v0.8.2 is release 2026.2.2, for Go 1.26.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test vet demo bench examples criu-check clean

all: build

build: $(BIN)

# Without cgo (which the command does not need, but the flag package's
# import of net would bring): a static binary, which starts in 1-1.7 ms
# less (logpack cc runs once per compiler invocation of a build) and runs
# on any x86-64 Linux, whatever its C library.
$(BIN): $(GOFILES) $(RTFILES) go.mod go.sum
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/logpack

bin/logcmp: $(GOFILES) go.mod
	$(GO) build -o $@ ./examples/logcmp

bin/criubench: $(GOFILES) go.mod
	$(GO) build -o $@ ./examples/criubench

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# go test ./... includes examples/, which builds the example programs both
# ways and checks decoded logs against text logs, and internal/corpus, which
# builds the full generated CRIU-like tree (>= 3,000 call sites in >= 50
# files) with make -j2 through logpack cc. -count=1: several tests build
# and run programs, which the test cache cannot see.
test: build vet
	LOGPACK_CORPUS=full $(GO) test -count=1 ./...

demo: $(BIN) bin/logcmp
	@examples/demo.sh

# Both examples, both ways, into their build/ directories.
examples: $(BIN)
	$(MAKE) -C examples/criu-like O=build/plain
	$(MAKE) -C examples/criu-like O=build/logpack CC="$(CURDIR)/$(BIN) cc --preset criu -- $(CC)"
	$(MAKE) -C examples/minimal all logpack LOGPACK=$(CURDIR)/$(BIN)

# The benchmark: lp.c goes through logpack cc, the baselines are plain gcc.
# --text-level 0: every call only recorded, as the other methods only
# write (by default a warning would also be printed as text).
BENCH_CFLAGS := -O2 -g -Wall -Wextra -Werror
BENCH_SRCS   := bench/logbench.c bench/text.c bench/floor.c bench/lp.c bench/mix.h bench/bench.h

bench/out/logbench: $(BENCH_SRCS) $(BIN)
	@mkdir -p bench/out
	$(CC) $(BENCH_CFLAGS) -DWITH_LOGPACK -Iruntime/c -c -o bench/out/logbench.o bench/logbench.c
	$(CC) $(BENCH_CFLAGS) -c -o bench/out/text.o bench/text.c
	$(CC) $(BENCH_CFLAGS) -c -o bench/out/floor.o bench/floor.c
	$(BIN) cc --log-func 'lp_log(level, fmt, ...)' --text-level 0 -- $(CC) $(BENCH_CFLAGS) -c -o bench/out/lp.o bench/lp.c
	$(BIN) cc --log-func 'lp_log(level, fmt, ...)' -- $(CC) -o $@ bench/out/logbench.o bench/out/text.o bench/out/floor.o bench/out/lp.o

# The sustained figures: many calls per repetition into one crash-safe log,
# each repetition in a fresh process (runtime/bench/emitbench.c; run by
# bench/whole).
bench/out/emitbench: runtime/bench/emitbench.c runtime/bench/bench_site.h runtime/bench/bench_enc.c $(RTFILES)
	@mkdir -p bench/out
	$(CC) -O2 -Wall -Wextra -Werror -Iruntime/c -Iruntime/bench -o $@ runtime/bench/emitbench.c runtime/bench/bench_enc.c

BENCH_CALLS     ?= 20000
BENCH_REPS      ?= 15
BENCH_BIG       ?= 50000000
bench: bench/out/logbench bench/out/emitbench examples
	bench/out/logbench -n $(BENCH_CALLS) -r $(BENCH_REPS) -o bench/out
	$(GO) run ./bench/report -raw bench/out/raw.tsv -logpack $(BIN) -md bench/out/results.md -svg docs/bench.svg \
		-decoder-bench ./decoder -build-example examples/criu-like -cc "$(CURDIR)/$(BIN) cc --preset criu -- $(CC)"
	@echo "Whole-program figures (start-up, size, file size, sustained cost, decoder; bench/whole):"
	@$(GO) run ./bench/whole -plain examples/criu-like/build/plain/criu-like -logpack examples/criu-like/build/logpack/criu-like \
		-cli $(BIN) -emit bench/out/emitbench -dir bench/out -big $(BENCH_BIG) | tee bench/out/whole.md
	@{ echo; cat bench/out/whole.md; } >> bench/out/results.md

# The real thing: a CRIU tree built plainly and through logpack cc, criu
# check, dump and restore both ways, decoded logs against text logs. Needs
# root and CRIU's build dependencies; not part of make test.
criu-check: $(BIN) bin/logcmp bin/criubench
	@test -n "$(CRIU_SRC)" || { echo "usage: make criu-check CRIU_SRC=/path/to/criu" >&2; exit 2; }
	CRIU_SRC="$(CRIU_SRC)" examples/criu-check.sh

clean:
	rm -rf bin bench/out examples/criu-like/build examples/minimal/build
