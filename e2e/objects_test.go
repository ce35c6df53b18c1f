package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/harness"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// servePort is where serve_hostname (and the harness pod server) listens.
const servePort = 9376

// newNamespace creates a namespace of its own for one scenario and waits
// for its default service account, without which pods are refused. The
// cluster runs no namespace controller, so namespaces go with the cluster.
func newNamespace(ctx context.Context, t *testing.T, client kubernetes.Interface, prefix string) string {
	t.Helper()
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := prefix + "-" + hex.EncodeToString(suffix)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	poll(ctx, t, 30*time.Second, "service account "+name+"/default", func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	return name
}

// poll waits up to timeout for cond, failing t with what it waited for.
func poll(ctx context.Context, t *testing.T, timeout time.Duration, what string, cond wait.ConditionWithContextFunc) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// hostnamesService is the Service of the Debug Services guide: port 80 to
// targetPort (9376, or a port name) of the pods labelled app=NAME.
func hostnamesService(name string, selector map[string]string, target intstr.IntOrString) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{
			{Port: 80, TargetPort: target, Protocol: corev1.ProtocolTCP},
		}},
	}
}

// podSpec describes one serve_hostname-like pod with an HTTP readiness
// probe on its port, on node-1 unless node names another.
type podSpec struct {
	name     string
	node     string
	labels   map[string]string
	portName string // name of the container port 9376, if any
	// unhealthy makes the pod server answer 503, so the probe fails.
	unhealthy bool
	// deaf moves the pod server off port 9376, so the probe is refused.
	deaf bool
	// hostname and subdomain give the pod a DNS name under a headless Service.
	hostname, subdomain string
	// terminateDelay keeps the pod serving this long after its deletion.
	terminateDelay time.Duration
}

func (p podSpec) pod() *corev1.Pod {
	ann := map[string]string{}
	if p.unhealthy {
		ann[harness.AnnotationUnhealthy] = "true"
	}
	if p.deaf {
		ann[harness.AnnotationListen] = "8080/tcp"
	}
	var grace *int64
	if p.terminateDelay > 0 {
		ann[harness.AnnotationTerminateDelay] = p.terminateDelay.String()
		g := int64(p.terminateDelay/time.Second) + 30
		grace = &g
	}
	node := p.node
	if node == "" {
		node = "node-1"
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.name, Labels: p.labels, Annotations: ann},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: grace,
			NodeName:                      node,
			Hostname:                      p.hostname,
			Subdomain:                     p.subdomain,
			Containers: []corev1.Container{{
				Name:  "hostnames",
				Image: "registry.k8s.io/serve_hostname",
				Ports: []corev1.ContainerPort{{Name: p.portName, ContainerPort: servePort, Protocol: corev1.ProtocolTCP}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
						Path: "/healthz", Port: intstr.FromInt32(servePort),
					}},
					PeriodSeconds:    1,
					FailureThreshold: 1,
				},
			}},
		},
	}
}

// create makes the Service (when not nil) and the pods in ns.
func create(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string, svc *corev1.Service, pods ...podSpec) *corev1.Service {
	t.Helper()
	if svc != nil {
		var err error
		if svc, err = client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create service %s/%s: %v", ns, svc.Name, err)
		}
	}
	for _, p := range pods {
		if _, err := client.CoreV1().Pods(ns).Create(ctx, p.pod(), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s/%s: %v", ns, p.name, err)
		}
	}
	return svc
}

// threePods are hostnames-0..2 labelled app=hostnames; change lets a
// scenario alter one of them.
func threePods(change func(i int, p *podSpec)) []podSpec {
	pods := make([]podSpec, 3)
	for i := range pods {
		pods[i] = podSpec{name: fmt.Sprintf("hostnames-%d", i), labels: map[string]string{"app": "hostnames"}}
		if change != nil {
			change(i, &pods[i])
		}
	}
	return pods
}

// waitEndpoints waits until the EndpointSlices of service ns/name hold
// total endpoints of which ready are ready, and returns them.
func waitEndpoints(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string, total, ready int) []discoveryv1.Endpoint {
	t.Helper()
	var eps []discoveryv1.Endpoint
	what := fmt.Sprintf("%d endpoints (%d ready) of service %s/%s", total, ready, ns, name)
	poll(ctx, t, 60*time.Second, what, func(ctx context.Context) (bool, error) {
		slices, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=" + name,
		})
		if err != nil {
			return false, nil
		}
		eps = eps[:0]
		n := 0
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				eps = append(eps, ep)
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					n++
				}
			}
		}
		return len(eps) == total && n == ready, nil
	})
	return eps
}

// waitDNS waits until the cluster DNS answers name with want addresses
// (in any order), so a trace does not race CoreDNS's watch.
func waitDNS(ctx context.Context, t *testing.T, c *harness.Cluster, name string, want ...string) {
	t.Helper()
	var got []string
	poll(ctx, t, 30*time.Second, fmt.Sprintf("DNS %s -> %v", name, want), func(ctx context.Context) (bool, error) {
		ips, err := harness.LookupA(ctx, c.DNSAddr, name)
		if err != nil {
			return false, nil
		}
		got = got[:0]
		for _, ip := range ips {
			got = append(got, ip.String())
		}
		return sameSet(got, want), nil
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s] == 0 {
			return false
		}
		seen[s]--
	}
	return true
}

// fqdn is the cluster DNS name of a Service (or a record below it).
func fqdn(parts ...string) string {
	return strings.Join(parts, ".") + ".svc.cluster.local"
}
