package iptables

import (
	"net/netip"
	"sort"
	"strings"
)

// ruleKey renders what a rule does with the details kube-proxy does not
// care about removed: comments, statistic probabilities (compared
// separately, numerically), match order and address spelling. Jump targets
// are passed through rename so chains can be compared across dumps whose
// hashes differ.
func ruleKey(r *Rule, rename func(string) string) string {
	parts := make([]string, 0, 8)
	add := func(flag string, present bool, value string, negated bool) {
		if !present {
			return
		}
		if negated {
			flag = "! " + flag
		}
		parts = append(parts, flag+" "+value)
	}
	add("-s", r.Source.IsSet(), r.Source.Prefix.String(), r.Source.Negated)
	add("-d", r.Destination.IsSet(), r.Destination.Prefix.String(), r.Destination.Negated)
	add("-p", r.Protocol.IsSet(), r.Protocol.Value, r.Protocol.Negated)
	add("-i", r.InInterface.IsSet(), r.InInterface.Value, r.InInterface.Negated)
	add("-o", r.OutInterface.IsSet(), r.OutInterface.Value, r.OutInterface.Negated)
	for _, m := range r.Matches {
		switch m := m.(type) {
		case *CommentMatch, *StatisticMatch:
		case *PortMatch:
			add("--sport", m.SPort.Set, m.SPort.String(), m.SPort.Negated)
			add("--dport", m.DPort.Set, m.DPort.String(), m.DPort.Negated)
		case *RecentMatch:
			// An all-ones mask is the default the restore input leaves out.
			c := *m
			if a, err := netip.ParseAddr(c.Mask); err == nil && isAllOnes(a) {
				c.Mask = ""
			}
			parts = append(parts, c.String())
		case *ConntrackMatch:
			states := append([]string(nil), m.States...)
			sort.Strings(states)
			add("--ctstate", true, strings.Join(states, ","), m.Negated)
		default:
			parts = append(parts, m.String())
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ") + " " + targetKey(r.Target, rename)
}

func targetKey(t Target, rename func(string) string) string {
	name := t.Name
	if rename != nil {
		name = rename(name)
	}
	s := "-j " + name
	if t.Goto {
		s = "-g " + name
	}
	switch t.Name {
	case "DNAT":
		s += " " + t.ToDestination
	case "MARK":
		s += " " + t.Mark.String()
	case "REJECT":
		// iptables-save prints the default the restore input leaves out.
		if w := t.RejectWith; w != "" && w != "icmp-port-unreachable" && w != "icmp6-port-unreachable" {
			s += " " + w
		}
	}
	if t.RandomFully {
		s += " --random-fully"
	}
	for _, o := range t.Options {
		s += " " + o.String()
	}
	return s
}

func isAllOnes(a netip.Addr) bool {
	for _, b := range a.AsSlice() {
		if b != 0xff {
			return false
		}
	}
	return true
}
