package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// diagnosisScenarios are the diagnoses a new user got wrong (issues 13
// and 14), on the real cluster: a Deployment scaled to 0, a targetPort
// nothing listens on, a dump taken before a pod existed, and a Service
// another proxy owns.
func diagnosisScenarios() []scenario {
	return []scenario{
		{
			name:  "deployment scaled to 0",
			setup: setupScaledToZero,
			want: expect{exit: 3, also: []string{"NoReadyEndpoints"}, findings: []wantFinding{{
				id: "WorkloadScaledToZero", severity: "error", subject: "deployment/hostnames",
				contains: []string{"scaled to 0 replicas", "kubectl scale deployment/hostnames -n "},
			}}},
		},
		{
			name:  "pods refused by a quota",
			setup: setupQuotaRefused,
			want: expect{exit: 3, also: []string{"NoReadyEndpoints"}, findings: []wantFinding{{
				id: "WorkloadPodsRefused", severity: "error", subject: "deployment/hostnames",
				contains: []string{"quota", "kubectl describe resourcequota -n "},
			}}},
		},
		{
			name:  "targetPort nothing declares",
			setup: setupWrongTargetPort,
			want: expect{exit: 3, findings: []wantFinding{{
				id: "TargetPortNotExposed", severity: "error", contains: []string{"targetPort 8080", "9376/TCP"},
			}}},
		},
		{
			name:  "dump taken before a pod existed",
			setup: setupDumpBeforePod,
			want: expect{exit: 0, findings: []wantFinding{{
				id: "DumpPredatesObjects", severity: "warning", contains: []string{"pod/hostnames-2", "fresh dump"},
			}}},
		},
		{
			name:  "no endpoints: refused as the finding says",
			setup: setupNoEndpointsRefused,
			want:  expect{exit: 3, also: []string{"NoPodsMatchSelector"}, findings: []wantFinding{{id: "NoReadyEndpoints", severity: "error", contains: []string{"clients see connection refused ("}}}},
			check: checkRefused,
		},
		{
			name:  "Service of another proxy",
			setup: setupOtherProxy,
			want: expect{exit: 0, findings: []wantFinding{{
				id: "KubeProxySkips", severity: "info", subject: "service/mesh", contains: []string{`the proxy "cilium" handles it`},
			}}},
		},
	}
}

// setupScaledToZero: the Service's selector is right, but the Deployment
// whose template it matches runs no pod.
func setupScaledToZero(ctx context.Context, t *testing.T, e *env) []string {
	args := setupDeployment(ctx, t, e, 0)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 0, 0)
	return args
}

// setupDeployment makes Service hostnames and a Deployment of replicas
// hostnames pods behind it.
func setupDeployment(ctx context.Context, t *testing.T, e *env, replicas int32) []string {
	create(ctx, t, e.c.Client, e.ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)))
	tmpl := threePods(nil)[0].pod()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "hostnames"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "hostnames"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "hostnames"}}, Spec: tmpl.Spec}}}
	d.Spec.Template.Spec.NodeName = ""
	if _, err := e.c.Client.AppsV1().Deployments(e.ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	return []string{"hostnames", "-n", e.ns}
}

// setupQuotaRefused: a ResourceQuota admits no pod, so the Deployment's
// ReplicaSet records FailedCreate.
func setupQuotaRefused(ctx context.Context, t *testing.T, e *env) []string {
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "no-pods"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}}
	if _, err := e.c.Client.CoreV1().ResourceQuotas(e.ns).Create(ctx, q, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create quota: %v", err)
	}
	args := setupDeployment(ctx, t, e, 1)
	poll(ctx, t, 60*time.Second, "a FailedCreate event in "+e.ns, func(ctx context.Context) (bool, error) {
		evs, err := e.c.Client.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedCreate"})
		return err == nil && len(evs.Items) > 0, nil
	})
	return args
}

// setupWrongTargetPort: the pods declare and listen on 9376, the Service
// sends to 8080, so every connection is refused.
func setupWrongTargetPort(ctx context.Context, t *testing.T, e *env) []string {
	create(ctx, t, e.c.Client, e.ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(8080)), threePods(nil)...)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 3, 3)
	return []string{"hostnames", "-n", e.ns}
}

