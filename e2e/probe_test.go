package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestProbe runs --probe's checks inside the cluster for real: from an
// existing pod (an ephemeral container in it), from a short-lived pod, and
// from the node; and shows that --dns from outside asks nothing.
func TestProbe(t *testing.T) {
	s, c := require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t, c.Client, "e2e-probe")
	create(ctx, t, c.Client, ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)), threePods(nil)...)
	// wrong sends to 8080, where the pods do not listen.
	create(ctx, t, c.Client, ns, hostnamesService("wrong", map[string]string{"app": "hostnames"}, intstr.FromInt32(8080)),
		podSpec{name: "client", labels: map[string]string{"app": "client"}})
	waitEndpoints(ctx, t, c.Client, ns, "hostnames", 3, 3)
	waitEndpoints(ctx, t, c.Client, ns, "wrong", 3, 3)
	e := &env{s: s, c: c, ns: ns}
	waitPodsReady(ctx, t, e, 4)
	withNodeRules(ctx, t, e, "hostnames", nil)
	withNodeRules(ctx, t, e, "wrong", nil)
	probe := func(t *testing.T, args ...string) result {
		t.Helper()
		r := s.svctrace(ctx, t, c.Kubeconfig, append(args, "-n", ns, "--probe", "--agent-image", agentImage, "--agent-timeout", "45s")...)
		noAgentLeft(ctx, t, c)
		if r.doc == nil || r.doc.Probe == nil {
			t.Fatalf("no trace with a probe\n%s", r)
		}
		if r.doc.Probe.Error != "" {
			t.Fatalf("probe did not run: %s\n%s", r.doc.Probe.Error, r)
		}
		return r
	}
	outcomes := func(r result) map[string]string {
		m := map[string]string{}
		for _, res := range r.doc.Probe.Results {
			m[res.Target.Kind+" "+res.Target.Addr] = res.Outcome
		}
		return m
	}
	allOK := func(t *testing.T, r result, want int) {
		t.Helper()
		got := outcomes(r)
		if len(got) != want {
			t.Errorf("%d targets probed, want %d (the ClusterIP and 3 endpoints): %v", len(got), want, got)
		}
		for k, o := range got {
			if o != "ok" {
				t.Errorf("%s: %s, want ok\n%s", k, o, r)
			}
		}
	}

	t.Run("from a pod", func(t *testing.T) {
		r := probe(t, "hostnames", "--from", "pod/client")
		checkResult(t, r, expect{exit: 0})
		if r.doc.Probe.From != "pod/"+ns+"/client" {
			t.Errorf("probe ran in %q, want the client pod", r.doc.Probe.From)
		}
		allOK(t, r, 4)
		if r.doc.DNS == nil || r.doc.DNS.From != "pod/"+ns+"/client" || r.doc.DNS.Server != "10.96.0.10:53" {
			t.Fatalf("DNS hop %+v: want it asked from the client pod through its own resolver 10.96.0.10", r.doc.DNS)
		}
		checkDNSLive(t, r, fqdn("hostnames", ns))
	})

	t.Run("from a short-lived pod", func(t *testing.T) {
		r := probe(t, "hostnames")
		checkResult(t, r, expect{exit: 0})
		if !strings.HasPrefix(r.doc.Probe.From, "pod/"+ns+"/svctrace-probe-") {
			t.Errorf("probe ran in %q, want a short-lived pod in %s", r.doc.Probe.From, ns)
		}
		allOK(t, r, 4)
		checkDNSLive(t, r, fqdn("hostnames", ns))
	})

	t.Run("from the node", func(t *testing.T) {
		r := probe(t, "hostnames", "--node", c.Node.Name)
		if r.doc.Probe.From != "node/"+c.Node.Name {
			t.Errorf("probe ran in %q, want node/%s", r.doc.Probe.From, c.Node.Name)
		}
		allOK(t, r, 4)
	})

	t.Run("a targetPort nothing listens on", func(t *testing.T) {
		r := probe(t, "wrong", "--from", "pod/client")
		checkResult(t, r, expect{exit: 3, findings: []wantFinding{
			{id: "ProbeServiceUnreachable", severity: "error", contains: []string{"refused the connection"}},
			{id: "ProbeEndpointFailed", severity: "error", contains: []string{"nothing listens on port 8080"}},
		}, also: []string{"TargetPortNotExposed", "NoServingPath"}})
		for k, o := range outcomes(r) {
			if o != "refused" {
				t.Errorf("%s: %s, want refused (nothing listens on 8080)", k, o)
			}
		}
	})

	t.Run("--dns from outside asks nothing", func(t *testing.T) {
		r := s.svctrace(ctx, t, c.Kubeconfig, "hostnames", "-n", ns, "--dns")
		checkResult(t, r, expect{exit: 0, findings: []wantFinding{{id: "DNSNotAskedFromOutside", severity: "info", contains: []string{"--probe"}}}})
		if r.doc.DNS != nil && r.doc.DNS.Server != "" {
			t.Errorf("DNS was asked of %s from outside the cluster", r.doc.DNS.Server)
		}
	})
}
