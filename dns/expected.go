package dns

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Input is everything Expect needs about one Service.
type Input struct {
	Service *corev1.Service
	// Slices may hold slices of other Services; only those labelled
	// kubernetes.io/service-name=<Service> in its namespace are used, as
	// CoreDNS indexes them.
	Slices []*discoveryv1.EndpointSlice
	// Pods are only used to explain missing per-pod names (hostname and
	// subdomain); CoreDNS itself reads hostnames from the EndpointSlices.
	Pods []*corev1.Pod
	// ClusterDomain is the kubernetes plugin's zone; DefaultClusterDomain when empty.
	ClusterDomain string
}

// NotReadyAddress is an endpoint address CoreDNS must not serve because its
// EndpointSlice condition says ready=false.
type NotReadyAddress struct {
	IP string
	// Name is the per-endpoint name the address would have had.
	Name string
	// Pod is the endpoint's targetRef name, empty when it has none.
	Pod string
}

// Expectation is what the kubernetes plugin serves for one Service.
type Expectation struct {
	Service  string // "namespace/name"
	Zone     string // cluster domain without trailing dot
	FQDN     string // name.namespace.svc.zone.
	Headless bool
	// ExternalName is the CNAME target for type ExternalName, else empty.
	ExternalName string
	// PublishNotReady mirrors spec.publishNotReadyAddresses.
	PublishNotReady bool
	// Records is sorted; names not listed here are NXDOMAIN for this Service.
	Records []Record
	// NotReady lists addresses deliberately absent from Records.
	NotReady []NotReadyAddress
	// Notes explain records that a reader might expect but CoreDNS does not serve.
	Notes []string
}

// Expect computes the records CoreDNS's kubernetes plugin answers for
// in.Service with its default options (no endpoint_pod_names, no zonal,
// pods disabled, ttl 5). It does no I/O and never panics on odd input: a
// missing Service is an error, unparseable addresses are skipped.
func Expect(in Input) (*Expectation, error) {
	svc := in.Service
	if svc == nil {
		return nil, errors.New("no service given to compute DNS records for")
	}
	if svc.Name == "" || svc.Namespace == "" {
		return nil, fmt.Errorf("service %q in namespace %q: name and namespace are both required to name its DNS records", svc.Name, svc.Namespace)
	}
	zone := strings.TrimSuffix(strings.ToLower(in.ClusterDomain), ".")
	if zone == "" {
		zone = DefaultClusterDomain
	}
	e := &Expectation{
		Service:         svc.Namespace + "/" + svc.Name,
		Zone:            zone,
		FQDN:            fqdn(svc.Name + "." + svc.Namespace + ".svc." + zone),
		PublishNotReady: svc.Spec.PublishNotReadyAddresses,
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		e.expectExternalName(svc.Spec.ExternalName)
		return e, nil
	}
	e.Headless = isHeadless(svc)
	eps := e.collectEndpoints(svc, in.Slices)
	if e.Headless {
		e.addEndpointAddrs(e.FQDN, eps)
		if len(eps) == 0 {
			e.Notes = append(e.Notes, "headless service with no ready endpoints: CoreDNS answers NXDOMAIN for "+e.FQDN)
		}
	} else {
		e.addClusterIPs(svc)
	}
	e.addEndpointNames(eps)
	e.addSRV(svc, eps)
	e.explainPods(svc, in.Pods, in.Slices)
	e.Records = dedupRecords(e.Records)
	return e, nil
}

// isHeadless follows object.Service.Headless: the first ClusterIP decides.
func isHeadless(svc *corev1.Service) bool {
	if len(svc.Spec.ClusterIPs) > 0 {
		return svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone
	}
	return svc.Spec.ClusterIP == corev1.ClusterIPNone
}

func (e *Expectation) expectExternalName(target string) {
	target = strings.TrimSpace(target)
	switch {
	case target == "":
		e.Notes = append(e.Notes, "spec.externalName is empty, so CoreDNS answers NXDOMAIN for "+e.FQDN)
	case isIP(target):
		// msg.Service.HostType sees an address, not a CNAME, and findServices
		// only answers ExternalName services whose host is a name.
		e.Notes = append(e.Notes, fmt.Sprintf("spec.externalName %q is an IP address; CoreDNS only serves a CNAME to a host name, so %s is NXDOMAIN", target, e.FQDN))
	default:
		e.ExternalName = fqdn(target)
		e.Records = append(e.Records, Record{Name: e.FQDN, Type: TypeCNAME, Value: e.ExternalName, TTL: DefaultTTL})
	}
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// addClusterIPs adds one A/AAAA per ClusterIP. CoreDNS answers these even
// without endpoints or ports (it adds a port -1 sentinel).
func (e *Expectation) addClusterIPs(svc *corev1.Service) {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if r, ok := addrRecord(e.FQDN, ip); ok {
			e.Records = append(e.Records, r)
			continue
		}
		e.Notes = append(e.Notes, fmt.Sprintf("clusterIP %q is not an address; CoreDNS serves no A/AAAA for it", ip))
	}
}

func (e *Expectation) addEndpointAddrs(name string, eps []endpointAddr) {
	for _, ep := range eps {
		if r, ok := addrRecord(name, ep.ip); ok {
			e.Records = append(e.Records, r)
		}
	}
}

// addEndpointNames adds <host>.<service> names. findServices answers them for
// any Service with endpoints, not only headless ones: the branch is
// "svc.Headless() || r.endpoint != \"\"".
func (e *Expectation) addEndpointNames(eps []endpointAddr) {
	for _, ep := range eps {
		if ep.host == "" {
			continue
		}
		if r, ok := addrRecord(fqdn(ep.host+"."+e.FQDN), ep.ip); ok {
			e.Records = append(e.Records, r)
		}
	}
}

// dedupRecords sorts and drops exact duplicates: CoreDNS's A/AAAA answers
// keep one record per address, its SRV answers one per target and port.
func dedupRecords(rs []Record) []Record {
	sortRecords(rs)
	return slices.Compact(rs)
}
