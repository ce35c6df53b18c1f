package nftables

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/internal/golden"
)

const testNode = "node-1"

func loadJSON(t testing.TB, name string) *Ruleset {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := ParseJSON(f)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return rs
}

func parseJSONString(t testing.TB, in string) *Ruleset {
	t.Helper()
	rs, err := ParseJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// punchHole removes the element for the numgen value key from the inline
// map of every numgen dnat or vmap rule in chain of kube-proxy's ip table.
func punchHole(t testing.TB, rs *Ruleset, chain, key string) *Ruleset {
	t.Helper()
	if n := punchTableHole(rs.KubeProxy("ip"), chain, key); n == 0 {
		t.Fatalf("chain %s has no numgen map element %s", chain, key)
	}
	return rs
}

// punchTableHole is punchHole on one table; it returns how many elements
// it removed.
func punchTableHole(tbl *Table, chain, key string) int {
	c := tbl.Chain(chain)
	if c == nil {
		return 0
	}
	removed := 0
	cut := func(data Expr) Expr {
		m, ok := data.(AnonMap)
		if !ok {
			return data
		}
		n := len(m)
		m = slices.DeleteFunc(slices.Clone(m), func(e MapElem) bool { return e.Key.String() == key })
		removed += n - len(m)
		return m
	}
	for _, r := range c.Rules {
		for i, st := range r.Stmts {
			switch st := st.(type) {
			case VMap:
				st.Data = cut(st.Data)
				r.Stmts[i] = st
			case NAT:
				if ml, ok := st.Addr.(MapLookup); ok {
					ml.Data = cut(ml.Data)
					st.Addr = ml
					r.Stmts[i] = st
				}
			}
		}
	}
	return removed
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), []byte(got))
}

func svc(ns, name string, mod func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{{Name: "p80", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
		},
	}
	mod(s)
	if s.Spec.ClusterIPs == nil {
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
	return s
}

type ep struct {
	ip, node string
	ready    bool
}

func slice(ns, svcName, port string, proto corev1.Protocol, num int32, eps ...ep) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svcName + "-abc", Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(port), Port: ptr.To(num), Protocol: ptr.To(proto)}},
	}
	if len(eps) > 0 && netip.MustParseAddr(eps[0].ip).Is6() {
		es.AddressType = discoveryv1.AddressTypeIPv6
	}
	for _, e := range eps {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{e.ip},
			NodeName:   ptr.To(e.node),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(e.ready), Serving: ptr.To(e.ready)},
		})
	}
	return es
}

// fixtureServices are the Services and EndpointSlices behind testdata/v137.*
// and testdata/legacy.* (ns2, ns5 only exist in the v1.37 file).
func fixtureServices() map[string]struct {
	svc *corev1.Service
	eps []*discoveryv1.EndpointSlice
} {
	type pair = struct {
		svc *corev1.Service
		eps []*discoveryv1.EndpointSlice
	}
	return map[string]pair{
		"ns1/svc1": {svc("ns1", "svc1", func(s *corev1.Service) { s.Spec.ClusterIP = "172.30.0.41" }),
			[]*discoveryv1.EndpointSlice{slice("ns1", "svc1", "p80", corev1.ProtocolTCP, 80, ep{"10.180.0.1", testNode, true})}},
		"ns2/svc2": {svc("ns2", "svc2", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.ClusterIP = "172.30.0.42"
			s.Spec.Ports[0].NodePort = 3001
			s.Spec.ExternalIPs = []string{"192.168.99.22"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}
		}), []*discoveryv1.EndpointSlice{slice("ns2", "svc2", "p80", corev1.ProtocolTCP, 80, ep{"10.180.0.2", "other-node", true})}},
		"ns4/svc4": {svc("ns4", "svc4", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ClusterIP = "172.30.0.44"
			s.Spec.ExternalIPs = []string{"192.168.99.33"}
		}), []*discoveryv1.EndpointSlice{slice("ns4", "svc4", "p80", corev1.ProtocolTCP, 80,
			ep{"10.180.0.4", "other-node", true}, ep{"10.180.0.5", testNode, true}, ep{"10.180.0.6", testNode, false})}},
		"ns5/svc5": {svc("ns5", "svc5", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ClusterIP = "172.30.0.45"
			s.Spec.Ports[0].NodePort = 3002
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "5.6.7.8"}}
			s.Spec.LoadBalancerSourceRanges = []string{" 203.0.113.0/25"}
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		}), []*discoveryv1.EndpointSlice{slice("ns5", "svc5", "p80", corev1.ProtocolTCP, 80, ep{"10.180.0.3", testNode, true})}},
		"ns6/svc6": {svc("ns6", "svc6", func(s *corev1.Service) { s.Spec.ClusterIP = "172.30.0.46" }), nil},
		"ns7/svc7": {svc("ns7", "svc7", func(s *corev1.Service) {
			s.Spec.ClusterIP = "172.30.0.47"
			s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}
		}), []*discoveryv1.EndpointSlice{slice("ns7", "svc7", "dns", corev1.ProtocolUDP, 53,
			ep{"10.180.0.9", "other-node", true}, ep{"10.180.0.7", "other-node", true}, ep{"10.180.0.8", "other-node", true})}},
	}
}

func elementKey(k ...string) knftables.Element { return knftables.Element{Key: k} }

type corev1Service = corev1.Service

type knftablesElement = knftables.Element
