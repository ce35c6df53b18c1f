# Local test cluster (package harness). Included by the top-level Makefile.
#   make cluster-bins   build/cache kube-apiserver, kube-controller-manager,
#                       kube-proxy, CoreDNS and the pod server (.cache/bin)
#   make cluster-up     start the cluster in the background (root);
#                       CLUSTER_PROXY_MODE=nftables for kube-proxy's nftables mode,
#                       NODES=1 for one node (default 2: node-1 and node-2),
#                       STACK=single for IPv4 only (default dual: IPv4 and IPv6)
#   make cluster-down   stop it and remove its namespaces and links
#   make cluster-e2e    run the harness smoke test (root)

CLUSTER_PROXY_MODE ?= iptables
NODES ?= 2
STACK ?= dual

.PHONY: cluster-bins cluster-up cluster-down cluster-e2e

cluster-bins:
	hack/build-cluster-bins.sh

cluster-up:
	hack/cluster-up.sh $(CLUSTER_PROXY_MODE) $(NODES) $(STACK)

cluster-down:
	hack/cluster-down.sh

cluster-e2e: cluster-bins
	SVCTRACE_E2E=1 go test -count=1 -v ./harness/
