// Package distcheck holds the release tier's tests (make test-release): they
// read what `make dist` wrote to dist/ — goreleaser's archives, checksums and
// krew manifest, and the OCI image layout — and install and run it.
//
// SVCTRACE_DIST names the dist directory and SVCTRACE_KREW_BIN the directory
// holding krew and validate-krew-manifest (built by hack/dist.sh).
package distcheck
