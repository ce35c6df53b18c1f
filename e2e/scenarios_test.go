package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/harness"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// env is one scenario's share of the cluster: its own namespace.
type env struct {
	s  *suite
	c  *harness.Cluster
	ns string
	// other is a second namespace, when the scenario needs one.
	other string
}

// scenario makes a broken (or healthy) Service, traces it with kubectl
// svctrace and checks what the trace says.
type scenario struct {
	name string
	// setup creates the objects in e.ns, waits for the cluster to act on
	// them, and returns the arguments after `kubectl svctrace`.
	setup func(ctx context.Context, t *testing.T, e *env) []string
	want  expect
	// check looks further into the trace, against the live cluster.
	check func(ctx context.Context, t *testing.T, e *env, r result)
}

func TestScenarios(t *testing.T) {
	for _, sc := range append([]scenario{
		{
			name:  "healthy",
			setup: setupHealthy,
			want:  expect{exit: 0},
			check: checkHealthy,
		},
		{
			name: "healthy with node rules",
			setup: func(ctx context.Context, t *testing.T, e *env) []string {
				return withNodeRules(ctx, t, e, "hostnames", setupHealthy(ctx, t, e))
			},
			want:  expect{exit: 0},
			check: checkNodeRules,
		},
		{
			name:  "selector typo",
			setup: setupSelectorTypo,
			want: expect{exit: 3, also: []string{"NoReadyEndpoints"}, findings: []wantFinding{{
				id: "NoPodsMatchSelector", severity: "error", subject: "service/hostnames",
				contains: []string{"app=hostname", "hostnames-0", "has app=hostnames"},
			}}},
		},
		{
			name: "readiness probe answers 503",
			setup: func(ctx context.Context, t *testing.T, e *env) []string {
				return setupOneNotReady(ctx, t, e, func(p *podSpec) { p.unhealthy = true })
			},
			want: expect{exit: 0, findings: []wantFinding{{
				id: "PodsNotReady", severity: "warning", subject: "pod/hostnames-2", contains: []string{"hostnames-2"},
			}}},
			check: checkTwoReady,
		},
		{
			name: "readiness probe refused",
			setup: func(ctx context.Context, t *testing.T, e *env) []string {
				return setupOneNotReady(ctx, t, e, func(p *podSpec) { p.deaf = true })
			},
			want: expect{exit: 0, findings: []wantFinding{{
				id: "PodsNotReady", severity: "warning", subject: "pod/hostnames-2", contains: []string{"hostnames-2"},
			}}},
			check: checkTwoReady,
		},
		{
			name:  "NetworkPolicy denies the client",
			setup: setupPolicyDeniesClient,
			want: expect{exit: 3, findings: []wantFinding{{
				id: "NetworkPolicyBlocks", severity: "error",
				contains: []string{"/client may not connect to hostnames-0", "only-frontend", "enforcement depends on the network plugin", `"podSelector": { "matchLabels": { "app": "client" } }`},
			}}},
			check: checkPolicyVerdicts,
		},
		{
			name:  "named targetPort missing",
			setup: setupNamedPortMissing,
			want: expect{exit: 3, also: []string{"NoReadyEndpoints"}, findings: []wantFinding{{
				id: "NamedPortNotFound", severity: "error", contains: []string{`"http"`},
			}}},
		},
		{
			name:  "pod on a missing node",
			setup: setupGhostNode,
			want: expect{exit: 3, also: []string{"NoReadyEndpoints", "EndpointsNotMatchingPods"}, findings: []wantFinding{
				{
					id: "EndpointSliceUpdateFailed", severity: "error", subject: "service/hostnames",
					contains: []string{"FailedToUpdateEndpointSlices", "Node " + ghostNode + " Not Found"},
				},
				{id: "NodeNotFound", severity: "error", subject: "node/" + ghostNode},
			}},
		},
		{
			name:  "only a terminating endpoint left",
			setup: setupOnlyTerminating,
			want: expect{exit: 0, also: []string{"NoReadyEndpoints"}, findings: []wantFinding{
				{id: "TerminatingEndpoints", subject: "service/hostnames", contains: []string{"hostnames-0"}},
			}},
			check: checkOnlyTerminating,
		},
		{
			name:  "headless with pod hostnames",
			setup: setupHeadless,
			want: expect{exit: 0, findings: []wantFinding{
				{id: "HeadlessService", severity: "info", subject: "service/web"},
			}},
			check: func(ctx context.Context, t *testing.T, e *env, r result) {
				names := []string{fqdn("web", e.ns)}
				for _, p := range headlessPods {
					names = append(names, p+"."+fqdn("web", e.ns))
				}
				checkDNSLive(t, r, names...)
			},
		},
		{
			name:  "ExternalName to a cluster Service",
			setup: setupExternalName,
			want: expect{exit: 0, findings: []wantFinding{
				{id: "ExternalNameService", severity: "info", subject: "service/alias"},
			}},
			check: checkExternalName,
		},
		{
			name: "Service not found",
			setup: func(ctx context.Context, t *testing.T, e *env) []string {
				create(ctx, t, e.c.Client, e.ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)))
				return []string{"hostname", "-n", e.ns}
			},
			want: expect{exit: 3, findings: []wantFinding{{
				id: "ServiceNotFound", severity: "error", contains: []string{"hostname", `hostnames`},
			}}},
		},
		{
			name: "Service only in another namespace",
			setup: func(ctx context.Context, t *testing.T, e *env) []string {
				e.other = newNamespace(ctx, t, e.c.Client, "e2e-other")
				create(ctx, t, e.c.Client, e.other, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)))
				return []string{"hostnames", "-n", e.ns}
			},
			want: expect{exit: 3, findings: []wantFinding{{id: "ServiceNotFound", severity: "error"}}},
			check: func(ctx context.Context, t *testing.T, e *env, r result) {
				if !slices.ContainsFunc(r.doc.Findings, func(f finding) bool {
					return f.ID == "ServiceNotFound" && strings.Contains(f.Message+f.Hint, e.other)
				}) {
					t.Errorf("ServiceNotFound does not point to namespace %s, where hostnames exists\n%s", e.other, r)
				}
			},
		},
	}, diagnosisScenarios()...) {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			s, c := require(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			e := &env{s: s, c: c, ns: newNamespace(ctx, t, c.Client, "e2e")}
			args := sc.setup(ctx, t, e)
			r := s.svctrace(ctx, t, c.Kubeconfig, args...)
			t.Logf("%s", r)
			checkResult(t, r, sc.want)
			if sc.check != nil && r.doc != nil {
				sc.check(ctx, t, e, r)
			}
		})
	}
}
