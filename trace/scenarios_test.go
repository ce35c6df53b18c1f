package trace_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Each case names the findings a scenario must produce, as "ID/severity",
// and text each finding's message must contain.
var scenarioCases = []struct {
	bundle, ns, svc string
	want            []string
	contains        map[string]string
}{
	{"healthy.yaml", "default", "web", nil, nil},
	{"notfound.yaml", "default", "web", []string{"ServiceNotFound/error"},
		map[string]string{"ServiceNotFound": `did you mean "webb" or "wbe"? A Service "web" exists in namespace "shop": add -n shop.`}},
	{"selector-typo.yaml", "default", "hostnames", []string{"NoPodsMatchSelector/error", "NoReadyEndpoints/error"},
		map[string]string{"NoPodsMatchSelector": "pod hostname-0 has app=hostname, selector wants app=hostnames"}},
	{"not-ready.yaml", "default", "web", []string{"NodeNotReady/warning", "PodsNotReady/warning", "PodsNotReady/warning", "PodsNotReady/warning"},
		map[string]string{"PodsNotReady": `container "app" is in CrashLoopBackOff (7 restarts, last exit code 1 Error)`}},
	{"no-ready-endpoints.yaml", "default", "web", []string{"NoReadyEndpoints/error", "PodsNotReady/warning", "PodsNotReady/warning"}, nil},
	{"ports.yaml", "default", "named", []string{"NamedPortNotFound/error"},
		map[string]string{"NamedPortNotFound": `named port "http", which 1 of 2 pods do not declare: web-1`}},
	{"ports.yaml", "default", "udp", []string{"NamedPortNotFound/error", "NoReadyEndpoints/error", "ProtocolMismatch/error"},
		map[string]string{"ProtocolMismatch": "another protocol: web-0 (TCP)"}},
	{"ports.yaml", "default", "numeric", []string{"TargetPortNotExposed/error"},
		map[string]string{"TargetPortNotExposed": "targetPort 9000, which no container of the selected pods declares (they declare 8080/TCP); nothing shows that port answering (no readiness probe checks it; --probe connects to each endpoint), so connections to every endpoint are most likely refused; the pods' readiness probe checks port 8080: if the app listens there, set targetPort: 8080"}},
	{"ports.yaml", "default", "probed", []string{"TargetPortNotExposed/warning"},
		map[string]string{"TargetPortNotExposed": "the passing readiness probe of pod pr-0 checks that port, so the app answers there"}},
	{"ports.yaml", "default", "perpod", nil, nil},
	{"ports.yaml", "default", "stale", []string{"EndpointsNotMatchingPods/warning"},
		map[string]string{"EndpointsNotMatchingPods": "10.244.1.21:8080 (pod pp-1 has http=9090)"}},
	{"workloads.yaml", "default", "scaled", []string{"NoReadyEndpoints/error", "WorkloadScaledToZero/error"},
		map[string]string{"WorkloadScaledToZero": "deployment/scaled's template matches the selector, but it is scaled to 0 replicas, so no pod runs for the Service; kubectl scale deployment/scaled -n default --replicas=N",
			"NoReadyEndpoints": "because no pod runs for the selector"}},
	{"workloads.yaml", "default", "quota", []string{"NoReadyEndpoints/error", "WorkloadPodsRefused/error"},
		map[string]string{"WorkloadPodsRefused": `deployment/quota wants 2 pods but its pods are refused: Error creating: pods "quota-5d8f9c-x7k2p" is forbidden: exceeded quota: compute, requested: limits.cpu=2, used: limits.cpu=0, limited: limits.cpu=1 (ReplicaSet/quota-5d8f9c, last 2026-11-25T09:30:00); a ResourceQuota refuses the pods: kubectl describe resourcequota -n default`}},
	{"workloads.yaml", "default", "webhook", []string{"NoReadyEndpoints/error", "WorkloadPodsRefused/error"},
		map[string]string{"WorkloadPodsRefused": `statefulset/db wants 1 pod but its pods are refused: create Pod db-0 in StatefulSet db failed error: admission webhook "policy.example.com" denied the request: containers must not run as root (StatefulSet/db, last 2026-11-25T09:31:00); an admission controller refuses the pods; change the pod template as its message asks: kubectl edit statefulset/db -n default`}},
	{"workloads.yaml", "default", "stuck", []string{"NoReadyEndpoints/error", "WorkloadRolloutStuck/error"},
		map[string]string{"WorkloadRolloutStuck": `deployment/stuck wants 1 pod, has no ready one and no pod matching the selector (Progressing=False ProgressDeadlineExceeded: ReplicaSet "stuck-6c9d" has timed out progressing.); kubectl rollout status deployment/stuck -n default`}},
	{"workloads.yaml", "default", "agent", []string{"NoReadyEndpoints/error", "WorkloadScaledToZero/error"},
		map[string]string{"WorkloadScaledToZero": "daemonset/agent's template matches the selector, but it should run on no node"}},
	{"workloads.yaml", "default", "fresh", []string{"NoReadyEndpoints/error", "WorkloadRolloutStuck/error"},
		map[string]string{"WorkloadRolloutStuck": "daemonset/fresh's template matches the selector, but its controller has not acted on its current spec yet"}},
	{"workloads.yaml", "default", "typo", []string{"NoPodsMatchSelector/error", "NoReadyEndpoints/error"},
		map[string]string{"NoPodsMatchSelector": "no pod in namespace default matches selector app=nothing, and no Deployment, StatefulSet, DaemonSet or ReplicaSet template there matches it either"}},
	{"proxy-name.yaml", "default", "mesh", []string{"KubeProxySkips/info"},
		map[string]string{"KubeProxySkips": `labelled service.kubernetes.io/service-proxy-name=cilium: kube-proxy skips it and the proxy "cilium" handles it`}},
	{"proxy-name.yaml", "default", "served", []string{"ServeOwnsService/info"},
		map[string]string{"ServeOwnsService": "kubectl-svctrace --serve owns it beside kube-proxy"}},
	{"proxy-name.yaml", "default", "odd", []string{"KubeProxySkips/warning", "NoServingPath/error"},
		map[string]string{"KubeProxySkips": "EndpointSlice odd-abc12 is labelled service.kubernetes.io/headless although the Service has a cluster IP: kube-proxy ignores it"}},
	{"selectorless.yaml", "default", "external-db", []string{"NoSelector/info"}, nil},
	{"selectorless.yaml", "default", "orphan", []string{"NoSelector/error"}, nil},
	{"endpoints-mismatch.yaml", "default", "web", []string{"EndpointsNotMatchingPods/warning"},
		map[string]string{"EndpointsNotMatchingPods": "10.244.1.99 (no selected pod has this IP); ready pods missing from the EndpointSlices: web-2 (10.244.1.12)"}},
	{"node-missing.yaml", "default", "web", []string{"EndpointSliceUpdateFailed/error", "NodeNotFound/error"},
		map[string]string{"EndpointSliceUpdateFailed": `FailedToUpdateEndpointSlices (x3, last 2026-11-25T09:00:00): Error updating Endpoint Slices for Service default/web: node "node-9" not found`}},
	{"node-missing.yaml", "default", "recovered", []string{"EndpointSliceUpdateFailed/warning"},
		map[string]string{"EndpointSliceUpdateFailed": "every ready pod is published now"}},
	{"terminating.yaml", "default", "web", []string{"TerminatingEndpoints/info"},
		map[string]string{"TerminatingEndpoints": "10.244.1.11 (web-old)"}},
	{"terminating-only.yaml", "default", "web", []string{"TerminatingEndpoints/warning"},
		map[string]string{"TerminatingEndpoints": "only terminating endpoints remain: 10.244.1.11 (web-old)"}},
	// The Normal EnsuringLoadBalancer event next to it is no finding.
	{"local-policy.yaml", "default", "lb", []string{"NoLocalEndpoints/warning", "PodsNotReady/warning", "ServiceWarningEvent/warning"},
		map[string]string{"NoLocalEndpoints": "traffic entering node node-2 finds no ready local endpoint (node-2 hosts selected pods, none of them ready); only node-1 has one: clients outside the cluster see a timeout in iptables and nftables mode",
			"ServiceWarningEvent": `SyncLoadBalancerFailed (x12, last 2026-11-25T09:40:00, from service-controller): Error syncing load balancer: failed to ensure load balancer: quota exceeded for resource "forwarding-rules"`}},
	{"kinds.yaml", "default", "search", []string{"ExternalNameService/info"}, nil},
	// The not-ready peer is published on purpose: only its readiness is news.
	{"publish-not-ready.yaml", "default", "peers", []string{"HeadlessService/info", "PodsNotReady/warning"}, nil},
	{"kinds.yaml", "default", "db", []string{"HeadlessService/info"}, nil},
	{"kinds.yaml", "default", "sticky", []string{"NoReadyEndpoints/warning", "PodsNotReady/warning", "SessionAffinityEnabled/info"},
		map[string]string{"SessionAffinityEnabled": "for 600s"}},
	{"kinds.yaml", "default", "internal", []string{"NoLocalEndpoints/warning", "PodsNotReady/warning", "ServiceWarningEvent/info"},
		map[string]string{"NoLocalEndpoints": "internalTrafficPolicy: Local", "ServiceWarningEvent": "ClusterIPNotAllocated (x1, last 2026-11-25T09:00:00, from ipallocator-repair-controller)"}},
}

