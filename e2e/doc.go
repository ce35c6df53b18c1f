// Package e2e runs `kubectl svctrace` end to end: the real kubectl finds the
// freshly built plugin on PATH and traces Services of a real local cluster
// (package harness), and the tests check the findings and exit codes of its
// JSON output.
//
// The tests need root and the cluster binaries (`make cluster-bins`). They
// run when SVCTRACE_E2E=1 or CI=true; under CI=true they fail instead of
// skipping when they cannot run.
//
//	SVCTRACE_E2E=1 go test -count=1 -v ./e2e/
package e2e
