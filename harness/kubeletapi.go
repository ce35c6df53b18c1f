package harness

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"time"
)

// KubeletPort is where the kubelet stand-in serves the kubelet API the API
// server proxies to (pods/log, pods/exec, pods/attach, pods/portforward).
const KubeletPort = 10250

// serveKubeletAPI listens on the node's address inside the node namespace
// and serves container logs, exec, attach and port-forward, as the
// kubelet's server does for `kubectl logs`, `exec`, `attach` and
// `port-forward`. The API server does not verify the kubelet's certificate
// unless told to, so a self-signed one will do.
func (k *kubelet) serveKubeletAPI() error {
	cert, err := selfSigned(k.node.IP)
	if err != nil {
		return err
	}
	var ln net.Listener
	err = inNetNS("/run/netns/"+k.node.NetNS, func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(k.node.IP, KubeletPort).String())
		return err
	})
	if err != nil {
		return fmt.Errorf("kubelet API on node %s: %w", k.node.Name, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", k.containerLogs)
	mux.HandleFunc("GET /exec/{namespace}/{pod}/{container}", k.exec)
	mux.HandleFunc("POST /exec/{namespace}/{pod}/{container}", k.exec)
	mux.HandleFunc("GET /attach/{namespace}/{pod}/{container}", k.attach)
	mux.HandleFunc("POST /attach/{namespace}/{pod}/{container}", k.attach)
	mux.HandleFunc("GET /portForward/{namespace}/{pod}", k.portForward)
	mux.HandleFunc("POST /portForward/{namespace}/{pod}", k.portForward)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	// HTTP/1.1 only: exec upgrades the connection, which HTTP/2 cannot.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			k.c.cfg.Logf("kubelet API on node %s: %v", k.node.Name, err)
		}
	}()
	k.c.onStop(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return nil
}

// containerLogs answers with what the pod's process wrote (stdout and
// stderr, as the container runtime's log holds them), limited to
// limitBytes when asked.
func (k *kubelet) containerLogs(w http.ResponseWriter, r *http.Request) {
	rt := k.runtime(r.PathValue("namespace"), r.PathValue("pod"))
	if rt != nil {
		if log := rt.ephemeralLog(r.PathValue("container")); log != "" {
			serveLog(w, r, log)
			return
		}
	}
	if rt == nil || rt.proc == nil {
		http.Error(w, "container "+r.PathValue("container")+" of pod "+r.PathValue("namespace")+"/"+r.PathValue("pod")+" has no log on this node", http.StatusNotFound)
		return
	}
	serveLog(w, r, rt.proc.log)
}

// serveLog answers with a log file, limited to limitBytes when asked.
func serveLog(w http.ResponseWriter, r *http.Request, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("limitBytes")); err == nil && n >= 0 && n < len(b) {
		b = b[:n]
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(b)
}

func selfSigned(ip netip.Addr) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kubelet serving key: %w", err)
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "kubelet"},
		NotBefore:    now,
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{ip.AsSlice()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kubelet serving certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
