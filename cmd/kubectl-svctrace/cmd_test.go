package main

import (
	"bytes"

	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func scenarioPath(name string) string {
	return filepath.Join("..", "..", "testdata", "scenarios", name)
}

type result struct {
	code        int
	out, errOut string
}

// runWith runs the command line against client (for live mode) with a
// terminal or not, and NO_COLOR set or not.
func runWith(t *testing.T, client kubernetes.Interface, tty bool, env map[string]string, args ...string) result {
	t.Helper()
	return runDeps(deps{
		newClient: func(*genericclioptions.ConfigFlags) (kubernetes.Interface, error) {
			if client == nil {
				return nil, errors.New("no cluster in this test")
			}
			return client, nil
		},
		isTerminal: func(any) bool { return tty },
		getenv:     func(k string) string { return env[k] },
	}, args...)
}

// runDeps runs the command line with d.
func runDeps(d deps, args ...string) result {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := NewCmdSvctrace(streams, d)
	cmd.SetArgs(args)
	code := exitCode(cmd.ExecuteContext(context.Background()), streams.ErrOut)
	return result{code, out.String(), errOut.String()}
}

func TestCommandLine(t *testing.T) {
	live := fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "web.example.com"}})
	cases := []struct {
		name     string
		args     []string
		client   kubernetes.Interface
		code     int
		out, err string
	}{
		{"demo shows the not-ready replica", []string{"--demo"}, nil, ExitOK, "PodsNotReady  pod/hostnames-6f8b9c7d54-tv2rp", ""},
		{"demo walks node-1's iptables rules", []string{"--demo"}, nil, ExitOK, "KUBE-SEP-3C5XT2CPGWXUSCZF (50.0%) → DNAT 10.244.2.5:9376", ""},
		{"demo walks node-1's nftables rules", []string{"--demo", "--demo-proxy-mode", "nftables"}, nil, ExitOK, "from demo/node-1.nft.json", ""},
		{"unknown demo mode", []string{"--demo", "--demo-proxy-mode", "ipvs"}, nil, ExitUsage, "", "unknown --demo-proxy-mode"},
		{"error findings exit 3", []string{"-f", scenarioPath("selector-typo.yaml"), "hostnames"}, nil, ExitFindings, "NoPodsMatchSelector", ""},
		{"svc/NAME form", []string{"-f", scenarioPath("healthy.yaml"), "svc/web"}, nil, ExitOK, "no findings", ""},
		{"missing service suggests", []string{"-f", scenarioPath("notfound.yaml"), "web"}, nil, ExitFindings, `did you mean "webb" or "wbe"?`, ""},
		{"namespace flag", []string{"-f", scenarioPath("notfound.yaml"), "-n", "shop", "web"}, nil, ExitFindings, "Service shop/web", ""},
		{"live mode uses the client", []string{"-n", "shop", "web"}, live, ExitOK, "ExternalNameService", ""},
		{"unknown output", []string{"--demo", "-o", "xml"}, nil, ExitUsage, "", `error: unknown --output "xml": use wide, json or yaml`},
		{"unknown flag", []string{"--bogus"}, nil, ExitUsage, "", "unknown flag: --bogus"},
		{"no service named", []string{"-f", scenarioPath("healthy.yaml")}, nil, ExitUsage, "", "name the Service to trace"},
		{"not a service", []string{"--demo", "deploy/web"}, nil, ExitUsage, "", `"deploy/web" is not a Service`},
		{"invalid name", []string{"--demo", "Web,x"}, nil, ExitUsage, "", `"Web,x" is not a valid Service name`},
		{"too many args", []string{"a", "b"}, nil, ExitUsage, "", "accepts at most 1 arg"},
		{"demo and file", []string{"--demo", "-f", "x.yaml"}, nil, ExitUsage, "", "--demo and --filename"},
		{"missing file", []string{"-f", "nope.yaml", "web"}, nil, ExitFailed, "", "nope.yaml"},
		{"tui refuses a non-terminal", []string{"--demo", "-i"}, nil, ExitOK, "PodsNotReady", "stdout is not a terminal"},
		{"unknown port", []string{"--demo", "--port", "81"}, nil, ExitUsage, "", "--port 81: service default/hostnames has no such port; its ports: default 80/TCP"},
		{"named port", []string{"--demo", "--port", "default"}, nil, ExitOK, "DNAT 10.244.1.7:9376", ""},
		{"node port selects its Service port", []string{"-f", scenarioPath("local-policy.yaml"), "lb", "--from", "external", "--port", "30080"}, nil, ExitOK, "external 203.0.113.50 tcp →", ""},
		{"bad request timeout", []string{"--demo", "--request-timeout", "abc"}, nil, ExitUsage, "", `bad --request-timeout "abc"`},
		{"nothing to walk from outside", []string{"--demo", "--from", "external"}, nil, ExitOK, "no packet from outside to walk", ""},
		{"dual-stack NodePort on an IPv4-only node", []string{"-f", scenarioPath("kinds.yaml"), "sticky", "--from", "external"}, nil, ExitOK, "node node-1 has no IPv6 address to receive", ""},
		{"empty input file", []string{"-f", "/dev/null", "web"}, nil, ExitFailed, "", "no Kubernetes objects"},
		{"empty dump", []string{"--demo", "--iptables-save", "/dev/null"}, nil, ExitFailed, "", "--iptables-save /dev/null is empty; expected iptables-save output from the node"},
		{"missing kubeconfig", []string{"--kubeconfig", "/nonexistent/kc", "web"}, nil, ExitFailed, "", "read kubeconfig"},
		{"demo mode without demo", []string{"-f", scenarioPath("healthy.yaml"), "web", "--demo-proxy-mode", "nftables"}, nil, ExitUsage, "", "--demo-proxy-mode only applies with --demo"},
		{"tui with a dump on stdin", []string{"--demo", "-i", "--iptables-save", "-"}, nil, ExitUsage, "", "-i needs the terminal on stdin"},
		{"demo has no DNS to ask", []string{"--demo", "--dns"}, nil, ExitUsage, "", "the demo cluster runs nowhere: use --dns-server ADDR"},
		{"bad cluster domain", []string{"--demo", "--cluster-domain", "bad domain!"}, nil, ExitUsage, "", `bad --cluster-domain "bad domain!"`},
		{"stdin clash is a usage error before stdin is read", []string{"web", "-f", "-", "--iptables-save", "-"}, nil, ExitUsage, "", "only one of -f, --iptables-save"},
		{"search path of every spelling", []string{"--demo", "--from", "pod/hostnames-6f8b9c7d54-9qwlm"}, nil, ExitOK, "hostnames.default.svc.cluster.local. on try 3 of 4", ""},
		{"version", []string{"version"}, nil, ExitOK, "kubectl-svctrace ", ""},
		{"--version", []string{"--version"}, nil, ExitOK, "kubectl-svctrace ", ""},
		{"help names the plugin", []string{"--help"}, nil, ExitOK, "kubectl svctrace SERVICE", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, tc.client, false, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.out, r.errOut)
			}
			if !strings.Contains(r.out, tc.out) {
				t.Errorf("stdout lacks %q:\n%s", tc.out, r.out)
			}
			if !strings.Contains(r.errOut, tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, r.errOut)
			}
		})
	}
}

