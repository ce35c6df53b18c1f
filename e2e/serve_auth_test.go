//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/svctrace/kubectl-svctrace/harness"
)

// Ports of deploy/serve.yaml; nothing else in the node listens there.
const (
	serveMetricsPort = "10266"
	serveHealthzPort = "10267"
)

// TestServeEndpointsAuth runs `--serve` in the node's network namespace
// with its endpoints bound to the node's address, as the ServiceAccount
// deploy/serve.yaml makes (with exactly that ClusterRole), against the
// real kube-apiserver: real ServiceAccount tokens, TokenReview,
// SubjectAccessReview and RBAC. No token: 401; a token without a grant:
// 403; with deploy/serve.yaml's metrics-reader role: 200; /healthz open.
func TestServeEndpointsAuth(t *testing.T) {
	s, c := require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t, c.Client, "e2e-serve-auth")
	roles := deployRoles(t, "../deploy/serve.yaml")
	serveRole, readerRole := roles["svctrace-serve"], roles["svctrace-serve-metrics-reader"]
	if serveRole == nil || readerRole == nil {
		t.Fatalf("deploy/serve.yaml: want ClusterRoles svctrace-serve and svctrace-serve-metrics-reader, got %v", roles)
	}
	// Named after the namespace: cluster-scoped objects outlive it.
	serveRole.Name, readerRole.Name = ns+"-serve", ns+"-metrics-reader"
	createRoles(ctx, t, c.Client, serveRole, readerRole)
	bindRole(ctx, t, c.Client, ns, "svctrace-serve", serveRole.Name)

	kubeconfig := saKubeconfig(ctx, t, c, ns, "svctrace-serve")
	scraper := saToken(ctx, t, c.Client, ns, "scraper")
	metrics := "https://" + net.JoinHostPort(c.Node.IP.String(), serveMetricsPort)
	healthz := "https://" + net.JoinHostPort(c.Node.IP.String(), serveHealthzPort)
	hc := nodeHTTPSClient(c.Node)
	startServe(ctx, t, s, c, kubeconfig,
		"--metrics-bind-address", net.JoinHostPort(c.Node.IP.String(), serveMetricsPort),
		"--healthz-bind-address", net.JoinHostPort(c.Node.IP.String(), serveHealthzPort))
	poll(ctx, t, 60*time.Second, "--serve answering "+healthz+"/healthz", func(ctx context.Context) (bool, error) {
		code, _ := fetch(ctx, hc, healthz+"/healthz", "")
		return code == http.StatusOK, nil
	})

	for _, tt := range []struct {
		url, token string
		code       int
	}{
		{healthz + "/healthz", "", http.StatusOK},
		{healthz + "/livez", "", http.StatusOK},
		{metrics + "/healthz", "", http.StatusOK},
		{metrics + "/metrics", "", http.StatusUnauthorized},
		{metrics + "/metrics", "not-a-token", http.StatusUnauthorized},
		{metrics + "/metrics", scraper, http.StatusForbidden},
		{metrics + "/proxyMode", scraper, http.StatusForbidden},
		{"http://" + strings.TrimPrefix(metrics, "https://") + "/metrics", "", http.StatusBadRequest}, // HTTPS only
	} {
		if code, body := fetch(ctx, hc, tt.url, tt.token); code != tt.code {
			t.Errorf("GET %s (token: %v): %d %q; want %d", tt.url, tt.token != "", code, body, tt.code)
		}
	}

	bindRole(ctx, t, c.Client, ns, "scraper", readerRole.Name)
	// RBAC learns of the binding through a watch, and --serve keeps the
	// refusal for its cache TTL (10 s).
	var body string
	poll(ctx, t, 45*time.Second, "the scraper allowed to get /metrics", func(ctx context.Context) (bool, error) {
		var code int
		code, body = fetch(ctx, hc, metrics+"/metrics", scraper)
		return code == http.StatusOK, nil
	})
	if !strings.Contains(body, "svctrace_sync_proxy_rules_last_timestamp_seconds") {
		t.Errorf("/metrics with the grant does not serve --serve's metrics:\n%.500s", body)
	}
	if code, body := fetch(ctx, hc, metrics+"/proxyMode", scraper); code != http.StatusForbidden {
		t.Errorf("/proxyMode with a grant for /metrics only: %d %q; want 403", code, body)
	}
}

