package e2e

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/harness"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	for _, sc := range []scenario{
		{
			name:  "healthy",
			setup: setupHealthy,
			want:  expect{exit: 0},
			check: checkHealthy,
		},
		{
			name: "healthy with node rules",
			setup: func(ctx context.Context, t *testing.T, e *env) []string {
				args := setupHealthy(ctx, t, e)
				return append(args, "--iptables-save", dumpRules(ctx, t, e, "hostnames"), "--node", "node-1")
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
	} {
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

// setupHealthy is the Debug Services guide's hostnames: three ready pods,
// programmed by kube-proxy and known to CoreDNS.
func setupHealthy(ctx context.Context, t *testing.T, e *env) []string {
	svc := create(ctx, t, e.c.Client, e.ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		threePods(nil)...)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 3, 3)
	waitDNS(ctx, t, e.c, fqdn("hostnames", e.ns), svc.Spec.ClusterIP)
	return []string{"hostnames", "-n", e.ns, "--dns-server", e.c.DNSAddr}
}

// checkHealthy checks the live DNS answer and that connections to the
// ClusterIP from the node reach only backends the trace lists.
func checkHealthy(ctx context.Context, t *testing.T, e *env, r result) {
	checkDNSLive(t, r, fqdn("hostnames", e.ns))
	eps := endpointsOf(t, r)
	var pods []string
	for _, ep := range eps {
		if ep.Ready && ep.Port == servePort {
			pods = append(pods, ep.Pod)
		}
	}
	if len(pods) != 3 {
		t.Fatalf("trace lists ready endpoints of pods %v on port %d, want 3\n%s", pods, servePort, r)
	}
	svc, err := e.c.Client.CoreV1().Services(e.ns).Get(ctx, "hostnames", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + svc.Spec.ClusterIP + ":80/"
	hc := e.c.Node.HTTPClient(2 * time.Second)
	var name string
	// kube-proxy syncs at most once a second after the slice changed.
	poll(ctx, t, 30*time.Second, "a backend answering "+url+" from node "+e.c.Node.NetNS, func(ctx context.Context) (bool, error) {
		name = get(ctx, hc, url)
		return name != "", nil
	})
	for range 10 {
		if !slices.Contains(pods, name) {
			t.Errorf("GET %s from the node reached %q, which is not among the trace's endpoints %v", url, name, pods)
		}
		name = get(ctx, hc, url)
	}
}

// get returns the body of url, the name of the pod that answered, or "".
func get(ctx context.Context, hc *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// dumpRules waits until kube-proxy DNATs to every ready endpoint of the
// Service, then saves the node's iptables-save output to a file.
func dumpRules(ctx context.Context, t *testing.T, e *env, service string) string {
	t.Helper()
	eps := waitEndpoints(ctx, t, e.c.Client, e.ns, service, 3, 3)
	var dump []byte
	poll(ctx, t, 30*time.Second, "kube-proxy rules for "+e.ns+"/"+service, func(ctx context.Context) (bool, error) {
		var err error
		if dump, err = e.c.Node.Exec(ctx, "iptables-save"); err != nil {
			return false, nil
		}
		for _, ep := range eps {
			if !strings.Contains(string(dump), "--to-destination "+ep.Addresses[0]+":9376") {
				return false, nil
			}
		}
		return true, nil
	})
	path := filepath.Join(t.TempDir(), "iptables-save.txt")
	if err := os.WriteFile(path, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkNodeRules checks that the trace walked the node's real rules: a
// packet to the ClusterIP is DNATed to each ready endpoint the trace lists,
// a third of the time each.
func checkNodeRules(ctx context.Context, t *testing.T, e *env, r result) {
	var want []string
	for _, ep := range endpointsOf(t, r) {
		if ep.Ready {
			want = append(want, net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port))))
		}
	}
	var walks []walk
	for _, dp := range r.doc.Dataplane {
		if dp.Node != "node-1" || dp.Mode != "iptables" {
			t.Errorf("dataplane hop of node %q mode %q, want node-1 iptables", dp.Node, dp.Mode)
		}
		walks = append(walks, dp.Walks...)
	}
	if len(walks) == 0 {
		t.Fatalf("trace walked no packet through the iptables dump\n%s", r)
	}
	for _, w := range walks {
		var got []string
		for _, o := range w.Outcomes {
			if o.Verdict != "DNAT" || math.Abs(o.Probability-1.0/3) > 0.01 {
				t.Errorf("packet to %s:%d: outcome %s %s with probability %.3f, want DNAT with 1/3",
					w.Packet.Destination, w.Packet.Port, o.Verdict, o.Target, o.Probability)
			}
			got = append(got, o.Target)
		}
		if !sameSet(got, want) {
			t.Errorf("packet to %s:%d is DNATed to %v, want the ready endpoints %v", w.Packet.Destination, w.Packet.Port, got, want)
		}
	}
}

func setupSelectorTypo(ctx context.Context, t *testing.T, e *env) []string {
	create(ctx, t, e.c.Client, e.ns,
		hostnamesService("hostnames", map[string]string{"app": "hostname"}, intstr.FromInt32(servePort)),
		threePods(nil)...)
	waitPodsReady(ctx, t, e, 3)
	return []string{"hostnames", "-n", e.ns}
}

// setupOneNotReady makes hostnames-2 fail its readiness probe.
func setupOneNotReady(ctx context.Context, t *testing.T, e *env, breakPod func(*podSpec)) []string {
	create(ctx, t, e.c.Client, e.ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		threePods(func(i int, p *podSpec) {
			if i == 2 {
				breakPod(p)
			}
		})...)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 3, 2)
	return []string{"hostnames", "-n", e.ns}
}

func checkTwoReady(ctx context.Context, t *testing.T, e *env, r result) {
	var ready, notReady []string
	for _, ep := range endpointsOf(t, r) {
		if ep.Ready {
			ready = append(ready, ep.Pod)
		} else {
			notReady = append(notReady, ep.Pod)
		}
	}
	slices.Sort(ready)
	if !slices.Equal(ready, []string{"hostnames-0", "hostnames-1"}) || !slices.Equal(notReady, []string{"hostnames-2"}) {
		t.Errorf("trace endpoints: ready %v, not ready %v; want ready [hostnames-0 hostnames-1], not ready [hostnames-2]\n%s", ready, notReady, r)
	}
}

func setupNamedPortMissing(ctx context.Context, t *testing.T, e *env) []string {
	create(ctx, t, e.c.Client, e.ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromString("http")),
		threePods(func(_ int, p *podSpec) { p.portName = "web" })...)
	waitPodsReady(ctx, t, e, 3)
	return []string{"hostnames", "-n", e.ns}
}
