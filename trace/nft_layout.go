package trace

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// NFTLayoutUnknown is reported when the node's nftables kube-proxy table
// has the layout of no kube-proxy release the trace knows, so only what
// packets meet in it was compared.
const NFTLayoutUnknown = "NFTLayoutUnknown"

// nftLayoutFindings says so when the nftables dump's kube-proxy table (or
// the table of kubectl-svctrace --serve, see nftProxier), of
// the Service's primary family, has no known layout.
func nftLayoutFindings(in Input, node string) []Finding {
	d := in.Dataplane
	if d == nil || d.NFT == nil {
		return nil
	}
	family := nftFamily(familiesInOrder(in.Service)[0])
	table := nftProxier(in, familiesInOrder(in.Service)[0]).TableName()
	if nftables.DetectLayout(d.NFT.Table(family, table)) != nftables.LayoutUnknown {
		return nil
	}
	return []Finding{{ID: NFTLayoutUnknown, Severity: SeverityInfo, Subject: "node/" + node,
		Message: "table " + string(family) + " " + table + " has neither the hairpin-connections set of kube-proxy v1.36 and later nor the mark-for-masquerade chain of v1.29 to v1.35: " +
			"its layout is none the trace knows, so it compared what packets meet (the elements that dispatch them and the endpoints each chain reaches), not the shape of its chains",
		Hint: "the walks follow the node's real rules; `kube-proxy --version` on the node names the release that wrote them"}}
}

// nftProxier is the layout the node's nft ruleset serves the Service in:
// for a Service labelled for kubectl-svctrace --serve, on a node that has
// its table, that table (a node it serves beside kube-proxy); else
// kube-proxy's.
func nftProxier(in Input, family corev1.IPFamily) nftables.Proxier {
	s := nftables.Serve
	if in.Service.Labels[dataplane.LabelServiceProxyName] == s.ProxyName && in.Dataplane.NFT.Table(nftFamily(family), s.TableName()) != nil {
		return s
	}
	return nftables.Proxier{}
}