// netpolCases trace the NetworkPolicy bundle, some from a client pod.
var netpolCases = []struct {
	bundle, ns, svc string
	want            []string
	contains        map[string]string
	from            string // --from pod, "namespace/name"
}{
	{bundle: "netpol.yaml", ns: "shop", svc: "web", want: []string{"NetworkPolicyRestricts/info"},
		contains: map[string]string{"NetworkPolicyRestricts": "NetworkPolicies shop/allow-frontend and shop/deny-all select pod web-0 for ingress and admit only pods labelled app=frontend in namespace shop on TCP 8080; enforcement depends on the network plugin"}},
	{bundle: "netpol.yaml", ns: "shop", svc: "closed", want: []string{"NetworkPolicyRestricts/warning"},
		contains: map[string]string{"NetworkPolicyRestricts": "NetworkPolicy shop/deny-all selects pod closed-0 for ingress and admits no client on TCP 8080"}},
	{bundle: "netpol.yaml", ns: "shop", svc: "web", from: "shop/frontend-0", want: []string{"NetworkPolicyRestricts/info"},
		contains: map[string]string{"NetworkPolicyRestricts": "pod shop/frontend-0 may connect to every endpoint (web-0 (10.244.1.10:8080/TCP)): admitted by shop/allow-frontend ingress[0]"}},
	{bundle: "netpol.yaml", ns: "shop", svc: "web", from: "shop/batch-0", want: []string{"NetworkPolicyBlocks/error"},
		contains: map[string]string{"NetworkPolicyBlocks": `pod shop/batch-0 may not connect to web-0 (10.244.1.10:8080/TCP): NetworkPolicies shop/allow-frontend and shop/deny-all select it for ingress and no rule admits the client; enforcement depends on the network plugin`}},
	{bundle: "netpol.yaml", ns: "shop", svc: "web", from: "locked/app-0", want: []string{"NetworkPolicyBlocks/error", "NetworkPolicyBlocks/error", "NetworkPolicyBlocksDNS/error"},
		contains: map[string]string{"NetworkPolicyBlocksDNS": "NetworkPolicy locked/deny-egress selects pod locked/app-0 for egress and lets no DNS query reach the kube-dns pods (coredns-0 (10.244.0.5:53/UDP) and coredns-0 (10.244.0.5:53/TCP)); NetworkPolicy kube-system/dns-ingress selects the kube-dns pods for ingress and admits no DNS query from pod locked/app-0"}},
	{bundle: "netpol.yaml", ns: "shop", svc: "web", from: "guest/guest-0", want: []string{"NetworkPolicyBlocks/error", "NetworkPolicyBlocksDNS/error"},
		contains: map[string]string{"NetworkPolicyBlocksDNS": "NetworkPolicy kube-system/dns-ingress selects the kube-dns pods for ingress and admits no DNS query from pod guest/guest-0 (coredns-0 (10.244.0.5:53/UDP) and coredns-0 (10.244.0.5:53/TCP)), so the Service's name does not resolve from it"}},
	{bundle: "netpol.yaml", ns: "shop", svc: "web", from: "shop/hostnet-0", want: []string{"NetworkPolicyBlocks/error"},
		contains: map[string]string{"NetworkPolicyBlocks": `"from": [ { "ipBlock": { "cidr": "172.18.0.3/32" } } ]`}},
	{bundle: "netpol.yaml", ns: "shop", svc: "web", from: "shop/hostnet-1", want: []string{"NetworkPolicyRestricts/info"},
		contains: map[string]string{"NetworkPolicyRestricts": "pod shop/hostnet-1 may connect to every endpoint (web-0 (10.244.1.10:8080/TCP)): traffic from a pod's own node is always allowed"}},
	{bundle: "netpol.yaml", ns: "shop", svc: "api", from: "ghost/probe-0", want: []string{"NetworkPolicyUndecided/warning"},
		contains: map[string]string{"NetworkPolicyUndecided": "depends on rules shop/api-from-team ingress[0], whose namespaceSelector needs namespace labels that could not be read"}},
}

