package harness_test

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/svctrace/kubectl-svctrace/harness"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// TestCluster brings a cluster up in each kube-proxy mode, runs the
// "hostnames" example of the Debug Services guide through it, and checks
// that teardown leaves nothing behind.
func TestCluster(t *testing.T) {
	harness.RequireE2E(t)
	for _, tc := range []struct {
		mode      string
		rulesCmd  []string
		wantChain string // in the rule dump for default/hostnames (port without name, tcp)
		// programmed reports whether the dump balances wantChain over n endpoints.
		programmed func(dump string, n int) bool
	}{
		{
			mode:      "iptables",
			rulesCmd:  []string{"iptables-save"},
			wantChain: "KUBE-SVC-" + hash("default/hostnamestcp")[:16],
			programmed: func(dump string, n int) bool {
				return strings.Count(dump, "-A KUBE-SVC-"+hash("default/hostnamestcp")[:16]+" ") == n+1
			},
		},
		{
			mode:      "nftables",
			rulesCmd:  []string{"nft", "list", "table", "ip", "kube-proxy"},
			wantChain: "service-" + hash("default/hostnames/tcp/")[:8] + "-default/hostnames/tcp/",
			programmed: func(dump string, n int) bool {
				return strings.Contains(dump, "service-"+hash("default/hostnames/tcp/")[:8]+"-default/hostnames/tcp/") &&
					strings.Contains(dump, fmt.Sprintf("numgen random mod %d map", n))
			},
		},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			start := time.Now()
			c := harness.StartT(t, harness.Config{ProxyMode: tc.mode})
			t.Logf("cluster up in %s", time.Since(start).Round(time.Millisecond))

			checkVersionAndRBAC(ctx, t, c)
			checkPrivilegedAdmitted(ctx, t, c)
			clusterIP := createHostnames(ctx, t, c.Client)
			waitReadyEndpoints(ctx, t, c.Client, 3)

			// kube-proxy syncs at most once a second: give it time.
			var rules []byte
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
				var err error
				rules, err = c.Node.Exec(ctx, tc.rulesCmd[0], tc.rulesCmd[1:]...)
				return err == nil && tc.programmed(string(rules), 3), nil
			})
			if err != nil {
				rules, _ = c.Node.Exec(ctx, tc.rulesCmd[0], tc.rulesCmd[1:]...)
				t.Errorf("%s in node %s lacks %s with 3 endpoints:\n%s", strings.Join(tc.rulesCmd, " "), c.Node.NetNS, tc.wantChain, rules)
			}

			ips, err := harness.LookupA(ctx, c.DNSAddr, "hostnames.default.svc.cluster.local")
			if err != nil || len(ips) != 1 || ips[0].String() != clusterIP {
				t.Errorf("CoreDNS hostnames.default.svc.cluster.local = %v, %v; want [%s]", ips, err, clusterIP)
			}

			seen := getNames(ctx, t, c.Node.HTTPClient(2*time.Second), "http://"+clusterIP+":80/", 30)
			if len(seen) < 2 {
				t.Errorf("30 requests to %s:80 reached only %v; want at least 2 of 3 pods", clusterIP, seen)
			}

			checkFromPod(ctx, t, c, clusterIP)

			// Readiness comes from real probes: a failing pod leaves the slice.
			if err := c.SetPodHealthy("default", "hostnames-0", false); err != nil {
				t.Fatal(err)
			}
			waitReadyEndpoints(ctx, t, c.Client, 2)
			if err := c.SetPodHealthy("default", "hostnames-0", true); err != nil {
				t.Fatal(err)
			}
			waitReadyEndpoints(ctx, t, c.Client, 3)

			// Deletion completes without a kubelet, after the pod spent its
			// terminate delay as a terminating endpoint.
			if err := c.Client.CoreV1().Pods("default").Delete(ctx, "hostnames-2", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			waitTerminatingEndpoint(ctx, t, c.Client)
			waitPodGone(ctx, t, c.Client, "hostnames-2")
			waitReadyEndpoints(ctx, t, c.Client, 2)

			netns := c.Node.NetNS
			stopStart := time.Now()
			if err := c.Stop(ctx); err != nil {
				t.Fatalf("stop: %v", err)
			}
			t.Logf("cluster stopped in %s", time.Since(stopStart).Round(time.Millisecond))
			out, err := exec.Command("ip", "netns", "list").CombinedOutput()
			if err != nil || strings.Contains(string(out), netns) {
				t.Errorf("after Stop, ip netns list = %q, %v; want no %s*", out, err, netns)
			}
		})
	}
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])
}

