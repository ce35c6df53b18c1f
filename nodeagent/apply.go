package nodeagent

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Apply feeds the snapshot's dumps for kube-proxy's mode into d, as the
// dump flags would, each named by the node and the command that read it.
// It returns the mode it fed.
func Apply(s *snapshot.Snapshot, d *trace.DataplaneInput) (string, error) {
	if s.Node != "" && d.Node == "" {
		d.Node = s.Node
	}
	if !s.Taken.IsZero() {
		d.SavedAt, d.SavedAtGuessed = s.Taken, false // the snapshot's own clock, in UTC
	}
	mode := Mode(s)
	feed := func(kind source.DumpKind, sec snapshot.Section) error {
		if sec.Error != "" {
			return fmt.Errorf("snapshot of node %s: %s failed: %s", s.Node, sec.Source, sec.Error)
		}
		return source.ParseDump(kind, dumpName(s, sec), []byte(sec.Output), d)
	}
	var err error
	switch mode {
	case "nftables":
		err = feed(source.NFTJSON, section(s, snapshot.NFT))
	case "ipvs":
		if err = feed(source.IPVSList, section(s, snapshot.IPVS)); err == nil {
			if a := section(s, snapshot.Addresses); a.Error == "" && a.Output != "" {
				err = feed(source.IPVSAddrs, a)
			}
		}
	default:
		err = feed(source.IPTablesSave, IPTablesSection(s))
		// A dual-stack node's IPv6 rules, where kube-proxy wrote any.
		if v6 := IP6TablesSection(s); err == nil && v6.Error == "" && hasKubeRules(v6.Output) {
			err = feed(source.IP6TablesSave, v6)
		}
	}
	if err != nil {
		return mode, err
	}
	if ct, ok := s.Section(snapshot.Conntrack); ok && ct.Error == "" {
		d.ConntrackName = dumpName(s, ct)
		if strings.TrimSpace(ct.Output) != "" {
			if err := source.ParseDump(source.Conntrack, d.ConntrackName, []byte(ct.Output), d); err != nil {
				return mode, err
			}
		}
	}
	return mode, nil
}

func dumpName(s *snapshot.Snapshot, sec snapshot.Section) string {
	return fmt.Sprintf("node/%s: %s", s.Node, sec.Source)
}

func section(s *snapshot.Snapshot, name string) snapshot.Section {
	if sec, ok := s.Section(name); ok {
		return sec
	}
	return snapshot.Section{Name: name, Source: name, Error: "not in the snapshot"}
}

// Mode is kube-proxy's mode: what its /proxyMode said, else the mode whose
// rules the node holds.
func Mode(s *snapshot.Snapshot) string {
	if m, ok := s.Section(snapshot.ProxyMode); ok && m.Error == "" {
		if mode := strings.TrimSpace(m.Output); mode != "" {
			return mode
		}
	}
	switch {
	case hasKubeRules(IPTablesSection(s).Output):
		return "iptables"
	case strings.Contains(section(s, snapshot.NFT).Output, `"kube-proxy"`):
		return "nftables"
	case strings.TrimSpace(section(s, snapshot.IPVS).Output) != "":
		return "ipvs"
	}
	return "iptables"
}

// IPTablesSection is the iptables backend kube-proxy uses: the one the
// node's iptables command is (its --version says "nf_tables" or
// "legacy"), unless only the other holds kube-proxy's rules.
func IPTablesSection(s *snapshot.Snapshot) snapshot.Section {
	return backendSection(s, snapshot.IPTablesDefault, snapshot.IPTablesLegacy, snapshot.IPTablesNFT)
}

// IP6TablesSection is IPTablesSection for the IPv6 rules.
func IP6TablesSection(s *snapshot.Snapshot) snapshot.Section {
	return backendSection(s, snapshot.IP6TablesDefault, snapshot.IP6TablesLegacy, snapshot.IP6TablesNFT)
}

func backendSection(s *snapshot.Snapshot, plain, legacyName, nftName string) snapshot.Section {
	if sec, ok := s.Section(plain); ok {
		return sec
	}
	legacy, nft := section(s, legacyName), section(s, nftName)
	preferLegacy := strings.Contains(section(s, snapshot.IPTablesVersion).Output, "legacy")
	switch {
	case hasKubeRules(legacy.Output) && !hasKubeRules(nft.Output):
		return legacy
	case hasKubeRules(nft.Output) && !hasKubeRules(legacy.Output):
		return nft
	case preferLegacy:
		return legacy
	}
	return nft
}

// hasKubeRules reports whether an iptables-save dump holds kube-proxy's
// Service rules (its KUBE-SERVICES or KUBE-NODEPORTS chain).
func hasKubeRules(save string) bool {
	for line := range strings.Lines(save) {
		if strings.HasPrefix(line, ":KUBE-SERVICES ") || strings.HasPrefix(line, ":KUBE-NODEPORTS ") {
			return true
		}
	}
	return false
}
