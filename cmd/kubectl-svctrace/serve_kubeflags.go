package main

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// kube-proxy's flags that --serve takes beyond the basics, and how they
// are checked.

// conntrackFlags are kube-proxy's --conntrack-* flags: the node's
// connection-tracking limits it sets at start, when replacing it.
type conntrackFlags struct {
	maxPerCore, min              int
	tcpEstablished, tcpCloseWait time.Duration
}

// checkNodePortAddresses takes what kube-proxy's --nodeport-addresses
// takes (CIDRs, or "primary" alone), in the modes that implement it.
func (s *serveOptions) checkNodePortAddresses() error {
	a := s.nodePortAddresses
	if len(a) == 0 {
		return nil
	}
	if slices.Contains(a, "primary") {
		if len(a) > 1 {
			return errors.New(`--nodeport-addresses: give "primary" alone or a list of CIDRs, as kube-proxy takes`)
		}
	} else {
		for _, c := range a {
			if _, err := netip.ParsePrefix(c); err != nil {
				return fmt.Errorf("--nodeport-addresses: %q is no CIDR (such as 10.0.0.0/8) and not \"primary\"", c)
			}
		}
	}
	if s.mode == "ipvs" {
		return errors.New("--nodeport-addresses is implemented in iptables and nftables mode; ipvs mode creates NodePort virtual servers on every local address, kube-proxy's default")
	}
	return nil
}

// excludeCIDRs parses --ipvs-exclude-cidrs, an IPVS mode flag.
func (s *serveOptions) excludeCIDRs() ([]netip.Prefix, error) {
	if len(s.ipvsExclude) > 0 && s.mode != "ipvs" {
		return nil, fmt.Errorf("--ipvs-exclude-cidrs is for --proxy-mode ipvs, not %s", s.mode)
	}
	var out []netip.Prefix
	for _, c := range s.ipvsExclude {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("--ipvs-exclude-cidrs: %q is no CIDR (such as 10.100.0.0/16)", c)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// nodePortCIDRs are the --nodeport-addresses CIDRs (none for "primary").
func (s *serveOptions) nodePortCIDRs() []netip.Prefix {
	var out []netip.Prefix
	for _, c := range s.nodePortAddresses {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// localhostNodePortsOn says whether IPv4 NodePorts are accepted on
// 127.0.0.0/8: --iptables-localhost-nodeports, and --nodeport-addresses
// unset or holding loopback (kube-proxy's ContainsIPv4Loopback).
func (s *serveOptions) localhostNodePortsOn() bool {
	if !s.localhostNodePorts {
		return false
	}
	if len(s.nodePortAddresses) == 0 {
		return true
	}
	var v4 []netip.Prefix
	for _, p := range s.nodePortCIDRs() {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		}
	}
	if len(v4) == 0 && !slices.Contains(s.nodePortAddresses, "primary") {
		return true // no IPv4 CIDR: every IPv4 address, loopback included
	}
	return slices.ContainsFunc(v4, func(p netip.Prefix) bool { return p.Contains(netip.MustParseAddr("127.0.0.1")) })
}
