// Package demo embeds a snapshot of a small cluster so the tool can show a
// real trace on a machine without one: the API objects, and node-1's rules
// as real kube-proxy v1.37.2 programmed them in iptables and in nftables
// mode (hack/capture-demo-dumps.sh captures them again).
package demo

import (
	"bytes"
	_ "embed"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

var (
	//go:embed hostnames.yaml
	hostnamesYAML []byte
	//go:embed node-1.iptables-save
	iptablesSave []byte
	//go:embed node-1.nft.json
	nftJSON []byte
)

// The Service the demo traces, and the node whose rules it carries.
const (
	Namespace = "default"
	Service   = "hostnames"
	Node      = "node-1"
)

// Objects decodes the demo cluster.
func Objects() ([]runtime.Object, error) {
	return source.Decode("demo/hostnames.yaml", bytes.NewReader(hostnamesYAML))
}

// Dataplane parses node-1's dumps into d: the iptables-save output and,
// when nft is set, the nftables ruleset instead.
func Dataplane(d *trace.DataplaneInput, nft bool) error {
	if d.Node == "" {
		d.Node = Node
	}
	if nft {
		return source.ParseDump(source.NFTJSON, "demo/node-1.nft.json", nftJSON, d)
	}
	return source.ParseDump(source.IPTablesSave, "demo/node-1.iptables-save", iptablesSave, d)
}
