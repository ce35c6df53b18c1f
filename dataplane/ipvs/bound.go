package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// AddressNotBound is the finding for an address kube-proxy should have
// bound to kube-ipvs0 but the node has not: the kernel does not take the
// packet as local, so IPVS never sees it.
const AddressNotBound = "IPVSAddressNotBound"

// ParseBound reads the addresses of kube-ipvs0 from `ip addr show dev
// kube-ipvs0` or `ip -o addr show dev kube-ipvs0` output. The output must
// name kube-ipvs0, so another interface's listing is not taken for it.
func ParseBound(b []byte) ([]netip.Addr, error) {
	var out []netip.Addr
	named := false
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if slices.Contains(f, DummyInterface+":") || slices.Contains(f, DummyInterface) {
			named = true
		}
		at := slices.IndexFunc(f, func(s string) bool { return s == "inet" || s == "inet6" })
		if at < 0 || at+1 >= len(f) {
			continue
		}
		p, err := netip.ParsePrefix(f[at+1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not an address/prefix", i+1, f[at+1])
		}
		out = append(out, p.Addr())
	}
	if !named {
		return nil, fmt.Errorf("no %s in the listing", DummyInterface)
	}
	return out, nil
}

// BindingDrift reports the addresses exp binds to kube-ipvs0 that bound
// lacks. Extra addresses may belong to other Services and are not this
// Service's drift.
func BindingDrift(exp Expected, bound []netip.Addr) []Finding {
	var out []Finding
	for _, a := range exp.Bound {
		if slices.Contains(bound, a) {
			continue
		}
		out = append(out, Finding{
			ID: AddressNotBound, Subject: a.String(), Expected: "bound to " + DummyInterface, Actual: "absent",
			Message: fmt.Sprintf("%s of %s is not bound to %s: the node does not take packets to it as its own, so IPVS never balances them", a, exp.Service, DummyInterface),
		})
	}
	return out
}
