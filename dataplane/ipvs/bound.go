package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// AddressNotBound is the finding for an address kube-proxy should have
// bound to kube-ipvs0 that is no local address of the node: the kernel does
// not take the packet as its own, so IPVS never sees it.
const AddressNotBound dataplane.DiffKind = "IPVSAddressNotBound"

// ParseLocal reads the node's local addresses from `ip addr show` or `ip -o
// addr show` output. All interfaces count: kube-proxy binds a Service
// address to kube-ipvs0 unless another interface already has it, and
// either way the node takes the packet as its own.
func ParseLocal(b []byte) ([]netip.Addr, error) {
	var out []netip.Addr
	interfaces := 0
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasSuffix(f[0], ":") && isIndex(strings.TrimSuffix(f[0], ":")) {
			interfaces++
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
	if interfaces == 0 {
		return nil, fmt.Errorf("no interface in the listing")
	}
	return out, nil
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// BindingDrift reports the addresses exp binds to kube-ipvs0 that are not
// among the node's local addresses. Extra addresses may belong to other
// Services and are not this Service's drift.
func BindingDrift(exp Expected, local []netip.Addr) []dataplane.Diff {
	var out []dataplane.Diff
	for _, a := range exp.Bound {
		if slices.Contains(local, a) {
			continue
		}
		out = append(out, dataplane.Diff{
			Kind: AddressNotBound, Where: dataplane.Locator{Mode: dataplane.ModeIPVS, Address: a},
			Service: exp.Service,
		})
	}
	return out
}
