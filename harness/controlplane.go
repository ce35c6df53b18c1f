package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Cluster-wide address ranges, as kubeadm and kind default them.
const (
	ServiceCIDR = "10.96.0.0/16"
	ClusterCIDR = "10.244.0.0/16"
	// KubernetesServiceIP is the ClusterIP of default/kubernetes, the first
	// address of ServiceCIDR; the serving certificate must name it.
	KubernetesServiceIP = "10.96.0.1"
	DNSServiceIP        = "10.96.0.10"
	ClusterDomain       = "cluster.local"
)

// Controllers run by kube-controller-manager. Without the service account
// controllers, pod creation fails (no "default" service account); the
// deployment and replica set controllers let people use `kubectl create
// deployment` against a cluster brought up with cluster-up; the resource
// quota controller keeps quotas' usage, so a quota refuses pods as on a
// real cluster.
var controllers = []string{
	"endpointslice-controller",
	"endpointslice-mirroring-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"replicaset-controller",
	"deployment-controller",
	"resourcequota-controller",
}

// freePort asks the kernel for a free TCP port on host. Another process may
// take it before it is used; the start-up then fails with a clear log.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) startEtcd(ctx context.Context) (string, error) {
	client, err := freePort("127.0.0.1")
	if err != nil {
		return "", err
	}
	peer, err := freePort("127.0.0.1")
	if err != nil {
		return "", err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(client)
	p, err := c.start(procSpec{name: "etcd", path: c.bins.Etcd, args: []string{
		"--name", "svctrace",
		"--data-dir", filepath.Join(c.StateDir, "etcd"),
		"--listen-client-urls", url,
		"--advertise-client-urls", url,
		"--listen-peer-urls", "http://127.0.0.1:" + strconv.Itoa(peer),
		"--initial-advertise-peer-urls", "http://127.0.0.1:" + strconv.Itoa(peer),
		"--initial-cluster", "svctrace=http://127.0.0.1:" + strconv.Itoa(peer),
		// As kubeadm sets it: without frequent progress notifications the
		// API server's watch cache of a resource type that sees no writes
		// stays at its last revision, and a watch from a newer revision
		// (a client relisting after an API server restart) fails with
		// "Too large resource version" until that type is written again;
		// an informer then misses changes for minutes.
		"--experimental-watch-progress-notify-interval", "5s",
		"--log-level", "warn",
	}})
	if err != nil {
		return "", err
	}
	err = c.waitHTTP(ctx, p, url+"/health", nil, 30*time.Second)
	return url, err
}

func (c *Cluster) startAPIServer(ctx context.Context, etcd string, pki *pki) error {
	port, err := freePort(c.HostIP.String())
	if err != nil {
		return err
	}
	c.Server = fmt.Sprintf("https://%s", net.JoinHostPort(c.HostIP.String(), strconv.Itoa(port)))
	c.apiCA = pki.caPEM
	c.apiSpec = procSpec{name: "kube-apiserver", path: c.bins.APIServer, args: []string{
		"--etcd-servers", etcd,
		"--bind-address", c.HostIP.String(),
		"--advertise-address", c.HostIP.String(),
		"--secure-port", strconv.Itoa(port),
		"--cert-dir", filepath.Join(c.StateDir, "apiserver-certs"),
		"--tls-cert-file", pki.ServerCert,
		"--tls-private-key-file", pki.ServerKey,
		"--token-auth-file", filepath.Join(c.StateDir, "tokens.csv"),
		"--service-account-issuer", "https://kubernetes.default.svc." + ClusterDomain,
		"--service-account-key-file", pki.SAPub,
		"--service-account-signing-key-file", pki.SAKey,
		"--service-cluster-ip-range", c.cfg.serviceCIDRs(),
		"--authorization-mode", "RBAC",
		// The node's host name does not resolve; its InternalIP reaches
		// the kubelet stand-in's API (pods/log).
		"--kubelet-preferred-address-types", "InternalIP",
		// As on real clusters: kubectl debug node/… --profile=sysadmin
		// and node mode's agent pod are privileged.
		"--allow-privileged=true",
		"--profiling=false",
	}}
	return c.runAPIServer(ctx)
}

// runAPIServer starts kube-apiserver as apiSpec says, on the address of
// c.Server, and waits until it is ready.
func (c *Cluster) runAPIServer(ctx context.Context) error {
	p, err := c.start(c.apiSpec)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.apiserver = p
	c.mu.Unlock()
	return c.waitHTTP(ctx, p, c.Server+"/readyz", c.httpsClient(c.apiCA), 90*time.Second)
}

// StopAPIServer stops kube-apiserver, as a control-plane restart or an
// outage does: requests fail and watches break until StartAPIServer; etcd
// keeps the objects.
func (c *Cluster) StopAPIServer() error {
	c.mu.Lock()
	p := c.apiserver
	c.apiserver = nil
	c.mu.Unlock()
	if p == nil {
		return errors.New("kube-apiserver is not running")
	}
	return p.stop(c.manifest, 5*time.Second)
}

// StartAPIServer starts kube-apiserver again on the same address, so every
// kubeconfig and client keeps working, and waits until /readyz answers.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	running := c.apiserver != nil
	c.mu.Unlock()
	if running {
		return errors.New("kube-apiserver is running")
	}
	return c.runAPIServer(ctx)
}

func (c *Cluster) startControllerManager(pki *pki) error {
	port, err := freePort("127.0.0.1")
	if err != nil {
		return err
	}
	_, err = c.start(procSpec{name: "kube-controller-manager", path: c.bins.ControllerManager, args: []string{
		"--kubeconfig", c.Kubeconfig,
		"--authentication-kubeconfig", c.Kubeconfig,
		"--authorization-kubeconfig", c.Kubeconfig,
		"--controllers", strings.Join(controllers, ","),
		"--service-account-private-key-file", pki.SAKey,
		"--root-ca-file", pki.CACert,
		"--leader-elect=false",
		"--bind-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port),
		"--profiling=false",
	}})
	return err
}

// httpsClient trusts only the cluster CA and authenticates as the admin.
func (c *Cluster) httpsClient(caPEM []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &bearerTransport{token: c.AdminToken, next: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		}},
	}
}

type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (t *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}

// waitHTTP polls url until it answers 200, failing early when p exits.
func (c *Cluster) waitHTTP(ctx context.Context, p *process, url string, hc *http.Client, limit time.Duration) error {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	return c.waitFor(ctx, limit, "GET "+url, []*process{p}, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// waitFor polls cond every 200ms for up to limit. It fails at once when one
// of procs exits, naming its log.
func (c *Cluster) waitFor(ctx context.Context, limit time.Duration, what string, procs []*process, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, p := range procs {
			if gone, err := p.exited(); gone {
				return fmt.Errorf("waiting for %s: %w", what, err)
			}
		}
		ok, err := cond(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (limit %s); logs are in %s", what, ctx.Err(), limit, c.logDir)
		case <-tick.C:
		}
	}
}
