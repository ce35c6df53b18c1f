package snapshot

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// FilterIPVS keeps the virtual servers at the Service's addresses or node
// ports.
func FilterIPVS(t ipvs.Table, f *Filter) ipvs.Table {
	var out ipvs.Table
	for _, vs := range t.VirtualServers {
		if vs.FWMark != 0 || f.hasAddr(vs.Address) || f.hasPort(uint64(vs.Port)) {
			out.VirtualServers = append(out.VirtualServers, vs)
		}
	}
	return out
}

// FilterConntrack keeps the lines of `conntrack -L` output whose original
// destination is one of the Service's addresses or node ports, and any line
// that is not a flow (conntrack's own messages).
func FilterConntrack(text string, f *Filter) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if keepFlow(line, f) {
			b.WriteString(line)
		}
	}
	return b.String()
}

func keepFlow(line string, f *Filter) bool {
	fields := strings.Fields(line)
	dst, dport, flow := "", "", false
	for _, fl := range fields {
		k, v, ok := strings.Cut(fl, "=")
		if !ok {
			continue
		}
		flow = true
		// The first dst= and dport= are the original direction's.
		switch {
		case k == "dst" && dst == "":
			dst = v
		case k == "dport" && dport == "":
			dport = v
		}
	}
	if !flow {
		return true
	}
	if ip, err := netip.ParseAddr(dst); err == nil && f.hasAddr(ip) {
		return true
	}
	p, err := strconv.ParseUint(dport, 10, 16)
	return err == nil && f.hasPort(p)
}

// FilterMetrics keeps kube-proxy's own metrics (kubeproxy_*) and their
// HELP and TYPE lines; Go runtime and process metrics are left out.
func FilterMetrics(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		name := line
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name = rest
		} else if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name = rest
		}
		if strings.HasPrefix(name, "kubeproxy_") {
			b.WriteString(line)
		}
	}
	return b.String()
}
