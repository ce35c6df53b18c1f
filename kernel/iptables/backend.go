//go:build linux

package iptables

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// The two iptables backends. A node uses one; rules written through the
// other are invisible to it.
const (
	BackendNFT    = "nf_tables"
	BackendLegacy = "legacy"
)

// DefaultBackend reports the backend the plain "iptables" command uses,
// from "iptables --version" ("iptables v1.8.9 (nf_tables)"; no mode in the
// text means legacy).
func DefaultBackend(ctx context.Context, ex Execer, ipv6 bool) (string, error) {
	name := "iptables"
	if ipv6 {
		name = "ip6tables"
	}
	out, err := ex.Run(ctx, nil, name, "--version")
	if err != nil {
		return "", fmt.Errorf("detect the iptables backend: %w (install the iptables package)", err)
	}
	if bytes.Contains(out, []byte("(nf_tables)")) {
		return BackendNFT, nil
	}
	return BackendLegacy, nil
}

// OtherBackendError is CheckBackend's refusal: the rules sit in the
// other backend.
type OtherBackendError struct{ msg string }

func (e *OtherBackendError) Error() string { return e.msg }

// CheckBackend refuses a backend when chains named with prefix exist only
// in the other backend: whoever wrote them (kube-proxy, kubelet) uses that
// one, and rules written to the wrong one would be ignored by the packets
// that matter. A missing binary of the other backend counts as empty.
func CheckBackend(ctx context.Context, ex Execer, ipv6 bool, backend, prefix string) error {
	other := BackendLegacy
	if backend == BackendLegacy {
		other = BackendNFT
	}
	mine := countChains(ctx, ex, ipv6, backend, prefix)
	theirs := countChains(ctx, ex, ipv6, other, prefix)
	if mine == 0 && theirs > 0 {
		cmd := "iptables"
		if ipv6 {
			cmd = "ip6tables"
		}
		return &OtherBackendError{fmt.Sprintf("%s: %d %s… chains sit in the %s backend but %s uses %s; "+
			"run with the backend the node uses (update-alternatives --set %s /usr/sbin/%s-%s)",
			cmd, theirs, prefix, other, cmd, backend, cmd, cmd, shortName(other))}
	}
	return nil
}

func countChains(ctx context.Context, ex Execer, ipv6 bool, backend, prefix string) int {
	r := newRunner(Options{IPv6: ipv6, Backend: backend, Exec: ex})
	n := 0
	for _, t := range []string{TableNAT, TableFilter} {
		out, err := r.Save(ctx, t, false)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, ":"+prefix) {
				n++
			}
		}
	}
	return n
}

func shortName(backend string) string {
	if backend == BackendNFT {
		return "nft"
	}
	return "legacy"
}
