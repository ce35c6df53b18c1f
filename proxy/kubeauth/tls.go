package kubeauth

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"k8s.io/client-go/util/cert"
)

// ServingTLS is the TLS configuration of a guarded endpoint: the
// certificate and key files when given, read once at start; otherwise a
// self-signed certificate for host (a node name) and ips, made in memory
// at each start, as kube components make one when given none. A client
// cannot verify that one, so it must skip verification (docs/security.md
// says what that costs).
func ServingTLS(certFile, keyFile, host string, ips []net.IP) (*tls.Config, error) {
	var pair tls.Certificate
	var err error
	switch {
	case (certFile == "") != (keyFile == ""):
		return nil, errors.New("give both --tls-cert-file and --tls-private-key-file, or neither for a self-signed certificate")
	case certFile != "":
		if pair, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
			return nil, fmt.Errorf("read --tls-cert-file %s and --tls-private-key-file %s: %w", certFile, keyFile, err)
		}
	default:
		certPEM, keyPEM, err := cert.GenerateSelfSignedCertKey(host, ips, nil)
		if err != nil {
			return nil, fmt.Errorf("make a self-signed serving certificate: %w", err)
		}
		if pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
			return nil, fmt.Errorf("load the self-signed serving certificate: %w", err)
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
