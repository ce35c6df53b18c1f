package kubeauth

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"k8s.io/client-go/util/cert"
	"k8s.io/klog/v2"
)

// ServingTLS is the TLS configuration of a guarded endpoint: the
// certificate and key files when given, read again when they change (a
// rotated Secret); otherwise a self-signed certificate for host (a node
// name) and ips, made in memory at each start, as kube components make
// one when given none. A client cannot verify that one, so it must skip
// verification (docs/security.md says what that costs).
func ServingTLS(certFile, keyFile, host string, ips []net.IP) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case (certFile == "") != (keyFile == ""):
		return nil, errors.New("give both --tls-cert-file and --tls-private-key-file, or neither for a self-signed certificate")
	case certFile != "":
		files := &certFiles{cert: certFile, key: keyFile, now: time.Now}
		if err := files.load(); err != nil {
			return nil, err
		}
		cfg.GetCertificate = files.get
	default:
		certPEM, keyPEM, err := cert.GenerateSelfSignedCertKey(host, ips, nil)
		if err != nil {
			return nil, fmt.Errorf("make a self-signed serving certificate: %w", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("load the self-signed serving certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// recheck is how often the files are looked at again; a handshake between
// two checks costs nothing.
const recheck = 10 * time.Second

// certFiles serves the pair of files, loaded again when either changes; a
// pair that fails to load keeps the previous one serving.
type certFiles struct {
	cert, key string
	now       func() time.Time

	mu      sync.Mutex
	pair    *tls.Certificate
	stamp   string // sizes and modification times of both files
	checked time.Time
}

func (f *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := f.now(); now.Sub(f.checked) >= recheck {
		f.checked = now
		if f.stampNow() != f.stamp {
			if err := f.loadLocked(); err != nil {
				klog.ErrorS(err, "Keeping the previous serving certificate")
			}
		}
	}
	return f.pair, nil
}

func (f *certFiles) load() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = f.now()
	return f.loadLocked()
}

func (f *certFiles) loadLocked() error {
	stamp := f.stampNow()
	pair, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return fmt.Errorf("read --tls-cert-file %s and --tls-private-key-file %s: %w", f.cert, f.key, err)
	}
	f.pair, f.stamp = &pair, stamp
	return nil
}

func (f *certFiles) stampNow() string {
	s := ""
	for _, p := range []string{f.cert, f.key} {
		if st, err := os.Stat(p); err == nil {
			s += fmt.Sprintf("%d@%d;", st.Size(), st.ModTime().UnixNano())
		}
	}
	return s
}
