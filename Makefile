# shopclip — `make up` runs the product, `make test` runs every test.
GO ?= go
BIN := bin/shopclip
ARGS ?=
# the second codec `make bench` measures over the media set beside H.264 (CODECS= for H.264 only)
CODECS ?= av1

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: up
up: deps build ## install what is missing, build, and run everything on embedded defaults (ARGS="--addr … --data …")
	$(BIN) up $(ARGS)

.PHONY: test
test: test-deps ## install what is missing, start the services, run every test with the race detector
	scripts/test.sh

.PHONY: build
build: ## build bin/shopclip
	$(GO) build -o $(BIN) ./cmd/shopclip

.PHONY: deps
deps: ## install the build and run dependencies (apt-get when root)
	scripts/deps.sh

.PHONY: test-deps
test-deps: ## install the test dependencies too (PostgreSQL, ffmpeg CLI, strace, MinIO)
	scripts/deps.sh --test

.PHONY: bench
bench: test-deps ## transcode benchmark: shopclip vs the ffmpeg CLI ladder, alternating rounds (ROUNDS=5); then bytes, SSIM, PSNR and CPU per rung over ../shared/media, fixed vs content-aware and with the second codec (QUICK=1: 4 clips; CODECS=hevc or CODECS= to change or skip it)
	scripts/bench-transcode.sh $(or $(ROUNDS),5)
	QUICK=$(QUICK) CODECS=$(CODECS) scripts/bench-quality.sh

.PHONY: bench-share
bench-share: test-deps ## share render benchmark: shopclip share vs the same burn-in by the ffmpeg CLI, alternating rounds (ROUNDS=5)
	scripts/bench-share.sh $(or $(ROUNDS),5)

.PHONY: bench-web
bench-web: test-deps ## web benchmark: navigation to first frame and first pop-up of /watch vs a bare hls.js page, headless Chromium (ROUNDS=7)
	ROUNDS=$(or $(ROUNDS),7) $(GO) test ./web -run '^$$' -bench BenchmarkWatchPage -benchtime 1x -timeout 20m

.PHONY: bench-api
bench-api: test-deps ## storefront load benchmark: hot paths of shopclip serve vs a bare net/http floor, closed loop and paced on loopback (BENCH_CONNS="10 100 1000", BENCH_SECONDS=3, BENCH_ROUNDS=1, BENCH_DB="sqlite postgres")
	BENCH_CONNS="$(or $(BENCH_CONNS),10 100 1000)" BENCH_SECONDS=$(or $(BENCH_SECONDS),3) BENCH_ROUNDS=$(or $(BENCH_ROUNDS),1) BENCH_DB="$(or $(BENCH_DB),sqlite postgres)" \
		$(GO) test ./internal/apibench -run '^$$' -bench BenchmarkAPI -benchtime 1x -timeout 30m

.PHONY: fuzz
fuzz: test-deps ## run every fuzz target for FUZZTIME each (default 1m); FUZZ=regexp runs only the targets it matches
	FUZZTIME=$(or $(FUZZTIME),1m) scripts/fuzz.sh $(FUZZ)

.PHONY: chaos
chaos: test-deps ## fault drill: serve, 3 workers, PostgreSQL, MinIO, Redis under kills, pauses, outages and toxics for CHAOS_SECONDS (600), then the ledger's table
	CHAOS_SECONDS=$(or $(CHAOS_SECONDS),600) $(GO) test ./internal/chaos -run '^TestChaosDrill$$' -count=1 -v -timeout 45m

.PHONY: fmt
fmt: ## gofmt every file
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet
	$(GO) vet ./...

.PHONY: clean
clean: ## remove build outputs
	rm -rf bin
