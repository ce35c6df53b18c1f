package expected

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/savefmt"
)

// saveMatch prints one match as its libxt_* save function does.
func saveMatch(b *strings.Builder, m match, v6 bool) error {
	b.WriteString(" -m ")
	b.WriteString(m.name)
	switch m.name {
	case "comment":
		for _, o := range m.opts {
			if o.name != "comment" || len(o.values) != 1 {
				return fmt.Errorf("comment match: unexpected --%s", o.name)
			}
			b.WriteString(" --comment ")
			b.WriteString(savefmt.Quote(o.values[0]))
		}
	case "tcp", "udp", "sctp":
		writeOpts(b, ordered(m.opts, "source-port", "sport", "destination-port", "dport"))
	case "addrtype":
		writeOpts(b, ordered(m.opts, "src-type", "dst-type", "limit-iface-in", "limit-iface-out"))
	case "conntrack":
		return saveConntrack(b, m.opts)
	case "statistic":
		for _, o := range m.opts {
			if o.name == "probability" && len(o.values) == 1 {
				p, err := saveProbability(o.values[0])
				if err != nil {
					return err
				}
				o.values = []string{p}
			}
			writeOpts(b, []option{o})
		}
	case "recent":
		saveRecent(b, m.opts, v6)
	case "nfacct":
		// libxt_nfacct prints " --nfacct-name " and then the name through
		// xtables_save_string, which adds its own leading space: two spaces
		// on a real node (iptables 1.8.9).
		for _, o := range m.opts {
			if o.name != "nfacct-name" || len(o.values) != 1 {
				return fmt.Errorf("nfacct match: unexpected --%s", o.name)
			}
			b.WriteString(" --nfacct-name  ")
			b.WriteString(savefmt.Quote(o.values[0]))
		}
	case "mark":
		for _, o := range m.opts {
			if o.name != "mark" || len(o.values) != 1 {
				return fmt.Errorf("mark match: unexpected --%s", o.name)
			}
			v, mask, err := parseMarkMask(o.values[0])
			if err != nil {
				return err
			}
			if o.neg {
				b.WriteString(" !")
			}
			if mask == 0xffffffff {
				fmt.Fprintf(b, " --mark 0x%x", v)
			} else {
				fmt.Fprintf(b, " --mark 0x%x/0x%x", v, mask)
			}
		}
	default:
		writeOpts(b, m.opts)
	}
	return nil
}

// ordered returns opts sorted into the order of names; the long and short
// spelling of one option sit next to each other in names.
func ordered(opts []option, names ...string) []option {
	out := make([]option, 0, len(opts))
	for _, n := range names {
		for _, o := range opts {
			if o.name == n {
				switch n {
				case "source-port":
					o.name = "sport"
				case "destination-port":
					o.name = "dport"
				}
				out = append(out, o)
			}
		}
	}
	return out
}

// conntrackStates is the order libxt_conntrack prints state names in.
var conntrackStates = []string{"INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"}

func saveConntrack(b *strings.Builder, opts []option) error {
	for _, o := range opts {
		if o.name != "ctstate" || len(o.values) != 1 {
			writeOpts(b, []option{o})
			continue
		}
		given := map[string]bool{}
		for _, s := range strings.Split(o.values[0], ",") {
			given[strings.ToUpper(s)] = true
		}
		var states []string
		for _, s := range conntrackStates {
			if given[s] {
				states = append(states, s)
				delete(given, s)
			}
		}
		if len(given) != 0 {
			return fmt.Errorf("conntrack match: unknown state in %q", o.values[0])
		}
		o.values = []string{strings.Join(states, ",")}
		writeOpts(b, []option{o})
	}
	return nil
}

// saveRecent prints the recent match in libxt_recent's order: command,
// --seconds, --reap, --hitcount, --rttl, --name, --mask, then the side.
func saveRecent(b *strings.Builder, opts []option, v6 bool) {
	name, mask, side := "DEFAULT", "255.255.255.255", "--rsource"
	if v6 {
		mask = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
	}
	head := ordered(opts, "set", "rcheck", "update", "remove", "seconds", "reap", "hitcount", "rttl")
	for _, o := range opts {
		switch {
		case o.name == "name" && len(o.values) == 1:
			name = o.values[0]
		case o.name == "mask" && len(o.values) == 1:
			mask = o.values[0]
		case o.name == "rdest":
			side = "--rdest"
		}
	}
	writeOpts(b, head)
	b.WriteString(" --name " + name + " --mask " + mask + " " + side)
}
