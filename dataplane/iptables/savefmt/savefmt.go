// Package savefmt holds the conventions of iptables-save's text that the
// dump parser (package iptables) and the rule generator (package expected)
// share, so that generated and dumped rules print alike. It is a leaf: the
// iptables mode imports the generator, which cannot import the mode.
package savefmt

import "strings"

// BuiltinChains lists the chains a table has without declaring them, in
// the order iptables-save prints them.
func BuiltinChains(table string) []string {
	switch table {
	case "filter", "security":
		return []string{"INPUT", "FORWARD", "OUTPUT"}
	case "nat":
		return []string{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}
	case "mangle":
		return []string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}
	case "raw":
		return []string{"PREROUTING", "OUTPUT"}
	}
	return nil
}

// Quote renders s as iptables-save prints a string argument
// (xtables_save_string): bare when made only of [A-Za-z0-9_-], otherwise in
// double quotes with ", \ and ' escaped by a backslash. Package expected
// prints its rules with it too, so generated and dumped rules quote alike.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, needsQuote) < 0 {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func needsQuote(r rune) bool {
	return !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
}