// allScenarioCases are scenarioCases and netpolCases alike.
func allScenarioCases() []struct {
	bundle, ns, svc string
	want            []string
	contains        map[string]string
	from            string
} {
	out := slices.Clone(netpolCases)
	for _, tc := range scenarioCases {
		out = append(out, struct {
			bundle, ns, svc string
			want            []string
			contains        map[string]string
			from            string
		}{tc.bundle, tc.ns, tc.svc, tc.want, tc.contains, ""})
	}
	return out
}

func TestScenarioFindings(t *testing.T) {
	for _, tc := range allScenarioCases() {
		t.Run(strings.TrimSuffix(tc.bundle, ".yaml")+"/"+tc.svc+"/"+tc.from, func(t *testing.T) {
			tr := scenario.TraceFrom(t, tc.bundle, tc.ns, tc.svc, tc.from)
			var got []string
			for _, f := range tr.Findings {
				got = append(got, f.ID+"/"+string(f.Severity))
				if f.Hint == "" {
					t.Errorf("%s has no hint", f.ID)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for id, text := range tc.contains {
				if !anyContains(tr.Findings, id, text) {
					t.Errorf("no %s finding says %q; findings: %+v", id, text, tr.Findings)
				}
			}
		})
	}
}

func anyContains(fs []trace.Finding, id, text string) bool {
	for _, f := range fs {
		if f.ID == id && strings.Contains(f.Message+"; "+f.Hint, text) {
			return true
		}
	}
	return false
}

// TestCatalogCoverage makes sure every trace-hop finding in the catalog is
// produced by at least one scenario, and none on the healthy one.
func TestCatalogCoverage(t *testing.T) {
	produced := map[string]bool{}
	for _, tc := range allScenarioCases() {
		for _, w := range tc.want {
			produced[strings.Split(w, "/")[0]] = true
		}
	}
	produced[trace.AccessDenied] = true // covered by source's Forbidden test
	for _, e := range trace.Catalog() {
		if e.Area == "dns" || e.Area == "dataplane" || e.Area == "node" || e.Area == "probe" {
			continue // produced by their own packages' tests
		}
		if !produced[e.ID] {
			t.Errorf("no scenario produces %s", e.ID)
		}
	}
}

// Endpoints whose pod declares other ports than the numeric targetPort are
// marked not serving, unless the pod's passing readiness probe checks it.
func TestUndeclaredTargetPortMarksEndpoints(t *testing.T) {
	var marks []string
	for _, e := range scenario.Trace(t, "ports.yaml", "default", "numeric").Ports[0].Endpoints {
		marks = append(marks, e.Address+": "+e.NotServing)
	}
	want := []string{"10.244.1.10: pod web-0 declares 8080/TCP, not 9000/TCP", "10.244.1.11: pod web-1 declares 8080/TCP, not 9000/TCP"}
	if diff := cmp.Diff(want, marks); diff != "" {
		t.Errorf("numeric: endpoints marked (-want +got):\n%s", diff)
	}
	for _, e := range scenario.Trace(t, "ports.yaml", "default", "probed").Ports[0].Endpoints {
		if e.NotServing != "" {
			t.Errorf("probed: %s marked not serving (%s) though its readiness probe passes on the port", e.Address, e.NotServing)
		}
	}
}

func TestPerPodNamedPortResolution(t *testing.T) {
	tr := scenario.Trace(t, "ports.yaml", "default", "perpod")
	want := map[string]int32{"pp-0": 8080, "pp-1": 9090}
	if diff := cmp.Diff(want, tr.Ports[0].Resolved); diff != "" {
		t.Errorf("resolved target ports (-want +got):\n%s", diff)
	}
}

// TestEmittedIDsAreCatalogued: every finding any scenario produces has its
// ID in the catalog, so docs/findings.md documents it.
func TestEmittedIDsAreCatalogued(t *testing.T) {
	known := map[string]bool{}
	for _, e := range trace.Catalog() {
		known[e.ID] = true
	}
	for _, tc := range allScenarioCases() {
		for _, f := range scenario.TraceFrom(t, tc.bundle, tc.ns, tc.svc, tc.from).Findings {
			if !known[f.ID] {
				t.Errorf("%s/%s: finding %s is not in the catalog", tc.bundle, tc.svc, f.ID)
			}
		}
	}
}
