package trace

import (
	"fmt"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// diffMessage is the sentence a reader is shown for d: what it means, then
// what was expected and what the node has (with its dump line, for
// iptables).
func diffMessage(d dataplane.Diff) string {
	msg := diffDetail(d)
	if e := expectedText(d); e != "" {
		msg += "; expected: " + e
	}
	switch a := actualText(d); {
	case a == "":
	case d.Where.Mode == dataplane.ModeIPTables:
		msg += fmt.Sprintf("; node has (line %d): %s", d.Where.Line, a)
	default:
		msg += "; node has: " + a
	}
	return msg
}

// diffSubject names d's place as the mode writes it, prefixed with the mode:
// "iptables/TABLE/CHAIN", "nftables/ELEMENT|ENDPOINT|CHAIN", "ipvs/VS[ ->
// RS]".
func diffSubject(d dataplane.Diff) string {
	switch d.Where.Mode {
	case dataplane.ModeIPTables:
		return "iptables/" + d.Where.Table + "/" + d.Where.Chain
	case dataplane.ModeNFTables:
		return "nftables/" + nftables.Place(d.Where)
	case dataplane.ModeIPVS:
		return "ipvs/" + ipvs.Place(d.Where)
	}
	return string(d.Where.Mode)
}
