package nftables

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

func to[T any](v T) *T { return &v }

// world is a small cluster: Services with a ClusterIP (and a NodePort when
// nodePort is set) and one EndpointSlice each, labelled for svctrace
// unless added with kube.
type world struct{ objs proxy.Objects }

func (w *world) add(name, ip string, nodePort int32, eps ...string) {
	w.addFor(proxy.ProxyName, name, ip, nodePort, eps...)
}

// addFor adds a Service for the proxy named proxyName ("" is kube-proxy).
func (w *world) addFor(proxyName, name, ip string, nodePort int32, eps ...string) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: proxyLabels(proxyName, nil)},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, NodePort: nodePort, Protocol: corev1.ProtocolTCP}},
		},
	}
	if nodePort != 0 {
		svc.Spec.Type = corev1.ServiceTypeNodePort
	}
	w.objs.Services = append(w.objs.Services, svc)
	w.setEndpoints(name, eps...)
}

func proxyLabels(proxyName string, l map[string]string) map[string]string {
	if l == nil {
		l = map[string]string{}
	}
	if proxyName != "" {
		l[proxy.LabelServiceProxyName] = proxyName
	}
	return l
}

// setEndpoints replaces Service name's slice; the slice carries the
// Service's labels, as the EndpointSlice controller copies them.
func (w *world) setEndpoints(name string, eps ...string) {
	var labels map[string]string
	for _, s := range w.objs.Services {
		if s.Name == name {
			labels = proxyLabels(s.Labels[proxy.LabelServiceProxyName], map[string]string{discoveryv1.LabelServiceName: name})
		}
	}
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name + "-1", Labels: labels},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: to("http"), Port: to(int32(8080)), Protocol: to(corev1.ProtocolTCP)}},
	}
	for _, ip := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: to(true)}})
	}
	for i, old := range w.objs.Slices {
		if old.Name == s.Name {
			w.objs.Slices[i] = s
			return
		}
	}
	w.objs.Slices = append(w.objs.Slices, s)
}

// threeServices are three Services for svctrace and one for kube-proxy.
func threeServices() *world {
	w := &world{objs: proxy.Objects{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}}}
	w.add("web", "10.96.0.10", 30080, "10.244.1.1", "10.244.1.2", "10.244.2.3")
	w.add("api", "10.96.0.11", 0, "10.244.1.4")
	w.add("empty", "10.96.0.12", 0)
	w.addFor("", "kube", "10.96.0.13", 0, "10.244.1.5")
	return w
}

var testNode = dataplane.Node{Name: "node-a", IPs: []netip.Addr{netip.MustParseAddr("192.168.0.2")},
	Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}}

// fakes are knftables.Fakes of both families for layout l, and the mode
// programming them.
type fakes struct {
	layout model.Proxier
	nft    map[knftables.Family]*knftables.Fake
	mode   *Mode
}

func newFakes(l model.Proxier) *fakes {
	f := &fakes{layout: l, nft: map[knftables.Family]*knftables.Fake{}}
	var kernels []Kernel
	for _, fam := range Families {
		fake := knftables.NewFake(fam, l.TableName())
		f.nft[fam] = fake
		kernels = append(kernels, Kernel{Family: fam, NFT: fake, Read: fakeReader(fake, fam)})
	}
	f.mode = NewMode(l, testNode, kernels)
	return f
}

// fakeReader lists a Fake's table as nft would: its objects added to a
// table of the model, as model.RulesetOf reads them.
func fakeReader(fake *knftables.Fake, fam knftables.Family) Reader {
	return func(context.Context) (*model.Table, error) {
		if fake.Table == nil {
			return nil, nil
		}
		rs, err := model.RulesetOf(fam, dataplanetest.KnftablesObjects(fake.Table))
		if err != nil {
			return nil, err
		}
		return rs.Tables[0], nil
	}
}

func (f *fakes) sync(t *testing.T, objs proxy.Objects, full bool) proxy.Report {
	t.Helper()
	rep, err := f.mode.Sync(t.Context(), objs, full, false)
	if err != nil {
		t.Fatalf("sync: %v\ntransaction:\n%s", err, rep.Changes)
	}
	return rep
}

// table is the family's table in the Fake, as the model lists it.
func (f *fakes) table(t *testing.T, fam knftables.Family) *model.Table {
	t.Helper()
	tbl, err := fakeReader(f.nft[fam], fam)(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// checkInSync wants every family's table to be what the layout
// materializes for objs.
func (f *fakes) checkInSync(t *testing.T, objs proxy.Objects) {
	t.Helper()
	for fam := range f.nft {
		w, err := f.mode.Want(objs, fam)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := model.RulesetOf(fam, f.mode.objects(w))
		if err != nil {
			t.Fatal(err)
		}
		got := f.table(t, fam)
		if got == nil {
			t.Fatalf("no %s table in the fake", fam)
		}
		if d := cmp.Diff(rs.Tables[0].Dump(), got.Dump()); d != "" {
			t.Errorf("%s table (-materialized +fake):\n%s", fam, d)
		}
	}
}

// run applies nft commands to a Fake, as a hand would.
func run(t *testing.T, fake *knftables.Fake, edit func(tx *knftables.Transaction)) {
	t.Helper()
	tx := fake.NewTransaction()
	edit(tx)
	if err := fake.Run(t.Context(), tx); err != nil {
		t.Fatalf("edit %s: %v", tx, err)
	}
}

// mentions reports the lines of a transaction that name one of names.
func mentions(tx string, names ...string) []string {
	var out []string
	for _, line := range strings.Split(tx, "\n") {
		for _, n := range names {
			if strings.Contains(line, n) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}
