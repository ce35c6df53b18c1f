package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/svctrace/kubectl-svctrace/nodeagent"
	"github.com/svctrace/kubectl-svctrace/snapshot"
)

// fakeExecer answers exec with a snapshot of the demo's node-1, or fails.
type fakeExecer struct {
	snap []byte
	err  error
	ran  []string
}

func (f *fakeExecer) Exec(_ context.Context, ns, pod, container string, argv []string) ([]byte, error) {
	f.ran = append(f.ran, ns+"/"+pod+"/"+container+": "+strings.Join(argv, " "))
	return f.snap, f.err
}

func demoNodeSnapshot(t *testing.T) []byte {
	t.Helper()
	save, err := os.ReadFile("../../demo/node-1.iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	s := &snapshot.Snapshot{Format: snapshot.Format, Node: "node-1", Sections: []snapshot.Section{
		{Name: snapshot.IPTablesDefault, Source: "iptables-save -c", Output: string(save)},
		{Name: snapshot.ProxyMode, Source: "http://127.0.0.1:10249/proxyMode", Output: "iptables"},
	}}
	if err := snapshot.Encode(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// demoWithServe is the demo cluster with a ready --serve pod on node-1.
func demoWithServe(t *testing.T) *fake.Clientset {
	t.Helper()
	serve := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "svctrace-serve-x7k2p", Namespace: "kube-system",
			Labels: map[string]string{"app.kubernetes.io/name": "kubectl-svctrace", "app.kubernetes.io/component": "serve"}},
		Spec:   corev1.PodSpec{NodeName: "node-1", HostNetwork: true, Containers: []corev1.Container{{Name: "serve", Image: "ghcr.io/svctrace/kubectl-svctrace:latest"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	return fake.NewClientset(append(demoObjects(t), serve)...)
}

func runWithExecer(t *testing.T, client kubernetes.Interface, ex nodeagent.Execer, args ...string) result {
	t.Helper()
	return runDeps(deps{
		newClient:  func(*genericclioptions.ConfigFlags) (kubernetes.Interface, error) { return client, nil },
		newExecer:  func(*genericclioptions.ConfigFlags, kubernetes.Interface) (nodeagent.Execer, error) { return ex, nil },
		isTerminal: func(any) bool { return false },
		getenv:     func(string) string { return "" },
	}, args...)
}

// --node N on a node where a --serve pod runs asks it (exec) instead of
// starting an agent pod; when asking fails, the agent pod reads the node
// and the trace says why.
func TestNodeReadThroughServe(t *testing.T) {
	client := demoWithServe(t)
	ex := &fakeExecer{snap: demoNodeSnapshot(t)}
	r := runWithExecer(t, client, ex, "hostnames", "--node", "node-1", "-o", "json")
	for _, want := range []string{"NodeReadThroughServe", "svctrace-serve-x7k2p that runs there (pods/exec): no agent pod was started", `"target": "10.244.2.5:9376"`, `"source": "node/node-1: iptables-save -c"`} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, r.out, r.errOut)
		}
	}
	if len(ex.ran) != 1 || !strings.HasPrefix(ex.ran[0], "kube-system/svctrace-serve-x7k2p/serve: kubectl-svctrace --serve --snapshot --snapshot-service default/hostnames") {
		t.Errorf("exec %q", ex.ran)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() == "create" && a.GetResource().Resource == "pods" {
			t.Errorf("an agent pod was created although --serve answered: %v", a)
		}
	}

	client = demoWithServe(t)
	client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no agent pods here"))
	})
	r = runWithExecer(t, client, &fakeExecer{err: errors.New(`pods "svctrace-serve-x7k2p" is forbidden: cannot create pods/exec`)}, "hostnames", "--node", "node-1", "-o", "json")
	for _, want := range []string{"NodeReadThroughServe", "node node-1 runs the --serve pod kube-system/svctrace-serve-x7k2p, but asking it failed", "cannot create pods/exec", "NodeAgentNotRun"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("after a failed exec, output lacks %q:\n%s", want, r.out)
		}
	}
}
