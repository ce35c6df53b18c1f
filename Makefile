# Test tiers. `make test` runs every one; under CI=true no tier may skip.
GO      ?= go
BIN     := bin/kubectl-svctrace
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(shell git rev-parse --short=12 HEAD 2>/dev/null) -X main.date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
FUZZTIME ?= 15s

.PHONY: bench bench-serve all build demo demo-live dist test test-unit test-fuzz test-ipvs test-e2e test-tui test-release lint deps clean

include harness/cluster.mk

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-svctrace

demo:
	$(GO) run ./cmd/kubectl-svctrace --demo

# Every tier in this order: lint test-unit test-fuzz test-tui test-release
# test-ipvs test-e2e, with the cluster binaries for test-e2e built in the
# background meanwhile (hack/test-all.sh).
test: deps
	@hack/test-all.sh
	@echo "make test: every tier passed"

# Installs the system packages the root tiers need (when root); says what is
# missing otherwise.
deps:
	@hack/install-deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/kubectl-svctrace
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/kubectl-svctrace

# Unit and package tests. Tests that need root or network namespaces run
# here too: they skip when not root, and fail instead under CI=true.
test-unit:
	$(GO) test -count=1 ./...

# Bounded fuzzing of every parser of untrusted input.
test-fuzz:
	@hack/fuzz.sh $(FUZZTIME)

# The real binary in a real terminal (tmux): open the demo, walk a packet.
test-tui:
	hack/tui-smoke.sh

# The release as a v* tag makes it, into dist/ (docs/release.md):
# goreleaser check and a snapshot (archives, checksums, krew manifest), and
# the plugin's image as an OCI layout. Tools are cached by version.
dist:
	hack/dist.sh

# The release checked: archives and checksums, the krew manifest validated
# by krew and installed from the local archives, the image read back and run.
test-release: dist
	cd hack/tools && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@eval "$$(hack/dist.sh tools)" && cd hack/tools && \
		SVCTRACE_DIST=$(CURDIR)/dist SVCTRACE_KREW_BIN=$$KREW_DIR $(GO) test -count=1 ./...

# Real IPVS: a Debian kernel under qemu programs and reads back virtual servers.
test-ipvs:
	bash harness/ipvsvm/run.sh
	IPVSVM_PKG=./cmd/kubectl-svctrace bash harness/ipvsvm/run.sh TestVMServeIPVS

# A real control plane (etcd, kube-apiserver, kube-controller-manager,
# CoreDNS) and kube-proxy in a node namespace; binaries are built once per
# version into $$SVCTRACE_CACHE (default .cache).
E2E_PKGS ?= ./harness ./e2e ./conformance
test-e2e: cluster-bins
	SVCTRACE_E2E=1 $(GO) test -count=1 -timeout 30m $(E2E_PKGS)

# The hostnames example on a live local cluster, traced with real kubectl.
demo-live:
	hack/demo-live.sh

# Speed and memory targets, checked by benchmarks (docs/performance.md),
# and the whole command against offline dumps of 1k to 10k Services.
bench:
	hack/bench.sh
	hack/bench-scale.sh

# --serve beside the real kube-proxy on the local cluster: 2,000 Services x
# 10 endpoints, both read from their own /metrics (root; takes the e2e lock).
bench-serve:
	hack/bench-serve.sh

clean:
	rm -rf bin dist
