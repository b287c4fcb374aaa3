# sitrep: `make help` lists the targets.
SHELL := /bin/bash
export GOTOOLCHAIN := local
GO ?= go
BIN := bin
TEMPORAL := $(BIN)/temporal
SITREP := $(BIN)/sitrep
# Tests that need a Temporal dev server find the pinned CLI here.
export SITREP_TEMPORAL_BIN := $(abspath $(TEMPORAL))

# The production topology (make test-prod): the Temporal server, its SQL
# tool and the UI server, pinned in tools/ and tools/ui/, with the server's
# config template and schema and the UI's config copied beside them.
SERVER := $(BIN)/temporal-server
SQLTOOL := $(BIN)/temporal-sql-tool
UISERVER := $(BIN)/temporal-ui-server
SERVERDIR := $(BIN)/temporal-server.d
UIDIR := $(BIN)/temporal-ui.d
# puppeteer-core (tools/browser/package-lock.json) drives Debian's Chromium
# for the report's browser test.
BROWSER := $(BIN)/browser/node_modules/puppeteer-core/package.json

.PHONY: help build dev test bench fuzz lint clean prod-deps prod-bin test-prod histories

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(TEMPORAL): tools/go.mod tools/go.sum ## the pinned Temporal CLI (first build takes a few minutes)
	cd tools && $(GO) build -o $(abspath $(TEMPORAL)) github.com/temporalio/cli/cmd/temporal

build: $(TEMPORAL) ## build sitrep and the pinned Temporal CLI
	$(GO) build -o $(SITREP) ./cmd/sitrep

dev: build ## run sitrep locally: Temporal dev server, sandbox providers, worker, intake
	$(SITREP) dev

test: $(TEMPORAL) lint ## run every test, end to end included
	$(GO) test -count=1 -timeout 20m ./...

bench: build ## run the benchmarks and print their figures
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 45m ./cmd/sitrep/ ./workflows/

fuzz: ## fuzz each intake parser for 30s
	@for f in $$($(GO) test -list '^Fuzz' ./starter/ | grep ^Fuzz); do \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 30s ./starter/ || exit 1; done

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

prod-deps: ## install PostgreSQL, Prometheus, Chromium and Node.js from Debian when missing (needs root)
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(SERVER): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(abspath $(SERVER)) go.temporal.io/server/cmd/server

$(SQLTOOL): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(abspath $(SQLTOOL)) go.temporal.io/server/cmd/tools/sql

$(UISERVER): tools/ui/go.mod tools/ui/go.sum
	cd tools/ui && $(GO) build -o $(abspath $(UISERVER)) github.com/temporalio/ui-server/v2/cmd/server

# The server's config template (what the temporalio/server image renders
# from the same environment) and its PostgreSQL schema; the UI's template.
$(SERVERDIR)/config/docker.yaml: tools/go.mod
	@src=$$(cd tools && $(GO) list -m -f '{{.Dir}}' go.temporal.io/server); \
	rm -rf $(SERVERDIR) && mkdir -p $(SERVERDIR)/config $(SERVERDIR)/schema && \
	cp $$src/config/docker.yaml $(SERVERDIR)/config/ && \
	cp -r $$src/schema/postgresql $(SERVERDIR)/schema/ && chmod -R u+w $(SERVERDIR)

$(UIDIR)/config/docker.yaml: tools/ui/go.mod
	@src=$$(cd tools/ui && $(GO) list -m -f '{{.Dir}}' github.com/temporalio/ui-server/v2); \
	rm -rf $(UIDIR) && mkdir -p $(UIDIR)/config && \
	cp $$src/config/docker.yaml $(UIDIR)/config/ && chmod -R u+w $(UIDIR)

$(BROWSER): tools/browser/package.json tools/browser/package-lock.json
	mkdir -p $(BIN)/browser && cp tools/browser/package.json tools/browser/package-lock.json $(BIN)/browser/
	cd $(BIN)/browser && npm ci --ignore-scripts --no-audit --no-fund

prod-bin: build $(SERVER) $(SQLTOOL) $(UISERVER) $(SERVERDIR)/config/docker.yaml $(UIDIR)/config/docker.yaml $(BROWSER) ## build the Temporal server, SQL tool and UI server; install puppeteer-core

test-prod: prod-deps prod-bin ## run the production topology: PostgreSQL, Temporal server and UI, 2 workers, 2 intakes
	$(GO) vet -tags prod ./deploy/... ./cmd/sitrep/
	promtool check rules deploy/prometheus/sitrep-rules.yml
	promtool test rules deploy/prometheus/sitrep-rules.test.yml
	$(GO) test -tags prod -count=1 -timeout 30m -v -run . ./deploy/...
	$(GO) test -tags prod -count=1 -timeout 5m -v -run '^TestReportInBrowser$$' ./cmd/sitrep/
	$(GO) test -tags prod -count=1 -timeout 5m -v -run '^TestInboxInBrowser$$' ./sandbox/

histories: $(TEMPORAL) ## re-record the replay histories (workflows/testdata) from the current code, one per scenario
	rm -f workflows/testdata/*.json
	SITREP_RECORD_HISTORIES=1 $(GO) test -count=1 -run '^TestRecordHistories$$' ./workflows/

clean: ## remove binaries and local state
	rm -rf $(BIN) .sitrep
