package kubeauth

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/cert"
)

// TestCertFilesFollowRotation checks a rotated certificate is served
// within recheck, and a broken rotation keeps the last good one.
func TestCertFilesFollowRotation(t *testing.T) {
	dir := t.TempDir()
	f := &certFiles{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key")}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return clock }
	write := func(host string) {
		certPEM, keyPEM, err := cert.GenerateSelfSignedCertKey(host, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A later modification time, as a Secret's update gives.
		stamp := clock.Add(time.Duration(len(host)) * time.Minute)
		for path, data := range map[string][]byte{f.cert: certPEM, f.key: keyPEM} {
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, stamp, stamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	served := func() string {
		pair, err := f.get(&tls.ClientHelloInfo{})
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
	write("first.example")
	if err := f.load(); err != nil {
		t.Fatal(err)
	}
	write("second.example.org")
	if got := served(); got != "first.example" {
		t.Errorf("before the recheck interval: serving %s; want first.example", got)
	}
	clock = clock.Add(recheck)
	if got := served(); got != "second.example.org" {
		t.Errorf("after rotation and %s: serving %s; want second.example.org", recheck, got)
	}
	if err := os.WriteFile(f.key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(recheck)
	if got := served(); got != "second.example.org" {
		t.Errorf("after a broken rotation: serving %s; want the last good second.example.org", got)
	}
}
