// Package e2e runs `kubectl svctrace` end to end: the real kubectl finds the
// plugin, built once by TestMain, first on PATH and traces Services of one
// real local cluster (package harness) shared by every scenario, each in a
// namespace of its own. The tests check the findings, DNS checks, endpoints,
// packet walks and exit codes of the JSON output against the live cluster:
//
//   - healthy hostnames: no warning or error, live DNS answers, connections
//     to the ClusterIP from the node reach only endpoints the trace lists,
//     and packet walks through the node's real iptables rules
//   - selector typo, a failing readiness probe (HTTP 503 or refused), a
//     missing named targetPort, a pod on a Node that does not exist
//   - headless Service with per-pod DNS records, ExternalName CNAME
//   - user viewer without rights (exit 1) and with deploy/clusterrole.yaml
//   - a Service that does not exist, here or only in another namespace
//   - a Deployment scaled to 0 behind a right selector, one whose pods a
//     ResourceQuota refuses, a targetPort no pod declares, a node dump
//     taken before a pod existed, a Service labelled for another proxy
//     (which the real kube-proxy skips), and a Service without endpoints
//     whose finding says a client is refused, as a connection from the
//     node then is
//   - two nodes (the shared cluster has node-1 and node-2; TestTwoNodes): a
//     pod on node-1 reaches pods on node-2 through a ClusterIP and either
//     node's NodePort; --node node-2 walks node-2's rules; with
//     externalTrafficPolicy Local the host's connection through node-1 is
//     dropped and node-2's answered, as the per-node traces say; a KUBE-SEP
//     chain deleted on node-2 puts node-2 first in --all-nodes; kubectl
//     exec, attach, port-forward and debug node/node-2 (-i too) through the
//     harness kubelet
//   - dual-stack (the shared cluster is): a RequireDualStack and an
//     IPv6-only Service reached through each ClusterIP from a pod, across
//     nodes, traced per family through the agent pod (iptables and
//     ip6tables; TestDualStackNFTables: the ip and ip6 nftables tables on a
//     cluster of its own), an IPv6 KUBE-SEP chain deleted with ip6tables
//     reported in the IPv6 view
//
// The tests need root and the cluster binaries (`make cluster-bins`). They
// run when SVCTRACE_E2E=1 (make test-e2e sets it); under CI=true they then
// fail instead of skipping when they cannot run. A failed run keeps the cluster's state and
// logs and names the directory.
//
//	make cluster-bins
//	SVCTRACE_E2E=1 go test -count=1 -v ./e2e/
package e2e