// setupDumpBeforePod saves the node's rules with two pods, then starts a
// third: the dump lacks its endpoint because of its age.
func setupDumpBeforePod(ctx context.Context, t *testing.T, e *env) []string {
	if e.s.proxyMode != "iptables" {
		t.Skip("only iptables-save dumps carry their time")
	}
	pods := threePods(nil)
	create(ctx, t, e.c.Client, e.ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)), pods[:2]...)
	eps := waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 2, 2)
	dump := nodeRules(ctx, t, e, func(rules string) bool {
		for _, ep := range eps {
			if !strings.Contains(rules, ruleDump[e.s.proxyMode].dnat(ep.Addresses[0])) {
				return false
			}
		}
		return true
	})
	time.Sleep(1100 * time.Millisecond) // the dump's header has whole seconds
	create(ctx, t, e.c.Client, e.ns, nil, pods[2])
	waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 3, 3)
	return []string{"hostnames", "-n", e.ns, ruleDump[e.s.proxyMode].flag, dump, "--node", e.c.Node.Name}
}

// setupOtherProxy labels a Service service-proxy-name: cilium. The real
// kube-proxy skips it; once it has synced a Service made after it, the
// node's rules are traced: nothing is missing.
func setupOtherProxy(ctx context.Context, t *testing.T, e *env) []string {
	mesh := hostnamesService("mesh", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort))
	mesh.Labels = map[string]string{"service.kubernetes.io/service-proxy-name": "cilium"}
	create(ctx, t, e.c.Client, e.ns, mesh, threePods(nil)...)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "mesh", 3, 3)
	witness := create(ctx, t, e.c.Client, e.ns, hostnamesService("witness", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)))
	waitEndpoints(ctx, t, e.c.Client, e.ns, "witness", 3, 3)
	dump := nodeRules(ctx, t, e, func(rules string) bool { return strings.Contains(rules, witness.Spec.ClusterIP) })
	return []string{"mesh", "-n", e.ns, ruleDump[e.s.proxyMode].flag, dump, "--node", e.c.Node.Name}
}

// nodeRules saves the node's rules in the suite's proxy mode once done
// says they are there, and returns the file.
func nodeRules(ctx context.Context, t *testing.T, e *env, done func(string) bool) string {
	t.Helper()
	d := ruleDump[e.s.proxyMode]
	var rules []byte
	poll(ctx, t, 30*time.Second, "kube-proxy "+e.s.proxyMode+" rules in "+e.ns, func(ctx context.Context) (bool, error) {
		var err error
		if rules, err = e.c.Node.Exec(ctx, d.cmd[0], d.cmd[1:]...); err != nil {
			return false, nil
		}
		return done(string(rules)), nil
	})
	path := filepath.Join(t.TempDir(), e.s.proxyMode+".dump")
	if err := os.WriteFile(path, rules, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// setupNoEndpointsRefused: a Service without endpoints, traced through the
// node's rules once kube-proxy has written its no-endpoints rule.
func setupNoEndpointsRefused(ctx context.Context, t *testing.T, e *env) []string {
	svc := create(ctx, t, e.c.Client, e.ns, hostnamesService("hostnames", map[string]string{"app": "nothing"}, intstr.FromInt32(servePort)))
	dump := nodeRules(ctx, t, e, func(rules string) bool {
		return strings.Contains(rules, svc.Spec.ClusterIP) && strings.Contains(rules, "hostnames")
	})
	return []string{"hostnames", "-n", e.ns, ruleDump[e.s.proxyMode].flag, dump, "--node", e.c.Node.Name}
}

// checkRefused checks the finding names the node's mode, and that a
// client on the node really is refused, not left to time out.
func checkRefused(ctx context.Context, t *testing.T, e *env, r result) {
	if !slices.ContainsFunc(r.doc.Findings, func(f finding) bool {
		return f.ID == "NoReadyEndpoints" && strings.Contains(f.Message, "connection refused ("+e.s.proxyMode+":")
	}) {
		t.Errorf("NoReadyEndpoints does not say what a client sees in %s mode\n%s", e.s.proxyMode, r)
	}
	svc, err := e.c.Client.CoreV1().Services(e.ns).Get(ctx, "hostnames", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := e.c.Node.DialContext(dctx, "tcp", net.JoinHostPort(svc.Spec.ClusterIP, "80"))
	if err == nil {
		conn.Close()
		t.Fatal("a connection to a Service without endpoints was accepted")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connecting from the node: %v, want connection refused", err)
	}
}
