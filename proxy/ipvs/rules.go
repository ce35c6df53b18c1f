package ipvs

import (
	"fmt"
	"strings"
)

// chainRef names a chain in a table.
type chainRef struct{ table, chain string }

// kube-proxy's IPVS-mode chains (iptablesChains), by their kube names.
var chains = []chainRef{
	{"nat", "KUBE-SERVICES"}, {"nat", "KUBE-POSTROUTING"}, {"nat", "KUBE-NODE-PORT"},
	{"nat", "KUBE-LOAD-BALANCER"}, {"nat", "KUBE-MARK-MASQ"},
	{"filter", "KUBE-FORWARD"}, {"filter", "KUBE-NODE-PORT"}, {"filter", "KUBE-PROXY-FIREWALL"},
	{"filter", "KUBE-SOURCE-RANGES-FIREWALL"}, {"filter", "KUBE-IPVS-FILTER"}, {"filter", "KUBE-IPVS-OUT-FILTER"},
}

// jump is a rule in a built-in chain jumping to an owned one, inserted
// first as kube-proxy does (iptablesJumpChain).
type jump struct {
	table, from, to, comment string
}

var jumps = []jump{
	{"nat", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals"},
	{"nat", "PREROUTING", "KUBE-SERVICES", "kubernetes service portals"},
	{"nat", "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules"},
	{"filter", "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules"},
	{"filter", "INPUT", "KUBE-NODE-PORT", "kubernetes health check rules"},
	{"filter", "INPUT", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"},
	{"filter", "FORWARD", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"},
	{"filter", "INPUT", "KUBE-IPVS-FILTER", "kubernetes ipvs access filter"},
	{"filter", "OUTPUT", "KUBE-IPVS-OUT-FILTER", "kubernetes ipvs access filter"},
}

// args is the jump as iptables arguments in layout l.
func (j jump) args(l Layout) []string {
	return []string{"-m", "comment", "--comment", j.comment, "-j", l.Name(j.to)}
}

// masqMark is kube-proxy's default --iptables-masquerade-bit 14.
const masqMark = "0x4000"

// ipsetRule is one of kube-proxy's rules written only when its set has
// entries (ipsetWithIptablesChain).
type ipsetRule struct {
	set, table, from, to, match, proto string
}

var ipsetRules = []ipsetRule{
	{setLoopBack, "nat", "KUBE-POSTROUTING", "MASQUERADE", "dst,dst,src", ""},
	{setLoadBalancer, "nat", "KUBE-SERVICES", "KUBE-LOAD-BALANCER", "dst,dst", ""},
	{setLoadBalancerLoc, "nat", "KUBE-LOAD-BALANCER", "RETURN", "dst,dst", ""},
	{setNodePortLocalTCP, "nat", "KUBE-NODE-PORT", "RETURN", "dst", "tcp"},
	{setNodePortTCP, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "tcp"},
	{setNodePortLocalUDP, "nat", "KUBE-NODE-PORT", "RETURN", "dst", "udp"},
	{setNodePortUDP, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst", "udp"},
	{setNodePortLocSCTP, "nat", "KUBE-NODE-PORT", "RETURN", "dst,dst", "sctp"},
	{setNodePortSCTP, "nat", "KUBE-NODE-PORT", "KUBE-MARK-MASQ", "dst,dst", "sctp"},
	{setLoadBalancerFW, "filter", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL", "dst,dst", ""},
	{setLBSourceCIDR, "filter", "KUBE-SOURCE-RANGES-FIREWALL", "RETURN", "dst,dst,src", ""},
	{setLBSourceIP, "filter", "KUBE-SOURCE-RANGES-FIREWALL", "RETURN", "dst,dst,src", ""},
}

// ruleWriter writes rules as iptables-save prints them, in kube names,
// renamed into the layout at the end.
type ruleWriter struct {
	rules map[chainRef][]string
}

func (w *ruleWriter) add(table, chain string, parts ...string) {
	r := chainRef{table, chain}
	w.rules[r] = append(w.rules[r], "-A "+chain+" "+strings.Join(parts, " "))
}

func comment(set string) string { return fmt.Sprintf("-m comment --comment %q", infoOf(set).comment) }

func matchSet(set, dirs string) string { return "-m set --match-set " + set + " " + dirs }

// familyText is what iptables-save and ip6tables-save print differently
// in IPVS mode's rules: the loopback network kube-proxy returns early, the
// host prefix length, and REJECT's default ICMP message.
type familyText struct {
	loopback, hostBits, reject string
}

var (
	text4 = familyText{"127.0.0.0/8", "/32", "icmp-port-unreachable"}
	text6 = familyText{"::1/128", "/128", "icmp6-port-unreachable"}
)

// rules writes kube-proxy's IPVS-mode iptables rules for the sets' entries
// (writeIptablesRules), in the order kube-proxy writes them, as the
// builder's family's iptables-save prints them.
func (b *builder) rules(l Layout) map[chainRef][]string {
	w := &ruleWriter{rules: map[chainRef][]string{}}
	has := func(set string) bool { return len(b.entries[set]) > 0 }
	ft := text4
	if b.v6 {
		ft = text6
	}
	w.add("nat", "KUBE-SERVICES", "-s "+ft.loopback+" -j RETURN")
	for _, r := range ipsetRules {
		if !has(r.set) {
			continue
		}
		var parts []string
		if r.proto != "" {
			parts = append(parts, "-p "+r.proto)
		}
		w.add(r.table, r.from, append(parts, comment(r.set), matchSet(r.set, r.match), "-j "+r.to)...)
	}
	if has(setClusterIP) {
		switch {
		case b.s.MasqueradeAll:
			w.add("nat", "KUBE-SERVICES", comment(setClusterIP), matchSet(setClusterIP, "dst,dst"), "-j KUBE-MARK-MASQ")
		case b.s.ClusterCIDR.IsValid():
			w.add("nat", "KUBE-SERVICES", "! -s "+b.s.ClusterCIDR.String(), comment(setClusterIP), matchSet(setClusterIP, "dst,dst"), "-j KUBE-MARK-MASQ")
		default:
			w.add("nat", "KUBE-SERVICES", comment(setClusterIP), matchSet(setClusterIP, "src,dst"), "-j KUBE-MARK-MASQ")
		}
	}
	externalAccept := func(set string) {
		w.add("nat", "KUBE-SERVICES", comment(set), matchSet(set, "dst,dst"), "-m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT")
		w.add("nat", "KUBE-SERVICES", comment(set), matchSet(set, "dst,dst"), "-m addrtype --dst-type LOCAL -j ACCEPT")
	}
	if has(setExternalIP) {
		w.add("nat", "KUBE-SERVICES", comment(setExternalIP), matchSet(setExternalIP, "dst,dst"), "-j KUBE-MARK-MASQ")
		externalAccept(setExternalIP)
	}
	if has(setExternalIPLocal) {
		externalAccept(setExternalIPLocal)
	}
	w.add("nat", "KUBE-SERVICES", "-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT")
	w.add("nat", "KUBE-LOAD-BALANCER", "-j KUBE-MARK-MASQ")
	w.add("filter", "KUBE-SOURCE-RANGES-FIREWALL", "-j DROP")
	for _, e := range b.noNodeAccess {
		ip, protoPort, _ := strings.Cut(e, ",")
		proto, port, _ := strings.Cut(protoPort, ":")
		w.add("filter", "KUBE-IPVS-OUT-FILTER", "-s "+ip+ft.hostBits, "-m ipvs --vaddr "+ip+ft.hostBits+" --vproto "+protoNumber(proto)+" --vport "+port, "-j DROP")
	}
	for _, set := range []string{setClusterIP, setLoadBalancer} {
		if has(set) {
			w.add("nat", "KUBE-SERVICES", matchSet(set, "dst,dst"), "-j ACCEPT")
		}
	}
	w.add("filter", "KUBE-FORWARD", `-m comment --comment "kubernetes forwarding rules"`, "-m mark --mark "+masqMark+"/"+masqMark, "-j ACCEPT")
	w.add("filter", "KUBE-FORWARD", `-m comment --comment "kubernetes forwarding conntrack rule"`, "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
	w.add("filter", "KUBE-NODE-PORT", comment(setHealthCheck), matchSet(setHealthCheck, "dst"), "-j ACCEPT")
	for _, set := range []string{setLoadBalancer, setClusterIP, setExternalIP, setExternalIPLocal} {
		w.add("filter", "KUBE-IPVS-FILTER", matchSet(set, "dst,dst"), "-j RETURN")
	}
	w.add("filter", "KUBE-IPVS-FILTER", matchSet(setHealthCheck, "dst"), "-j RETURN")
	w.add("filter", "KUBE-IPVS-FILTER", "-m conntrack --ctstate NEW", matchSet(setIPVSIPs, "dst"), "-j REJECT --reject-with "+ft.reject)
	w.add("nat", "KUBE-POSTROUTING", "-m mark ! --mark "+masqMark+"/"+masqMark, "-j RETURN")
	w.add("nat", "KUBE-POSTROUTING", "-j MARK --set-xmark "+masqMark+"/0x0")
	w.add("nat", "KUBE-POSTROUTING", `-m comment --comment "kubernetes service traffic requiring SNAT"`, "-j MASQUERADE --random-fully")
	w.add("nat", "KUBE-MARK-MASQ", "-j MARK --set-xmark "+masqMark+"/"+masqMark)
	return renameRules(w.rules, l)
}

// protoNumber is how iptables-save prints the ipvs match's --vproto.
func protoNumber(proto string) string {
	return map[string]string{"tcp": "6", "udp": "17", "sctp": "132"}[proto]
}

// renameRules moves every chain and set name into layout l. Names are
// whole arguments, a set's the one after --match-set (KUBE-LOAD-BALANCER
// names a set and a chain); comments hold no "KUBE-".
func renameRules(in map[chainRef][]string, l Layout) map[chainRef][]string {
	out := make(map[chainRef][]string, len(chains))
	for _, c := range chains {
		r := chainRef{c.table, l.Name(c.chain)}
		out[r] = []string{}
		for _, line := range in[c] {
			f := strings.Split(line, " ")
			for i, a := range f {
				if i > 0 && f[i-1] == "--match-set" {
					f[i] = l.SetName(a)
				} else {
					f[i] = l.Name(a)
				}
			}
			out[r] = append(out[r], strings.Join(f, " "))
		}
	}
	return out
}

// restoreInput is the iptables-restore --noflush input that rewrites
// every owned chain: one transaction per table, atomic.
func restoreInput(rules map[chainRef][]string, l Layout) string {
	var b strings.Builder
	for _, table := range []string{"nat", "filter"} {
		fmt.Fprintf(&b, "*%s\n", table)
		for _, c := range chains {
			if c.table == table {
				fmt.Fprintf(&b, ":%s - [0:0]\n", l.Name(c.chain))
			}
		}
		for _, c := range chains {
			if c.table == table {
				for _, line := range rules[chainRef{table, l.Name(c.chain)}] {
					b.WriteString(line + "\n")
				}
			}
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}
