// Package conformance checks the project's models of kube-proxy against a
// real kube-proxy v1.37.2: the iptables rule generator, the iptables and
// nftables packet walks, and the drift checks that the trace reports.
//
// Its tests start the local cluster of package harness (kube-proxy in a
// network namespace standing in for node-1), create a Service of every kind
// kube-proxy treats differently, and compare what kube-proxy programmed with
// what the project predicts for the same API objects. They then damage the
// node's rules by hand and expect the drift to be reported.
//
// The tests need root and the binaries of hack/build-cluster-bins.sh, and run
// only with SVCTRACE_E2E=1:
//
//	SVCTRACE_E2E=1 go test ./conformance/ -v
package conformance
