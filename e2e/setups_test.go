package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

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

// ghostNode is a node no Node object exists for.
const ghostNode = "node-ghost"

// setupGhostNode binds a running, ready pod to a node that does not exist
// and waits for the EndpointSlice controller's Warning event about it.
func setupGhostNode(ctx context.Context, t *testing.T, e *env) []string {
	client := e.c.Client
	create(ctx, t, client, e.ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)))
	pod := podSpec{name: "hostnames-0", labels: map[string]string{"app": "hostnames"}}.pod()
	pod.Spec.NodeName = ghostNode
	pod, err := client.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod on %s: %v", ghostNode, err)
	}
	// No kubelet runs there; report what one would, so the controller has
	// an address to publish and looks up the pod's node.
	now := metav1.Now()
	pod.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		PodIP:     "10.244.200.7",
		PodIPs:    []corev1.PodIP{{IP: "10.244.200.7"}},
		StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
	}
	if _, err := client.CoreV1().Pods(e.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("report pod %s/%s running on %s: %v", e.ns, pod.Name, ghostNode, err)
	}
	want := "Node " + ghostNode + " Not Found"
	poll(ctx, t, 60*time.Second, "Warning FailedToUpdateEndpointSlices ("+want+") on service "+e.ns+"/hostnames", func(ctx context.Context) (bool, error) {
		events, err := client.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.kind=Service,involvedObject.name=hostnames",
		})
		if err != nil {
			return false, nil
		}
		return slices.ContainsFunc(events.Items, func(ev corev1.Event) bool {
			return ev.Type == corev1.EventTypeWarning && ev.Reason == "FailedToUpdateEndpointSlices" &&
				strings.Contains(ev.Message, want)
		}), nil
	})
	return []string{"hostnames", "-n", e.ns}
}

var headlessPods = []string{"web-0", "web-1", "web-2"}

// setupHeadless makes headless Service web with pods web-0..2 whose
// hostname and subdomain give them records of their own, and waits until
// CoreDNS serves them. Three addresses make the order of the Service's
// A records vary from one answer to the next.
func setupHeadless(ctx context.Context, t *testing.T, e *env) []string {
	svc := hostnamesService("web", map[string]string{"app": "web"}, intstr.FromInt32(servePort))
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	var pods []podSpec
	for _, name := range headlessPods {
		pods = append(pods, podSpec{name: name, labels: map[string]string{"app": "web"}, hostname: name, subdomain: "web"})
	}
	create(ctx, t, e.c.Client, e.ns, svc, pods...)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "web", 3, 3)
	ips := podIPs(ctx, t, e)
	waitDNS(ctx, t, e.c, fqdn("web", e.ns), ips["web-0"], ips["web-1"], ips["web-2"])
	for _, name := range headlessPods {
		waitDNS(ctx, t, e.c, name+"."+fqdn("web", e.ns), ips[name])
	}
	return []string{"web", "-n", e.ns, "--dns-server", e.c.DNSAddr}
}

// setupExternalName makes Service alias a CNAME to the ClusterIP Service
// backend of the same namespace, which CoreDNS resolves without any
// outside network.
func setupExternalName(ctx context.Context, t *testing.T, e *env) []string {
	backend := create(ctx, t, e.c.Client, e.ns,
		hostnamesService("backend", map[string]string{"app": "backend"}, intstr.FromInt32(servePort)))
	create(ctx, t, e.c.Client, e.ns, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "alias"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: fqdn("backend", e.ns)},
	})
	waitDNS(ctx, t, e.c, fqdn("backend", e.ns), backend.Spec.ClusterIP)
	return []string{"alias", "-n", e.ns, "--dns-server", e.c.DNSAddr}
}

// checkExternalName checks that the trace asked for the alias's CNAME and
// got the backend's name.
func checkExternalName(ctx context.Context, t *testing.T, e *env, r result) {
	checkDNSLive(t, r, fqdn("alias", e.ns))
	target := fqdn("backend", e.ns)
	found := slices.ContainsFunc(r.doc.DNS.Checks, func(c dnsCheck) bool {
		return c.Type == "CNAME" && slices.ContainsFunc(c.Answered, func(a string) bool {
			return strings.TrimSuffix(a, ".") == target
		})
	})
	if !found {
		t.Errorf("no DNS check of type CNAME answered with %s: %+v", target, r.doc.DNS.Checks)
	}
}

// waitPodsReady waits until n pods of e.ns report Ready.
func waitPodsReady(ctx context.Context, t *testing.T, e *env, n int) {
	t.Helper()
	poll(ctx, t, 60*time.Second, fmt.Sprintf("%d ready pods in %s", n, e.ns), func(ctx context.Context) (bool, error) {
		pods, err := e.c.Client.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for i := range pods.Items {
			if isReady(&pods.Items[i]) {
				ready++
			}
		}
		return ready == n, nil
	})
}

// podIPs are the addresses of the pods of e.ns, by name.
func podIPs(ctx context.Context, t *testing.T, e *env) map[string]string {
	t.Helper()
	pods, err := e.c.Client.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods of %s: %v", e.ns, err)
	}
	ips := map[string]string{}
	for _, p := range pods.Items {
		ips[p.Name] = p.Status.PodIP
	}
	return ips
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// setupOnlyTerminating deletes the only pod of hostnames while it keeps
// serving, as a pod draining connections in its grace period does.
func setupOnlyTerminating(ctx context.Context, t *testing.T, e *env) []string {
	client := e.c.Client
	create(ctx, t, client, e.ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		podSpec{name: "hostnames-0", labels: map[string]string{"app": "hostnames"}, terminateDelay: 2 * time.Minute})
	waitEndpoints(ctx, t, client, e.ns, "hostnames", 1, 1)
	if err := client.CoreV1().Pods(e.ns).Delete(ctx, "hostnames-0", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod %s/hostnames-0: %v", e.ns, err)
	}
	poll(ctx, t, 30*time.Second, "a serving, terminating endpoint of "+e.ns+"/hostnames", func(ctx context.Context) (bool, error) {
		eps := waitEndpoints(ctx, t, client, e.ns, "hostnames", 1, 0)
		c := eps[0].Conditions
		return c.Terminating != nil && *c.Terminating && c.Serving != nil && *c.Serving, nil
	})
	return []string{"hostnames", "-n", e.ns}
}

// checkOnlyTerminating checks that connections from the node still reach
// the terminating pod, as kube-proxy falls back to serving terminating
// endpoints, and that the trace does not claim otherwise.
func checkOnlyTerminating(ctx context.Context, t *testing.T, e *env, r result) {
	eps := endpointsOf(t, r)
	if len(eps) != 1 || eps[0].Pod != "hostnames-0" || eps[0].Ready || !eps[0].Serving || !eps[0].Terminating {
		t.Errorf("trace endpoints %+v; want hostnames-0 serving and terminating, not ready", eps)
	}
	url, names := getFromNode(ctx, t, e, "hostnames", 5)
	for _, name := range names {
		if name != "hostnames-0" {
			t.Errorf("GET %s from the node reached %q, want the terminating hostnames-0", url, name)
		}
	}
	for _, f := range r.doc.Findings {
		if strings.Contains(f.Message, "refused") {
			t.Errorf("finding %s says %q, yet GET %s from the node reached hostnames-0", f.ID, f.Message, url)
		}
	}
}