// deployRoles reads the ClusterRoles of a deploy/ manifest by name.
func deployRoles(t *testing.T, path string) map[string]*rbacv1.ClusterRole {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]*rbacv1.ClusterRole{}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return roles
		}
		if err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		var r rbacv1.ClusterRole
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		if r.Kind != "ClusterRole" {
			continue
		}
		roles[r.Name] = &r
	}
}

func createRoles(ctx context.Context, t *testing.T, client kubernetes.Interface, roles ...*rbacv1.ClusterRole) {
	t.Helper()
	for _, r := range roles {
		r.ResourceVersion = ""
		if _, err := client.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ClusterRole %s: %v", r.Name, err)
		}
		t.Cleanup(func() {
			_ = client.RbacV1().ClusterRoles().Delete(context.Background(), r.Name, metav1.DeleteOptions{})
		})
	}
}

// bindRole binds a ClusterRole to the ServiceAccount ns/sa cluster-wide,
// creating the ServiceAccount if needed.
func bindRole(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, sa, role string) {
	t.Helper()
	ensureServiceAccount(ctx, t, client, ns, sa)
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role + "-" + sa},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}},
	}
	if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatalf("bind %s to %s/%s: %v", role, ns, sa, err)
	}
	t.Cleanup(func() {
		_ = client.RbacV1().ClusterRoleBindings().Delete(context.Background(), b.Name, metav1.DeleteOptions{})
	})
}

func ensureServiceAccount(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string) {
	t.Helper()
	if _, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
		return
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, name, err)
	}
}

// saToken is a bound ServiceAccount token from the TokenRequest API, as
// `kubectl create token` makes.
func saToken(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string) string {
	t.Helper()
	ensureServiceAccount(ctx, t, client, ns, name)
	expiry := int64(3600)
	tr, err := client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create a token for %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// saKubeconfig writes a kubeconfig that authenticates as the ServiceAccount.
func saKubeconfig(ctx context.Context, t *testing.T, c *harness.Cluster, ns, name string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: c.Admin.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: saToken(ctx, t, c.Client, ns, name)}
	cfg.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: name, Namespace: ns}
	cfg.CurrentContext = "e2e"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServe runs `kubectl-svctrace --serve` in the node's namespace until
// the test ends, then removes the chains it made.
func startServe(ctx context.Context, t *testing.T, s *suite, c *harness.Cluster, kubeconfig string, args ...string) {
	t.Helper()
	plugin := filepath.Join(s.binDir, "kubectl-svctrace")
	argv := append([]string{"netns", "exec", c.Node.NetNS, plugin, "--serve", "--node", c.Node.Name, "--kubeconfig", kubeconfig, "--v", "2"}, args...)
	cmd := exec.Command("ip", argv...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start --serve: %v", err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if out, err := c.Node.Exec(cctx, plugin, "--serve", "--cleanup"); err != nil {
			t.Errorf("--serve --cleanup: %v\n%s", err, out)
		}
		if t.Failed() {
			t.Logf("--serve's log:\n%s", log.String())
		}
	})
	select {
	case <-done:
		t.Fatalf("--serve exited at once: %v\n%s", waitErr, log.String())
	case <-time.After(500 * time.Millisecond):
	case <-ctx.Done():
	}
}

// nodeHTTPSClient sends from inside the node and skips verifying the
// self-signed certificate --serve makes when given none.
func nodeHTTPSClient(n *harness.Node) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext:       n.DialContext,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // the self-signed certificate
	}}
}

// fetch GETs url with the bearer token (if any); code 0 when it failed.
func fetch(ctx context.Context, hc *http.Client, url, token string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}
