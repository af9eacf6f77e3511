# Kehu — the two commands that matter are `make run` and `make test`.
GO ?= go
BIN := bin/kehu
DEMO_CUSTOMERS ?= 20000
ADDR ?= 127.0.0.1:8080
# Sets KEHU_TEST_STRICT=1 in CI so that nothing may skip.
TEST_FLAGS ?= -count=1 -timeout 25m

.PHONY: run build test vet bench fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/kehu

# Builds, creates a demo bank in data/kehu.db if the database is empty, serves
# the UI and API and prints the URL and the demo logins.
run: build
	./$(BIN) serve --addr $(ADDR) --demo-customers $(DEMO_CUSTOMERS) --insecure-cookies

# The whole suite. Tests needing PostgreSQL (KEHU_TEST_POSTGRES) or Chromium
# skip with their reason listed at the end, unless KEHU_TEST_STRICT=1.
test: vet
	$(GO) tool gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg -- $(TEST_FLAGS) ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . && echo "gofmt: files above need formatting" && exit 1)
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
