package dns

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

const (
	web    = "web.default.svc.cluster.local."
	webTCP = "_http._tcp.web.default.svc.cluster.local."
)

var (
	v4       = discoveryv1.AddressTypeIPv4
	v6       = discoveryv1.AddressTypeIPv6
	tcp      = corev1.ProtocolTCP
	httpPort = []discoveryv1.EndpointPort{slicePort("http", tcp, 8080)}
)

func TestExpectRecords(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		want     []Record
		notReady []NotReadyAddress
		notes    []string
	}{{
		name: "clusterIP without endpoints still has its A record; only named ports get SRV",
		in: Input{Service: service("web", "default", []string{"10.96.0.20"},
			svcPort("http", tcp, 80), svcPort("", corev1.ProtocolUDP, 53))},
		want: []Record{srvRec(webTCP, web, 80, 100), rec(web, TypeA, "10.96.0.20")},
	}, {
		name: "clusterIP without ports keeps its A record",
		in:   Input{Service: service("web", "default", []string{"10.96.0.20"})},
		want: []Record{rec(web, TypeA, "10.96.0.20")},
	}, {
		name: "dual-stack clusterIP: A and AAAA, one SRV whose weight counts both IPs",
		in:   Input{Service: service("web", "default", []string{"10.96.0.20", "fd00:10:96::20"}, svcPort("http", tcp, 80))},
		want: []Record{srvRec(webTCP, web, 80, 50), rec(web, TypeA, "10.96.0.20"), rec(web, TypeAAAA, "fd00:10:96::20")},
	}, {
		name: "clusterIP with ready endpoints also answers per-endpoint names",
		in: Input{
			Service: service("web", "default", []string{"10.96.0.20"}, svcPort("http", tcp, 80)),
			Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "web-abc", v4, httpPort,
				endpoint("10.244.1.5", yes, "", "web-1"), endpoint("10.244.2.6", no, "", "web-2"))},
		},
		want: []Record{
			rec("10-244-1-5."+web, TypeA, "10.244.1.5"),
			srvRec(webTCP, web, 80, 100),
			rec(web, TypeA, "10.96.0.20"),
		},
		notReady: []NotReadyAddress{{IP: "10.244.2.6", Name: "10-244-2-6." + web, Pod: "web-2"}},
	}, {
		name: "headless with hostname/subdomain pods: names from slice hostnames, else dashed IPs",
		in: Input{
			Service: headless("web", "default", svcPort("http", tcp, 80)),
			Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "web-abc", v4,
				[]discoveryv1.EndpointPort{slicePort("http", tcp, 8080), slicePort("metrics", tcp, 9090)},
				endpoint("10.244.1.5", yes, "web-0", "web-0"),
				endpoint("10.244.1.6", nil, "web-1", "web-1"),
				endpoint("10.244.1.7", yes, "", "other"))},
			Pods: []*corev1.Pod{pod("web-0", "default", "web-0", "web"), pod("web-1", "default", "web-1", "web"), pod("other", "default", "", "")},
		},
		want: []Record{
			rec("10-244-1-7."+web, TypeA, "10.244.1.7"),
			srvRec("_http._tcp."+web, "10-244-1-7."+web, 8080, 33),
			srvRec("_http._tcp."+web, "web-0."+web, 8080, 33),
			srvRec("_http._tcp."+web, "web-1."+web, 8080, 33),
			srvRec("_metrics._tcp."+web, "10-244-1-7."+web, 9090, 33),
			srvRec("_metrics._tcp."+web, "web-0."+web, 9090, 33),
			srvRec("_metrics._tcp."+web, "web-1."+web, 9090, 33),
			rec("web-0."+web, TypeA, "10.244.1.5"),
			rec("web-1."+web, TypeA, "10.244.1.6"),
			rec(web, TypeA, "10.244.1.5"), rec(web, TypeA, "10.244.1.6"), rec(web, TypeA, "10.244.1.7"),
		},
	}, {
		name: "headless dual-stack: one SRV per hostname and port, weight counts both families",
		in: Input{
			Service: headless("web", "default"),
			Slices: []*discoveryv1.EndpointSlice{
				epSlice("web", "default", "web-v4", v4, httpPort, endpoint("10.244.1.5", yes, "web-0", "web-0")),
				epSlice("web", "default", "web-v6", v6, httpPort, endpoint("fd00::5", yes, "web-0", "web-0")),
			},
		},
		want: []Record{
			srvRec(webTCP, "web-0."+web, 8080, 50),
			rec("web-0."+web, TypeA, "10.244.1.5"), rec("web-0."+web, TypeAAAA, "fd00::5"),
			rec(web, TypeA, "10.244.1.5"), rec(web, TypeAAAA, "fd00::5"),
		},
	}, {
		name: "headless IPv6 without hostname: dashes, and a trailing dash gets a 0",
		in: Input{
			Service: headless("web", "default"),
			Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "web-v6", v6, nil,
				endpoint("fd00::", yes, "", ""), endpoint("fd00::7", yes, "", ""))},
		},
		want: []Record{
			rec("fd00--0."+web, TypeAAAA, "fd00::"), rec("fd00--7."+web, TypeAAAA, "fd00::7"),
			rec(web, TypeAAAA, "fd00::"), rec(web, TypeAAAA, "fd00::7"),
		},
	}, {
		name: "headless: not-ready endpoints absent, slices of other services and namespaces ignored",
		in: Input{
			Service: headless("web", "default"),
			Slices: []*discoveryv1.EndpointSlice{
				epSlice("web", "default", "web-abc", v4, httpPort,
					endpoint("10.244.1.5", yes, "web-0", "web-0"), endpoint("10.244.1.6", no, "web-1", "web-1")),
				epSlice("api", "default", "api-abc", v4, httpPort, endpoint("10.244.9.9", yes, "", "")),
				epSlice("web", "prod", "web-xyz", v4, httpPort, endpoint("10.244.8.8", yes, "", "")),
			},
			Pods: []*corev1.Pod{pod("web-1", "default", "web-1", "web")},
		},
		want: []Record{
			srvRec(webTCP, "web-0."+web, 8080, 100),
			rec("web-0."+web, TypeA, "10.244.1.5"),
			rec(web, TypeA, "10.244.1.5"),
		},
		notReady: []NotReadyAddress{{IP: "10.244.1.6", Name: "web-1." + web, Pod: "web-1"}},
		notes:    []string{"pod web-1 is not ready, so web-1.web.default.svc.cluster.local. is not served"},
	}, {
		name: "publishNotReadyAddresses: the controller marks endpoints ready, so they are served",
		in: Input{
			Service: withPublish(headless("web", "default")),
			Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "web-abc", v4, nil,
				endpoint("10.244.1.6", yes, "web-1", "web-1"))},
		},
		want: []Record{rec("web-1."+web, TypeA, "10.244.1.6"), rec(web, TypeA, "10.244.1.6")},
	}, {
		name: "publishNotReadyAddresses with a stale ready=false slice: CoreDNS follows the slice",
		in: Input{
			Service: withPublish(headless("web", "default")),
			Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "web-abc", v4, nil,
				endpoint("10.244.1.6", no, "", ""))},
		},
		notReady: []NotReadyAddress{{IP: "10.244.1.6", Name: "10-244-1-6." + web}},
		notes: []string{
			"publishNotReadyAddresses is true but 1 EndpointSlice address(es) still say ready=false; CoreDNS follows the slice, so they are not served until the EndpointSlice controller updates them",
			"headless service with no ready endpoints: CoreDNS answers NXDOMAIN for " + web,
		},
	}, {
		name: "pods whose hostname the slice lacks, or who are missing from it, are explained",
		in: Input{
			Service: headless("web", "default"),
			Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "web-abc", v4, nil,
				endpoint("10.244.1.5", yes, "", "web-0"))},
			Pods: []*corev1.Pod{pod("web-0", "default", "web-0", "web"), pod("web-9", "default", "web-9", "web"),
				pod("web-8", "default", "", "web"), pod("elsewhere", "prod", "x", "web")},
		},
		want: []Record{rec("10-244-1-5."+web, TypeA, "10.244.1.5"), rec(web, TypeA, "10.244.1.5")},
		notes: []string{
			`pod web-0 asks for web-0.web.default.svc.cluster.local. but its EndpointSlice entry has hostname ""; CoreDNS serves what the slice says`,
			"pod web-9 asks for web-9.web.default.svc.cluster.local. but is in no EndpointSlice of the service (labels vs selector?), so the name does not exist",
			`pod web-8 has subdomain "web" but no spec.hostname, so its endpoint is named by its dashed IP, not by the pod name`,
		},
	}, {
		name: "ExternalName is a CNAME, even with ports",
		in:   Input{Service: externalName("db", "default", "DB.Example.com", svcPort("pg", tcp, 5432))},
		want: []Record{rec("db.default.svc.cluster.local.", TypeCNAME, "db.example.com.")},
	}, {
		name:  "ExternalName holding an IP is not served",
		in:    Input{Service: externalName("db", "default", "192.0.2.10")},
		notes: []string{`spec.externalName "192.0.2.10" is an IP address; CoreDNS only serves a CNAME to a host name, so db.default.svc.cluster.local. is NXDOMAIN`},
	}, {
		name: "custom cluster domain with trailing dot and upper case",
		in:   Input{Service: service("web", "default", []string{"10.96.0.20"}), ClusterDomain: "Corp.Example."},
		want: []Record{rec("web.default.svc.corp.example.", TypeA, "10.96.0.20")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expect(tt.in)
			if err != nil {
				t.Fatalf("Expect: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Records, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.notReady, got.NotReady, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("not ready (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.notes, got.Notes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func withPublish(s *corev1.Service) *corev1.Service {
	s.Spec.PublishNotReadyAddresses = true
	return s
}

func externalName(name, ns, target string, ports ...corev1.ServicePort) *corev1.Service {
	s := service(name, ns, nil, ports...)
	s.Spec.Type = corev1.ServiceTypeExternalName
	s.Spec.ExternalName = target
	return s
}

// TestSRVWeight checks floor(100/N) with a floor of 1 over headless
// endpoint counts, including counts where 100/N is exact.
func TestSRVWeight(t *testing.T) {
	for _, tt := range []struct {
		endpoints int
		weight    uint16
	}{{1, 100}, {2, 50}, {3, 33}, {5, 20}, {7, 14}, {20, 5}, {25, 4}, {50, 2}, {100, 1}, {101, 1}, {150, 1}} {
		t.Run(fmt.Sprint(tt.endpoints), func(t *testing.T) {
			var eps []discoveryv1.Endpoint
			for i := range tt.endpoints {
				eps = append(eps, endpoint(fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), yes, "", ""))
			}
			e, err := Expect(Input{Service: headless("web", "default"),
				Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "s", v4, httpPort, eps...)}})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range e.Records {
				if r.Type != TypeSRV {
					continue
				}
				n++
				if r.Weight != tt.weight {
					t.Fatalf("%s: weight %d, want %d", r, r.Weight, tt.weight)
				}
			}
			if n != tt.endpoints {
				t.Errorf("%d SRV records, want %d", n, tt.endpoints)
			}
		})
	}
}

func TestExpectErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   Input
		want string
	}{
		{"no service", Input{}, "no service given"},
		{"no namespace", Input{Service: service("web", "", nil)}, `service "web" in namespace ""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Expect(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