// Traffic from the node itself leaves with the node's address (kube-proxy
// marks it for masquerade); a pod's keeps its own.
func TestMasqueradeShown(t *testing.T) {
	for _, mode := range []string{"iptables", "nftables"} {
		for from, want := range map[string]int{"node": 2, "10.244.1.9": 0} {
			r := runWith(t, nil, false, nil, "--demo", "--demo-proxy-mode", mode, "--from", from)
			if got := strings.Count(r.out, "MASQUERADE"); r.code != ExitOK || got != want {
				t.Errorf("%s from %s: exit %d, %d outcomes say MASQUERADE, want %d:\n%s", mode, from, r.code, got, want, r.out)
			}
		}
	}
}

func TestMalformedFileNamesLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n   namespace: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runWith(t, nil, false, nil, "-f", path, "a")
	if r.code != ExitFailed || !strings.Contains(r.errOut, path+":5:") {
		t.Errorf("code %d stderr %q, want exit 1 naming %s:5", r.code, r.errOut, path)
	}
}

func TestForbiddenServiceExitsOne(t *testing.T) {
	c := fake.NewClientset()
	c.PrependReactor("get", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "web", errors.New("denied"))
	})
	r := runWith(t, c, false, nil, "-n", "shop", "web")
	if r.code != ExitFailed || !strings.Contains(r.errOut, "kubectl auth can-i get services -n shop") {
		t.Errorf("code %d stderr %q", r.code, r.errOut)
	}
}

