# logpack - binary logging for C programs.
GO      ?= go
BIN     := bin/logpack
GOFILES := $(shell find . -name '*.go' -not -path './examples/*/build/*')
RTFILES := $(wildcard runtime/c/*.c runtime/c/*.h)

.PHONY: all build test vet demo bench clean

all: build

build: $(BIN)

$(BIN): $(GOFILES) $(RTFILES) go.mod go.sum
	$(GO) build -o $@ ./cmd/logpack

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test: build vet
	$(GO) test ./...

clean:
	rm -rf bin
