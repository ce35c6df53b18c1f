package dns

import (
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// srvEntry is one msg.Service the kubernetes plugin returns for an SRV
// query, before plugin.SRV drops duplicates. Duplicates still count towards
// the weight, which is why a dual-stack ClusterIP port has weight 50.
type srvEntry struct {
	target string
	port   int32
}

// addSRV adds _port._proto names for named ports. Unnamed ports cannot be
// asked for, since the query needs the port name as a label.
func (e *Expectation) addSRV(svc *corev1.Service, eps []endpointAddr) {
	if e.Headless {
		e.addHeadlessSRV(eps)
		return
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == "" || p.Protocol == "" {
			continue
		}
		// One entry per ClusterIP, all with the service as target.
		entries := make([]srvEntry, len(ips))
		for i := range entries {
			entries[i] = srvEntry{target: e.FQDN, port: p.Port}
		}
		e.Records = append(e.Records, srvRecords(e.srvName(p.Name, string(p.Protocol)), entries)...)
	}
}

// addHeadlessSRV pairs every ready address with every matching port of its
// own slice, targeting the per-endpoint name.
func (e *Expectation) addHeadlessSRV(eps []endpointAddr) {
	type key struct{ name, proto string }
	var order []key
	groups := map[key][]srvEntry{}
	for _, ep := range eps {
		if ep.host == "" {
			continue
		}
		for _, p := range ep.ports {
			name, proto := strings.ToLower(deref(p.Name)), ""
			if p.Protocol != nil {
				proto = strings.ToLower(string(*p.Protocol))
			}
			if name == "" || proto == "" {
				continue
			}
			port := int32(-1)
			if p.Port != nil {
				port = *p.Port
			}
			k := key{name, proto}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], srvEntry{target: fqdn(ep.host + "." + e.FQDN), port: port})
		}
	}
	for _, k := range order {
		e.Records = append(e.Records, srvRecords(e.srvName(k.name, k.proto), groups[k])...)
	}
}

func (e *Expectation) srvName(port, proto string) string {
	return fqdn("_" + port + "._" + proto + "." + e.FQDN)
}

// srvRecords follows plugin.SRV: all entries have priority 0 and default
// weight 100, so each gets floor(100*100/(100*N)) = floor(100/N), at least
// 1; port -1 entries (no port declared) count but are not answered.
func srvRecords(name string, entries []srvEntry) []Record {
	// The same float expression as CoreDNS, so rounding agrees exactly.
	w1 := 100.0 / float64(100*len(entries))
	w1 *= 100
	weight := uint16(math.Floor(w1))
	if weight == 0 {
		weight = 1
	}
	var out []Record
	for _, en := range entries {
		if en.port < 0 || en.port > math.MaxUint16 {
			continue
		}
		out = append(out, Record{Name: name, Type: TypeSRV, Value: en.target, TTL: DefaultTTL,
			Port: uint16(en.port), Weight: weight})
	}
	return out
}
