package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/svctrace/kubectl-svctrace/proxy/kubeauth/kubeauthtest"
)

// TestServeEndpointsOffLoopbackNeedTheAPIServer serves one endpoint on all
// addresses (off loopback) and one on loopback, as --serve does: the first
// only over HTTPS and to requests the API server authenticates and
// authorizes, /healthz excepted; the second as before, plain and open.
func TestServeEndpointsOffLoopbackNeedTheAPIServer(t *testing.T) {
	const sa = "system:serviceaccount:monitoring:prometheus"
	_, client := kubeauthtest.NewAPIServer(t, kubeauthtest.Tokens{"granted": sa, "ungranted": "system:serviceaccount:default:default"},
		kubeauthtest.Grant{User: sa, Verb: "get", Path: "/metrics"})
	o := &options{node: "node-a", deps: deps{newClient: func(*genericclioptions.ConfigFlags) (kubernetes.Interface, error) { return client, nil }}}
	mux := http.NewServeMux()
	for _, p := range []string{"/metrics", "/healthz"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "served "+p) })
	}
	off, local := freePort(t, "0.0.0.0"), freePort(t, "127.0.0.1")
	e := endpointFlags{alwaysAllow: []string{"/healthz", "/readyz", "/livez"}}
	err := e.serve(t.Context(), o, []endpoint{
		{"--metrics-bind-address", net.JoinHostPort("0.0.0.0", off), mux},
		{"--healthz-bind-address", net.JoinHostPort("127.0.0.1", local), mux},
	})
	if err != nil {
		t.Fatal(err)
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, tt := range []struct {
		url, token string
		code       int
	}{
		{"https://127.0.0.1:" + off + "/metrics", "", http.StatusUnauthorized},
		{"https://127.0.0.1:" + off + "/metrics", "ungranted", http.StatusForbidden},
		{"https://127.0.0.1:" + off + "/metrics", "granted", http.StatusOK},
		{"https://127.0.0.1:" + off + "/healthz", "", http.StatusOK},
		{"http://127.0.0.1:" + off + "/healthz", "", http.StatusBadRequest}, // Go's answer to HTTP on a TLS port
		{"http://127.0.0.1:" + local + "/metrics", "", http.StatusOK},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", tt.url, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := insecure.Do(req) // the listeners are open once serve returns
		if err != nil {
			t.Errorf("GET %s: %v", tt.url, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("GET %s with token %q: %d %q; want %d", tt.url, tt.token, resp.StatusCode, body, tt.code)
		}
	}
}

func freePort(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
