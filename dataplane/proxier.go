package dataplane

import (
	"io"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Proxier is one proxy mode: how kube-proxy in that mode turns API objects
// into a node's dataplane, and how to read, judge and walk what a node
// holds. Want is the mode's expected state, Got the state read from a node
// (or made from Want, for a node in sync). The trace holds one adapter over
// it for every mode; `--serve` programs Materialize(Expect(...)) through a
// kernel package and repairs the Diffs of Drift.
//
// Expect is given the objects of every Service it should cover: one
// Service for a trace, all of them for a node to serve. Drift judges only
// what want covers, so a one-Service expectation does not call every other
// Service's rules stale.
type Proxier[Want, Got any] interface {
	Mode() Mode
	// Expect computes what the mode programs on node for objs.
	Expect(node Node, objs Objects) (Want, error)
	// Materialize is the state a node in sync with want holds, in the form
	// Read returns: walked when no dump was given, and what --serve writes.
	Materialize(want Want) (Got, error)
	// Read parses a dump of the node's state (iptables-save, nft -j list
	// ruleset, ipvsadm-save -n).
	Read(r io.Reader) (Got, error)
	// Drift lists how got differs from want, in a stable order.
	Drift(want Want, got Got) []Diff
	// Walk follows p through got, on the node want was computed for.
	Walk(want Want, got Got, p Packet) (Walk, error)
	// Listings are the chains of got that concern want's Services, in the
	// order a packet meets them, each line marked with the diff at its
	// place.
	Listings(want Want, got Got, diffs []Diff) []Listing
}

// Objects are the API objects a mode's expectation is computed from.
type Objects struct {
	Services []*corev1.Service
	Slices   []*discoveryv1.EndpointSlice
	// ServiceCIDRs are the cluster's ServiceCIDRs (networking.k8s.io
	// ServiceCIDR objects); nftables drops traffic to the addresses of
	// them no Service holds. Nil when they were not read.
	ServiceCIDRs []netip.Prefix
}

// Node is what a mode must know of the node whose rules it computes: its
// name, zone and addresses, and kube-proxy's flags there.
type Node struct {
	Name string
	Zone string
	// IPs are the node's addresses, the destinations of its NodePorts.
	IPs []netip.Addr
	// Family is the IP family of the proxier (kube-proxy runs one per
	// family): IPv4 or IPv6.
	Family corev1.IPFamily
	// Local are the node's local addresses where they were read (IPVS
	// binds Service addresses to kube-ipvs0); nil when unknown.
	Local []netip.Addr
	Flags ProxyFlags
}

// ProxyFlags are the kube-proxy flags that shape its rules.
type ProxyFlags struct {
	// ClusterCIDR is --cluster-cidr, the ClusterCIDR local-traffic
	// detector; invalid when none.
	ClusterCIDR netip.Prefix
	// InterfacePrefix and Bridge are the InterfaceNamePrefix and
	// BridgeInterface local-traffic detectors.
	InterfacePrefix, Bridge string
	// MasqueradeAll is --masquerade-all.
	MasqueradeAll bool
	// NFAcct is set when kube-proxy counts packets with nfacct.
	NFAcct bool
	// NodePortAddresses are the addresses kube-proxy accepts NodePorts on
	// when --nodeport-addresses narrows them (iptables mode: KUBE-SERVICES
	// sends only those to KUBE-NODEPORTS); nil for every local address.
	NodePortAddresses []netip.Prefix
	// NoLocalhostNodePorts is --iptables-localhost-nodeports=false with
	// every local address: NodePorts are not accepted on 127.0.0.0/8.
	NoLocalhostNodePorts bool
}

// Labels kube-proxy selects its Services and EndpointSlices by: it lists
// both kinds without either label (cmd/kube-proxy's informer selector).
const (
	// LabelServiceProxyName names another proxy that handles the Service
	// (Cilium, kube-router, ...), whatever its value.
	LabelServiceProxyName = "service.kubernetes.io/service-proxy-name"
	// LabelHeadless is set by the EndpointSlice controller on the slices
	// of a headless Service.
	LabelHeadless = "service.kubernetes.io/headless"
	// ServeProxyName is the LabelServiceProxyName value of the Services
	// `kubectl-svctrace --serve` programs beside kube-proxy, in a layout of
	// its own; the trace judges them against that layout.
	ServeProxyName = "svctrace"
)

// ServedByServe reports whether scoped --serve programs an object with
// these labels (and kube-proxy skips it).
func ServedByServe(labels map[string]string) bool { return ServedBy(labels, ServeProxyName) }

// KubeProxySkips reports whether kube-proxy ignores an object with these
// labels.
func KubeProxySkips(labels map[string]string) bool {
	_, named := labels[LabelServiceProxyName]
	_, headless := labels[LabelHeadless]
	return named || headless
}

// ForKubeProxy splits objs into what kube-proxy reads and the Services it
// skips. A mode's expectation is computed from the first; the second's
// rules, should a node hold any, are stale.
func (o Objects) ForKubeProxy() (served Objects, skipped []*corev1.Service) {
	return o.ForProxy("")
}

// ForProxy splits objs into what the proxy named name reads (its
// service-proxy-name label value; "" is kube-proxy, which reads the
// objects without the label) and the Services it skips. Headless objects
// are skipped by every proxy.
func (o Objects) ForProxy(name string) (served Objects, skipped []*corev1.Service) {
	served.ServiceCIDRs = o.ServiceCIDRs
	for _, s := range o.Services {
		if ServedBy(s.Labels, name) {
			served.Services = append(served.Services, s)
		} else {
			skipped = append(skipped, s)
		}
	}
	for _, s := range o.Slices {
		if ServedBy(s.Labels, name) {
			served.Slices = append(served.Slices, s)
		}
	}
	return served, skipped
}

// ServedBy reports whether the proxy named name (see ForProxy) serves an
// object with these labels.
func ServedBy(labels map[string]string, name string) bool {
	if _, headless := labels[LabelHeadless]; headless {
		return false
	}
	v, named := labels[LabelServiceProxyName]
	if name == "" {
		return !named
	}
	return named && v == name
}

// StaleProxyRules is the kind of difference, in every mode, for what a
// node holds for a Service nothing is expected for.
const StaleProxyRules DiffKind = "StaleProxyRules"
