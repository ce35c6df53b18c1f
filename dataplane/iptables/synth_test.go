package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/savefmt"
)

// synthSvc describes one ClusterIP service port for synthDump, which
// writes iptables-restore input the way kube-proxy's iptables mode does.
type synthSvc struct {
	portName  string // as in comments: "ns/name:port"
	hashName  string // as hashed; defaults to portName (old releases: "ns/name:")
	clusterIP string
	port      int
	endpoints []string // "ip:port"
	probFmt   string   // "%0.10f" (default) or the old "%0.5f"
	noComment bool     // large-cluster mode: no comments on SEP and SVC->SEP rules
}

func hash16(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}

func (s synthSvc) svcChain() string { return "KUBE-SVC-" + hash16(s.hash()+"tcp") }
func (s synthSvc) sepChain(ep string) string {
	return "KUBE-SEP-" + hash16(s.hash()+"tcp"+ep)
}

func (s synthSvc) hash() string {
	if s.hashName != "" {
		return s.hashName
	}
	return s.portName
}

// synthDump renders the services as one restore input with nat and filter
// tables, including the jumps from the built-in chains.
func synthDump(svcs []synthSvc) string {
	var chains, rules, filter strings.Builder
	chains.WriteString("*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n")
	rules.WriteString(`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
`)
	filter.WriteString("*filter\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n")
	filter.WriteString(`-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES` + "\n")
	filter.WriteString(`-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES` + "\n")
	for _, s := range svcs {
		if len(s.endpoints) == 0 {
			fmt.Fprintf(&filter, "-A KUBE-SERVICES -m comment --comment \"%s has no endpoints\" -m tcp -p tcp -d %s --dport %d -j REJECT\n", s.portName, s.clusterIP, s.port)
			continue
		}
		s.writeNAT(&chains, &rules)
	}
	rules.WriteString(`-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS` + "\n")
	return filter.String() + "COMMIT\n" + chains.String() + rules.String() + "COMMIT\n"
}

func (s synthSvc) writeNAT(chains, rules *strings.Builder) {
	svc := s.svcChain()
	fmt.Fprintf(chains, ":%s - [0:0]\n", svc)
	fmt.Fprintf(rules, "-A KUBE-SERVICES -m comment --comment \"%s cluster IP\" -m tcp -p tcp -d %s --dport %d -j %s\n", s.portName, s.clusterIP, s.port, svc)
	fmt.Fprintf(rules, "-A %s -m comment --comment \"%s cluster IP\" -m tcp -p tcp -d %s --dport %d ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\n", svc, s.portName, s.clusterIP, s.port)
	format := s.probFmt
	if format == "" {
		format = "%0.10f"
	}
	n := len(s.endpoints)
	for i, ep := range s.endpoints {
		sep := s.sepChain(ep)
		fmt.Fprintf(chains, ":%s - [0:0]\n", sep)
		comment := fmt.Sprintf("-m comment --comment \"%s -> %s\" ", s.portName, ep)
		if s.noComment {
			comment = ""
		}
		stat := ""
		if i < n-1 {
			stat = "-m statistic --mode random --probability " + fmt.Sprintf(format, 1/float64(n-i)) + " "
		}
		fmt.Fprintf(rules, "-A %s %s%s-j %s\n", svc, comment, stat, sep)
		if !s.noComment {
			comment = "-m comment --comment " + savefmt.Quote(s.portName) + " "
		}
		ip, _, _ := strings.Cut(ep, ":")
		fmt.Fprintf(rules, "-A %s %s-s %s -j KUBE-MARK-MASQ\n", sep, comment, ip)
		fmt.Fprintf(rules, "-A %s %s-m tcp -p tcp -j DNAT --to-destination %s\n", sep, comment, ep)
	}
}
