package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
)

func decodeAll(paths []string) ([]runtime.Object, error) {
	var out []runtime.Object
	dec := serializer.NewCodecFactory(scheme.Scheme).UniversalDeserializer()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		o, _, err := dec.Decode(b, nil, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

const svcYAML = `apiVersion: v1
kind: Service
metadata: {name: %s, namespace: ns, labels: {service.kubernetes.io/service-proxy-name: svctrace}}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}
`

func TestFilesReloadOnChange(t *testing.T) {
	p := filepath.Join(t.TempDir(), "svc.yaml")
	write := func(name string) {
		if err := os.WriteFile(p, []byte(fmt.Sprintf(svcYAML, name)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a")
	f := &Files{Paths: []string{p}, Node: "n", Selector: Selector(false), Load: decodeAll, Poll: 10 * time.Millisecond}
	changed := make(chan Kind, 1)
	if err := f.Start(t.Context(), func(k Kind) {
		select {
		case changed <- k:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	if s := f.Objects().Services; len(s) != 1 || s[0].Name != "a" {
		t.Fatalf("first read: %+v", s)
	}
	time.Sleep(20 * time.Millisecond) // a later modification time
	write("bb")
	<-changed
	if s := f.Objects().Services; len(s) != 1 || s[0].Name != "bb" {
		t.Errorf("after the change: %+v", s)
	}
}

func TestFilesStartFailsOnMissingPath(t *testing.T) {
	f := &Files{Paths: []string{filepath.Join(t.TempDir(), "nope")}, Selector: Selector(true), Load: decodeAll}
	if err := f.Start(t.Context(), func(Kind) {}); err == nil {
		t.Error("a missing -f path must fail at start")
	}
}

// TestFilterKeepsServiceCIDRs: ServiceCIDR objects among the files give
// the prefixes nftables mode drops unallocated ClusterIPs of.
func TestFilterKeepsServiceCIDRs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cidr.yaml")
	doc := "apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: kubernetes}\nspec: {cidrs: [10.96.0.0/16, fd00:96::/108]}\n"
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := decodeAll([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(Filter(raw, "node-a", Selector(false)).ServiceCIDRs); got != "[10.96.0.0/16 fd00:96::/108]" {
		t.Errorf("ServiceCIDRs %s, want [10.96.0.0/16 fd00:96::/108]", got)
	}
}
