package source

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// parseIPTables reads an iptables-save or ip6tables-save dump into d. A
// dual-stack node has one of each; two dumps of one family (read from
// their rules' addresses) are refused, since one would hide the other.
func parseIPTables(kind DumpKind, name string, b []byte, d *trace.DataplaneInput) error {
	dump, err := iptables.Read(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %w (expected the output of %s)", name, err, dumpCommand[kind])
	}
	at := savedAt(b)
	_, v6 := iptables.InferFlags(dump)
	switch {
	case kind == IP6TablesSave && d.IPTables != nil && isIPv6Dump(d.IPTables):
		return fmt.Errorf("%s %s and --iptables-save %s both hold IPv6 rules; pass the node's iptables-save (IPv4) with --iptables-save", kind, name, d.IPTablesName)
	case kind == IP6TablesSave && !v6 && hasIPv4Destination(dump):
		return fmt.Errorf("%s %s holds IPv4 rules; pass it with --iptables-save and the node's ip6tables-save with --ip6tables-save", kind, name)
	case kind == IPTablesSave && v6 && d.IPTables6 != nil:
		return fmt.Errorf("%s %s and --ip6tables-save %s both hold IPv6 rules; pass the node's iptables-save (IPv4) with --iptables-save", kind, name, d.IPTables6Name)
	case kind == IP6TablesSave:
		d.IPTables6, d.IPTables6Name, d.IPTables6SavedAt = dump, name, at
	default:
		d.IPTables, d.IPTablesName, d.IPTablesSavedAt = dump, name, at
	}
	if when, ok := headerTime(at); ok && d.SavedAt.IsZero() {
		d.SavedAt, d.SavedAtGuessed = when, true
	}
	return nil
}

func isIPv6Dump(d *iptables.Dump) bool {
	_, v6 := iptables.InferFlags(d)
	return v6
}

// hasIPv4Destination reports whether a rule of kube-proxy's chains matches
// an IPv4 destination: what no ip6tables-save can hold.
func hasIPv4Destination(d *iptables.Dump) bool {
	for _, t := range d.Tables {
		for _, c := range t.Chains {
			if !strings.HasPrefix(c.Name, "KUBE-") {
				continue
			}
			for _, r := range c.Rules {
				if p := r.Destination.Prefix; p.IsValid() && p.Addr().Is4() {
					return true
				}
			}
		}
	}
	return false
}
