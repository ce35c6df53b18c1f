#!/usr/bin/env bash
# Traces a broken Service on the live local cluster (package harness), as
# the Debug Services guide would meet it: Service hostnames with three
# pods, one of which fails its readiness probe.
#
#   hack/demo-live.sh [iptables|nftables]    (make demo-live)
#
# Brings the cluster up with hack/cluster-up.sh unless it already runs,
# creates the pods named as a Deployment would name them, waits until the
# EndpointSlice controller and kube-proxy have acted, then runs
# `kubectl svctrace hostnames` through the real kubectl with the node's rule
# dump and the cluster's CoreDNS. Needs root. Stop the cluster with
# hack/cluster-down.sh (make cluster-down).
#
# Environment: SVCTRACE_CLUSTER_DIR (<repo>/.cache/cluster) as for
# hack/cluster-up.sh; DEMO_ARGS, extra arguments for kubectl svctrace
# (e.g. "-o wide").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${SVCTRACE_CLUSTER_DIR:-$ROOT/.cache/cluster}
export SVCTRACE_CLUSTER_DIR=$DIR

say() {
	if [[ -t 1 ]]; then
		printf '\n\033[1m$ %s\033[0m\n' "$*"
	else
		printf '\n$ %s\n' "$*"
	fi
}
die() {
	echo "demo-live: $*" >&2
	exit 1
}

command -v kubectl >/dev/null || die "kubectl not found on PATH; install kubectl"
# cluster-up.sh returns at once when the cluster already runs.
"$ROOT/hack/cluster-up.sh" "${1:-iptables}" >&2
ready() { sed -n "s/^$1=//p" "$DIR/ready"; }
export KUBECONFIG
KUBECONFIG=$(ready KUBECONFIG)
DNS=$(ready DNS)
NODE_NETNS=$(ready NODE_NETNS)
MODE=$(sed -n 's/^mode: //p' "$DIR/kube-proxy.yaml")

# The plugin as `make build` builds it, found by kubectl on PATH.
(cd "$ROOT" && go build -o bin/kubectl-svctrace ./cmd/kubectl-svctrace)
export PATH=$ROOT/bin:$PATH

say "kubectl apply -f - # Service hostnames, 3 pods of a Deployment, one failing readiness"
kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: hostnames
  namespace: default
spec:
  selector:
    app: hostnames
  ports:
  - protocol: TCP
    port: 80
    targetPort: 9376
EOF
for pod in hostnames-6d9c8b7f5-4xkqz hostnames-6d9c8b7f5-m2p7w hostnames-6d9c8b7f5-tr5vn; do
	unhealthy=false
	# The last pod's server answers 503 to every request, probes included.
	[[ $pod == *tr5vn ]] && unhealthy=true
	kubectl apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: default
  labels:
    app: hostnames
    pod-template-hash: 6d9c8b7f5
  annotations:
    svctrace.dev/unhealthy: "$unhealthy"
spec:
  containers:
  - name: hostnames
    image: registry.k8s.io/serve_hostname
    ports:
    - containerPort: 9376
      protocol: TCP
    readinessProbe:
      httpGet:
        path: /healthz
        port: 9376
      periodSeconds: 1
      failureThreshold: 1
EOF
done

# Wait for 3 endpoints, 2 of them ready, and for kube-proxy to DNAT to both.
endpoints() {
	kubectl get endpointslices -n default -l kubernetes.io/service-name=hostnames \
		-o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready}{"\n"}{end}'
}
rules() {
	if [[ $MODE == nftables ]]; then
		ip netns exec "$NODE_NETNS" nft -j list ruleset
	else
		ip netns exec "$NODE_NETNS" iptables-save
	fi
}
dump=$(mktemp /tmp/svctrace-demo-rules.XXXXXX)
trap 'rm -f "$dump"' EXIT
for i in $(seq 1 150); do
	eps=$(endpoints)
	total=$(grep -c . <<<"$eps" || true)
	ready_ips=$(awk '$2 == "true" { print $1 }' <<<"$eps")
	if [[ $total -eq 3 ]] && [[ $(grep -c . <<<"$ready_ips" || true) -eq 2 ]]; then
		rules >"$dump"
		programmed=true
		for ip in $ready_ips; do
			grep -q "$ip" "$dump" || programmed=false
		done
		$programmed && break
	fi
	[[ $i -eq 150 ]] && die "hostnames not settled after 30s (3 endpoints, 2 ready, in kube-proxy's rules); endpoints: $eps"
	sleep 0.2
done

flag=--iptables-save dumpcmd=iptables-save
[[ $MODE == nftables ]] && flag=--nft dumpcmd="nft -j list ruleset"
say "ip netns exec $NODE_NETNS $dumpcmd >$dump   # node-1's kube-proxy rules"
say "kubectl svctrace hostnames --dns-server $DNS $flag $dump ${DEMO_ARGS:-}"
rc=0
# shellcheck disable=SC2086 # DEMO_ARGS is a list of arguments
kubectl svctrace hostnames --dns-server "$DNS" "$flag" "$dump" ${DEMO_ARGS:-} || rc=$?
echo
echo "demo-live: kubectl svctrace exited $rc (0: no errors, 3: errors found); KUBECONFIG=$KUBECONFIG"
exit "$rc"