func checkVersionAndRBAC(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	v, err := c.Client.Discovery().ServerVersion()
	if err != nil || v.GitVersion != harness.KubeVersion {
		t.Errorf("server version = %v, %v; want %s", v, err, harness.KubeVersion)
	}
	viewer := *c.Admin
	viewer.BearerToken = c.ViewerToken
	vc, err := kubernetes.NewForConfig(&viewer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vc.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("viewer listing pods: err = %v; want Forbidden", err)
	}
	// With the project's read-only role the viewer reads but cannot write.
	role, err := c.CreateClusterRole(ctx, "../deploy/clusterrole.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Grant(ctx, harness.ViewerUser, role); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := vc.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Errorf("viewer with %s cannot list pods: %v", role, err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "intruder"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
	if _, err := vc.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("viewer with %s creating a pod: err = %v; want Forbidden", role, err)
	}
}

// createHostnames creates the Service and three pods of the Debug Services
// guide and returns the ClusterIP.
func createHostnames(ctx context.Context, t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	labels := map[string]string{"app": "hostnames"}
	svc, err := client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnames"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{
			{Port: 80, TargetPort: intstr.FromInt32(9376), Protocol: corev1.ProtocolTCP},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	for _, name := range []string{"hostnames-0", "hostnames-1", "hostnames-2"} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{
				harness.AnnotationTerminateDelay: "2s",
			}},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{
				Name:  "hostnames",
				Image: "registry.k8s.io/serve_hostname",
				Ports: []corev1.ContainerPort{{ContainerPort: 9376, Protocol: corev1.ProtocolTCP}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
						Path: "/healthz", Port: intstr.FromInt32(9376),
					}},
					PeriodSeconds:    1,
					FailureThreshold: 1,
				},
			}}},
		}
		if _, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", name, err)
		}
	}
	return svc.Spec.ClusterIP
}

func waitReadyEndpoints(ctx context.Context, t *testing.T, client kubernetes.Interface, want int) {
	t.Helper()
	var got int
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		slices, err := client.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=hostnames",
		})
		if err != nil {
			return false, nil
		}
		got = 0
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					got++
				}
			}
		}
		return got == want, nil
	})
	if err != nil {
		t.Fatalf("EndpointSlices of default/hostnames: %d ready endpoints, want %d: %v", got, want, err)
	}
}

// checkFromPod resolves the Service through the kube-dns ClusterIP and
// connects to it from inside a pod of its own, reaching itself as well.
func checkFromPod(ctx context.Context, t *testing.T, c *harness.Cluster, clusterIP string) {
	t.Helper()
	podNS, err := c.PodNetNS("default", "hostnames-0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := harness.DialInNetNS(ctx, podNS, "udp", harness.DNSServiceIP+":53")
	if err != nil {
		t.Fatalf("dial kube-dns from pod: %v", err)
	}
	defer conn.Close()
	q := new(dns.Msg)
	q.SetQuestion("hostnames.default.svc.cluster.local.", dns.TypeA)
	dc := &dns.Conn{Conn: conn}
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if err := dc.WriteMsg(q); err != nil {
		t.Fatalf("query kube-dns from pod: %v", err)
	}
	resp, err := dc.ReadMsg()
	var a *dns.A
	if err == nil && len(resp.Answer) == 1 {
		a, _ = resp.Answer[0].(*dns.A)
	}
	if a == nil || a.A.String() != clusterIP {
		t.Errorf("kube-dns from pod hostnames-0 answered %v, %v; want %s", resp, err, clusterIP)
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return harness.DialInNetNS(ctx, podNS, network, addr)
		},
	}}
	// One in three connections goes back to hostnames-0 itself: after 30,
	// missing hairpin traffic fails this with odds of (2/3)^30 that it
	// would have passed by chance.
	seen := getNames(ctx, t, hc, "http://"+clusterIP+":80/", 30)
	if seen["hostnames-0"] == 0 {
		t.Errorf("hostnames-0 never reached itself through its Service: %v", seen)
	}
}

func waitTerminatingEndpoint(ctx context.Context, t *testing.T, client kubernetes.Interface) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		slices, err := client.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=hostnames",
		})
		if err != nil {
			return false, nil
		}
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				c := ep.Conditions
				if ep.TargetRef != nil && ep.TargetRef.Name == "hostnames-2" &&
					c.Terminating != nil && *c.Terminating && c.Ready != nil && !*c.Ready {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no terminating endpoint for hostnames-2: %v", err)
	}
}

func waitPodGone(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("pod %s still exists after deletion: %v", name, err)
	}
}

// getNames sends n requests to url and returns how often each pod answered.
func getNames(ctx context.Context, t *testing.T, hc *http.Client, url string, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s from the node: %v", url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		name := string(body)
		if !strings.HasPrefix(name, "hostnames-") {
			t.Fatalf("GET %s answered %q; want a pod name", url, name)
		}
		seen[name]++
	}
	return seen
}
