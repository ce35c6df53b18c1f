//go:build linux

package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/harness"
)

// TestServeSurvivesAPIServerRestart runs scoped `--serve` in the node's
// network namespace against the cluster, stops kube-apiserver for several
// sync periods and starts it again: while it is down --serve keeps
// answering /healthz and its rules stay exactly as they were (no flush);
// changes made after it returns (a new endpoint, a new Service) are
// programmed, and the trace finds no drift on the node.
func TestServeSurvivesAPIServerRestart(t *testing.T) {
	s, c := require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t, c.Client, "e2e-serve-restart")
	createServed(ctx, t, c.Client, ns, "kept", "10.244.9.1")
	startServe(ctx, t, s, c, c.Kubeconfig, "--cluster-cidr", harness.ClusterCIDR, "--sync-period", "2s", "--min-sync-period", "0")

	programmed := func(svc, endpoint string) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			return strings.Contains(servedRules(ctx, t, c), `"`+ns+"/"+svc+":http -> "+endpoint+`:8080"`), nil
		}
	}
	poll(ctx, t, 60*time.Second, "--serve programming "+ns+"/kept", programmed("kept", "10.244.9.1"))
	before := servedRules(ctx, t, c)

	if err := c.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	up := false
	t.Cleanup(func() {
		if !up { // the other tests share the cluster
			if err := c.StartAPIServer(context.Background()); err != nil {
				t.Errorf("restart kube-apiserver: %v", err)
			}
		}
	})
	healthz := c.Node.HTTPClient(2 * time.Second)
	for i := 0; i < 4; i++ { // four sync periods, full syncs among them
		time.Sleep(2500 * time.Millisecond)
		if code, body := fetch(ctx, healthz, "http://127.0.0.1:10264/healthz", ""); code != http.StatusOK {
			t.Errorf("--serve's /healthz with the API server down: %d %s", code, body)
		}
		if now := servedRules(ctx, t, c); now != before {
			t.Fatalf("--serve's rules changed while the API server was down:\nbefore:\n%s\nnow:\n%s", before, now)
		}
	}
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	up = true

	slice, err := c.Client.DiscoveryV1().EndpointSlices(ns).Get(ctx, "kept-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slice.Endpoints = append(slice.Endpoints, readyEndpoint("10.244.9.2"))
	if _, err := c.Client.DiscoveryV1().EndpointSlices(ns).Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	createServed(ctx, t, c.Client, ns, "added", "10.244.9.3")
	poll(ctx, t, 90*time.Second, "--serve programming the new endpoint of kept after the restart", programmed("kept", "10.244.9.2"))
	poll(ctx, t, 90*time.Second, "--serve programming Service added after the restart", programmed("added", "10.244.9.3"))

	dump := filepath.Join(t.TempDir(), "node.iptables-save")
	saved, err := c.Node.Exec(ctx, "iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dump, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"kept", "added"} {
		res := s.svctrace(ctx, t, c.Kubeconfig, svc, "-n", ns, "--iptables-save", dump, "--node", c.Node.Name)
		if strings.Contains(res.stdout, `"subject": "iptables/`) || !strings.Contains(res.stdout, "SVCT-SVC-") {
			t.Errorf("trace of %s after the restart: want walks through SVCT- chains and no drift:\n%s\n%s", svc, res.stdout, res.stderr)
		}
	}
}

// servedRules are the lines of the node's nat and filter tables in
// --serve's SVCT- chains or jumping to one, counters aside.
func servedRules(ctx context.Context, t *testing.T, c *harness.Cluster) string {
	t.Helper()
	var out []string
	for _, table := range []string{"nat", "filter"} {
		save, err := c.Node.Exec(ctx, "iptables-save", "-t", table)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(save), "\n") {
			if strings.Contains(l, expected.ServePrefix) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// createServed creates Service name labelled for scoped --serve, and its
// EndpointSlice (labelled too, as the EndpointSlice controller copies the
// label) with one ready endpoint.
func createServed(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name, endpoint string) {
	t.Helper()
	own := map[string]string{"service.kubernetes.io/service-proxy-name": "svctrace"}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: own},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service %s/%s: %v", ns, name, err)
	}
	port, portName, proto := int32(8080), "http", corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: ns,
			Labels: map[string]string{discoveryv1.LabelServiceName: name, "service.kubernetes.io/service-proxy-name": "svctrace"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
		Endpoints:   []discoveryv1.Endpoint{readyEndpoint(endpoint)},
	}
	if _, err := client.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create endpointslice %s/%s-1: %v", ns, name, err)
	}
}

func readyEndpoint(ip string) discoveryv1.Endpoint {
	ready := true
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}
}