func TestJSONOutput(t *testing.T) {
	r := runWith(t, nil, true, nil, "--demo", "-o", "json")
	var doc struct {
		APIVersion, Kind string
		Summary          struct{ Warnings int }
		Findings         []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.out)
	}
	if doc.APIVersion != "svctrace.dev/v1alpha1" || doc.Kind != "Trace" || doc.Summary.Warnings != 1 || doc.Findings[0].ID != "PodsNotReady" {
		t.Errorf("unexpected document: %+v", doc)
	}
}

func TestColourFollowsTerminalAndNoColor(t *testing.T) {
	cases := []struct {
		tty  bool
		env  map[string]string
		want bool
	}{
		{true, nil, true},
		{true, map[string]string{"NO_COLOR": "1"}, false},
		{false, nil, false},
	}
	for _, tc := range cases {
		r := runWith(t, nil, tc.tty, tc.env, "--demo")
		if got := strings.Contains(r.out, "\x1b["); got != tc.want {
			t.Errorf("tty=%v env=%v: colour=%v, want %v", tc.tty, tc.env, got, tc.want)
		}
	}
}

func TestCompletionListsServices(t *testing.T) {
	c := fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "worker", Namespace: "default"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"}},
	)
	r := runWith(t, c, false, nil, "__complete", "-n", "default", "w")
	if !strings.HasPrefix(r.out, "web\nworker\n:4\n") {
		t.Errorf("completion output %q", r.out)
	}
}

func TestCompletionListsNamespaces(t *testing.T) {
	c := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "staging"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
	)
	r := runWith(t, c, false, nil, "__complete", "-n", "s")
	if !strings.HasPrefix(r.out, "shop\nstaging\n:4\n") {
		t.Errorf("completion output %q", r.out)
	}
}

// TestUnreachableAPIServer runs the real client against a loopback port
// nothing listens on: one line naming the API server, exit 1.
func TestUnreachableAPIServer(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	config := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`
	if err := os.WriteFile(kc, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	d := defaultDeps()
	d.isTerminal = func(any) bool { return false }
	cmd := NewCmdSvctrace(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, d)
	cmd.SetArgs([]string{"--kubeconfig", kc, "--request-timeout", "5s", "web"})
	code := exitCode(cmd.ExecuteContext(context.Background()), &errOut)
	if code != ExitFailed || !strings.Contains(errOut.String(), "cannot reach the API server") || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// TestREADMEShowsTheDemo keeps the README's sample output honest: it must
// be what --demo prints today.
func TestREADMEShowsTheDemo(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "$ kubectl svctrace --demo\n")
	block, _, _ = strings.Cut(block, "```")
	if !ok {
		t.Fatal("README has no `$ kubectl svctrace --demo` sample")
	}
	r := runWith(t, nil, false, nil, "--demo")
	if diff := cmp.Diff(r.out, block); diff != "" {
		t.Errorf("README sample differs from --demo output (-demo +README):\n%s", diff)
	}
}
