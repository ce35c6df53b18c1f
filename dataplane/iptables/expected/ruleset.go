package expected

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Table names.
const (
	TableFilter = "filter"
	TableNAT    = "nat"
	TableMangle = "mangle"
)

// Rule is one "-A" line. Spec is the text after "-A <Chain> " exactly as
// kube-proxy writes it into iptables-restore input, comments quoted where
// kube-proxy quotes them.
type Rule struct {
	Table string
	Chain string
	Spec  string
}

// String returns the restore-input line "-A <Chain> <Spec>".
func (r Rule) String() string {
	if r.Spec == "" {
		return "-A " + r.Chain
	}
	return "-A " + r.Chain + " " + r.Spec
}

// Args splits Spec into command-line arguments the way iptables-restore
// does, removing the quotes.
func (r Rule) Args() []string { return splitArgs(r.Spec) }

// ChainRef names a chain in a table.
type ChainRef struct{ Table, Chain string }

// Ruleset is everything kube-proxy installs for one IP family.
type Ruleset struct {
	Family corev1.IPFamily
	// FilterChains and NATChains are the chains declared in the restore
	// input, in kube-proxy's order; Filter and NAT are its rules, in order.
	FilterChains, NATChains []string
	Filter, NAT             []Rule
	// Jumps are the rules kube-proxy adds to built-in chains (and
	// KUBE-FIREWALL, on kubelet's behalf) with "iptables -I", in the order
	// it ensures them. Each is inserted at the top of its chain, so on a
	// fresh node they end up in reverse order.
	Jumps []Rule
	// EnsuredChains are the chains kube-proxy creates outside the restore
	// input, in order: the jump targets and the KUBE-PROXY-CANARY chains
	// its iptables monitor watches.
	EnsuredChains []ChainRef
	// Services lists every service port, sorted by namespace, name, port
	// name and protocol.
	Services []*ServicePort
	// LargeCluster is kube-proxy's large-cluster mode (more than 1000
	// endpoints): endpoint rules carry no comments.
	LargeCluster bool
	// Warnings name the input kube-proxy would have ignored or logged.
	Warnings []string
	// Parts, Head and Tail are set by Cache.Generate: NAT and Filter are
	// Head's rules, each Service's part's in Parts' order, then Tail's.
	// Head also lists the shared chains NATChains declares first. With
	// Cache.PartsOnly, NAT, Filter and NATChains are left empty: use Flat
	// before reading them, or the methods below.
	Parts      []*Part
	Head, Tail *Part

	byKey map[portKey]*ServicePort
}

// ServicePort returns the service port with that namespace, service name,
// port name ("" for an unnamed port) and protocol, or nil.
func (rs *Ruleset) ServicePort(namespace, name, port string, protocol corev1.Protocol) *ServicePort {
	return rs.byKey[portKey{namespace, name, port, protocol}]
}

// RestoreInput returns the iptables-restore text of a full sync: *filter
// then *nat, chain declarations, rules and COMMIT, like kube-proxy writes it
// (kube-proxy adds "-X" lines for stale chains it finds on the node).
func (rs *Ruleset) RestoreInput() string {
	var b strings.Builder
	n := 64
	for _, r := range rs.Filter {
		n += len(r.Chain) + len(r.Spec) + 5
	}
	for _, r := range rs.NAT {
		n += len(r.Chain) + len(r.Spec) + 5
	}
	b.Grow(n + 32*(len(rs.FilterChains)+len(rs.NATChains)))
	writeTable(&b, TableFilter, rs.FilterChains, rs.Filter)
	writeTable(&b, TableNAT, rs.NATChains, rs.NAT)
	return b.String()
}

func writeTable(b *strings.Builder, table string, chains []string, rules []Rule) {
	b.WriteString("*" + table + "\n")
	for _, c := range chains {
		b.WriteString(":")
		b.WriteString(c)
		b.WriteString(" - [0:0]\n")
	}
	for _, r := range rules {
		b.WriteString("-A ")
		b.WriteString(r.Chain)
		if r.Spec != "" {
			b.WriteByte(' ')
			b.WriteString(r.Spec)
		}
		b.WriteByte('\n')
	}
	b.WriteString("COMMIT\n")
}

// splitArgs tokenises like iptables-restore: whitespace separates
// arguments, double quotes group them and a backslash escapes the next
// character inside quotes. Unquoted arguments share the input's memory.
func splitArgs(s string) []string {
	out := make([]string, 0, 16)
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		start, plain := i, true
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			if s[i] == '"' {
				plain = false
				break
			}
			i++
		}
		if plain {
			out = append(out, s[start:i])
			continue
		}
		var tok []byte
		tok, i = quotedArg(s, start)
		out = append(out, string(tok))
	}
	return out
}

// quotedArg reads one argument containing quotes, starting at i, and
// returns it with the quoting removed and the index after it.
func quotedArg(s string, i int) ([]byte, int) {
	var tok []byte
	inQuote := false
	for ; i < len(s); i++ {
		ch := s[i]
		switch {
		case inQuote && ch == '\\' && i+1 < len(s):
			i++
			tok = append(tok, s[i])
		case ch == '"':
			inQuote = !inQuote
		case !inQuote && (ch == ' ' || ch == '\t'):
			return tok, i
		default:
			tok = append(tok, ch)
		}
	}
	return tok, i
}
