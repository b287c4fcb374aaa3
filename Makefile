# sitrep: `make help` lists the targets.
SHELL := /bin/bash
export GOTOOLCHAIN := local
GO ?= go
BIN := bin
TEMPORAL := $(BIN)/temporal
SITREP := $(BIN)/sitrep
# Tests that need a Temporal dev server find the pinned CLI here.
export SITREP_TEMPORAL_BIN := $(abspath $(TEMPORAL))

.PHONY: help build dev test bench fuzz lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(TEMPORAL): tools/go.mod tools/go.sum ## the pinned Temporal CLI (first build takes a few minutes)
	cd tools && $(GO) build -o ../$(TEMPORAL) github.com/temporalio/cli/cmd/temporal

build: $(TEMPORAL) ## build sitrep and the pinned Temporal CLI
	$(GO) build -o $(SITREP) ./cmd/sitrep

dev: build ## run sitrep locally: Temporal dev server, sandbox providers, worker, intake
	$(SITREP) dev

test: $(TEMPORAL) lint ## run every test, end to end included
	$(GO) test -count=1 -timeout 20m ./...

bench: build ## run the benchmarks and print their figures
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./cmd/sitrep/

fuzz: ## fuzz each intake parser for 30s
	@for f in $$($(GO) test -list '^Fuzz' ./starter/ | grep ^Fuzz); do \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 30s ./starter/ || exit 1; done

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean: ## remove binaries and local state
	rm -rf $(BIN) .sitrep
