package kubeauth_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/util/cert"

	"github.com/svctrace/kubectl-svctrace/proxy/kubeauth"
)

// TestServingTLSSelfSignedNamesTheNode checks the certificate made in
// memory is valid for the node's name and bind address under the CA that
// comes with it.
func TestServingTLSSelfSignedNamesTheNode(t *testing.T) {
	cfg, err := kubeauth.ServingTLS("", "", "node-a", []net.IP{net.ParseIP("10.0.0.7")})
	if err != nil {
		t.Fatal(err)
	}
	chain := cfg.Certificates[0].Certificate
	if len(chain) != 2 {
		t.Fatalf("chain of %d certificates; want the serving one and its CA", len(chain))
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(chain[1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"node-a", "10.0.0.7"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("the certificate does not verify for %s: %v", name, err)
		}
	}
	if cfg.MinVersion < 0x0303 {
		t.Errorf("MinVersion %#x; want TLS 1.2 or later", cfg.MinVersion)
	}
}

func TestServingTLSFromFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, "metrics.example")
	cfg, err := kubeauth.ServingTLS(certFile, keyFile, "node-a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := servedName(t, cfg); got != "metrics.example" {
		t.Errorf("serving a certificate for %q; want the files' (metrics.example), not one made for the node", got)
	}
	for _, files := range [][2]string{{certFile, ""}, {certFile, certFile}, {filepath.Join(dir, "missing"), keyFile}} {
		if _, err := kubeauth.ServingTLS(files[0], files[1], "node-a", nil); err == nil || !strings.Contains(err.Error(), "--tls-") {
			t.Errorf("ServingTLS(%q, %q): %v; want an error naming the flags", files[0], files[1], err)
		}
	}
}

// writePair writes a certificate and key for host as tls.crt and tls.key.
func writePair(t *testing.T, dir, host string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM, err := cert.GenerateSelfSignedCertKey(host, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// servedName is the common name of the certificate cfg serves.
func servedName(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	pair, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	name, _, _ := strings.Cut(leaf.Subject.CommonName, "@") // client-go appends the time
	return name
}
