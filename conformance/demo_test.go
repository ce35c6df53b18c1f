package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/demo"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// The demo cluster of demo/hostnames.yaml: node-1 at 172.18.0.2 (the node
// end of the harness's host link on 172.18.0.0/30), node-2 at 172.18.0.3
// known only to the API.
const (
	demoTransferNet = "172.18.0.0/30"
	demoLocalPodIP  = "10.244.1.7"
)

// TestCaptureDemoDumps makes kube-proxy program node-1 for the demo's
// objects, in iptables and then nftables mode, and writes what the node
// holds into $SVCTRACE_CAPTURE_DEMO (hack/capture-demo-dumps.sh). Before
// writing, each dump is traced with the demo's own objects, as --demo will:
// both ready endpoints get half the traffic and there is no drift.
func TestCaptureDemoDumps(t *testing.T) {
	dir := os.Getenv("SVCTRACE_CAPTURE_DEMO")
	if dir == "" {
		t.Skip("captures the demo dumps; run hack/capture-demo-dumps.sh")
	}
	harness.RequireE2E(t)
	for _, m := range []struct {
		mode, file string
		cmd        []string
		dataplane  func([]byte) (trace.DataplaneInput, error)
	}{
		{"iptables", "node-1.iptables-save", []string{"iptables-save"}, func(b []byte) (trace.DataplaneInput, error) {
			d, err := iptables.Parse(string(b))
			return trace.DataplaneInput{IPTables: d, IPTablesName: "node-1.iptables-save"}, err
		}},
		{"nftables", "node-1.nft.json", []string{"nft", "-j", "list", "ruleset"}, func(b []byte) (trace.DataplaneInput, error) {
			rs, err := nftables.ParseJSON(bytes.NewReader(b))
			return trace.DataplaneInput{NFT: rs, NFTName: "node-1.nft.json"}, err
		}},
	} {
		t.Run(m.mode, func(t *testing.T) {
			c := harness.StartT(t, harness.Config{ProxyMode: m.mode, TransferNet: netip.MustParsePrefix(demoTransferNet)})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			createDemo(ctx, t, c)
			var dump []byte
			var problems []string
			err := wait.PollUntilContextTimeout(ctx, time.Second, 60*time.Second, true, func(context.Context) (bool, error) {
				out, err := c.Node.Exec(ctx, m.cmd[0], m.cmd[1:]...)
				if err != nil {
					return false, nil
				}
				dp, err := m.dataplane(out)
				if err != nil {
					return false, nil
				}
				dump, problems = out, demoProblems(ctx, t, dp)
				return len(problems) == 0, nil
			})
			if err != nil {
				t.Fatalf("%s of node-1 never traced cleanly with the demo's objects:\n%s", strings.Join(m.cmd, " "), strings.Join(problems, "\n"))
			}
			path := filepath.Join(dir, m.file)
			if err := os.WriteFile(path, dump, 0o644); err != nil {
				t.Fatalf("write demo dump: %v", err)
			}
			t.Logf("wrote %s (%d bytes)", path, len(dump))
		})
	}
}

// demoProblems traces demo/hostnames.yaml through dp as --demo does.
func demoProblems(ctx context.Context, t *testing.T, dp trace.DataplaneInput) []string {
	objs, err := demo.Objects()
	if err != nil {
		t.Fatal(err)
	}
	in, err := source.Fetcher{Client: source.Offline(objs)}.Fetch(ctx, demo.Namespace, demo.Service)
	if err != nil {
		t.Fatal(err)
	}
	dp.Node = "node-1"
	in.Dataplane = &dp
	tr := trace.Build(*in)
	problems := dataplaneFindings(tr)
	return append(problems, checkWalks(in, tr, "node-1", "pod", false)...)
}

// createDemo creates the demo's objects in the harness cluster. The
// harness hands out pod addresses from 10.244.1.2 upwards, lowest free
// first, so five placeholder pods take .2 to .6 and the node-1 replica
// gets .7; they are deleted once it runs.
func createDemo(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	client := c.Client
	if err := addNode(ctx, client, "node-2", "172.18.0.3", "10.244.2.0/24", "zone-b"); err != nil {
		t.Fatal(err)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"zone-a"}}}`, corev1.LabelTopologyZone)
	if _, err := client.CoreV1().Nodes().Patch(ctx, c.Node.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("label node %s: %v", c.Node.Name, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnames", Namespace: "default", Labels: map[string]string{"app": "hostnames"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: "10.96.0.150",
			Selector:  map[string]string{"app": "hostnames"},
			Ports: []corev1.ServicePort{{Name: "default", Protocol: corev1.ProtocolTCP, Port: 80,
				TargetPort: intstr.FromInt32(9376)}},
		},
	}
	if err := createService(ctx, client, svc, ""); err != nil {
		t.Fatal(err)
	}
	var fillers []string
	for i := range 5 {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("placeholder-%d", i), Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: c.Node.Name, Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause"}}}}
		if _, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod default/%s: %v", pod.Name, err)
		}
		fillers = append(fillers, pod.Name)
	}
	for _, name := range fillers {
		waitPodIP(ctx, t, c, name)
	}
	local := demoPod("hostnames-6f8b9c7d54-4xkzq")
	local.Spec.NodeName = c.Node.Name
	if _, err := client.CoreV1().Pods("default").Create(ctx, local, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod default/%s: %v", local.Name, err)
	}
	if ip := waitPodIP(ctx, t, c, local.Name); ip != demoLocalPodIP {
		t.Fatalf("pod default/%s got %s from the harness, want %s: the harness gives no way to choose a pod IP", local.Name, ip, demoLocalPodIP)
	}
	for _, name := range fillers {
		if err := client.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("delete pod default/%s: %v", name, err)
		}
	}
	for _, p := range []struct {
		name, ip string
		ready    bool
	}{{"hostnames-6f8b9c7d54-9qwlm", "10.244.2.5", true}, {"hostnames-6f8b9c7d54-tv2rp", "10.244.2.6", false}} {
		if err := addRemotePod(ctx, client, demoPod(p.name), "node-2", "172.18.0.3", p.ip, p.ready); err != nil {
			t.Fatal(err)
		}
	}
	waitReady(ctx, t, client, "default", "hostnames", 2)
}

// demoPod is a replica of the demo's hostnames Deployment.
func demoPod(name string) *corev1.Pod {
	pod := fixturePod("hostnames")
	pod.Name, pod.Namespace = name, "default"
	pod.Labels["pod-template-hash"] = "6f8b9c7d54"
	ctr := &pod.Spec.Containers[0]
	ctr.Ports = ctr.Ports[:1]
	ctr.Ports[0].Name = ""
	ctr.ReadinessProbe.PeriodSeconds, ctr.ReadinessProbe.FailureThreshold = 5, 0
	return pod
}

// waitPodIP waits until the harness runs pod default/name and returns its IP.
func waitPodIP(ctx context.Context, t *testing.T, c *harness.Cluster, name string) string {
	t.Helper()
	var ip string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pod, err := c.Client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ip = pod.Status.PodIP
		return ip != "", nil
	})
	if err != nil {
		t.Fatalf("pod default/%s got no IP: %v", name, err)
	}
	return ip
}
