package iptables

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// portSpec holds the options of the tcp, udp and sctp matches.
var portSpec = map[string]int{
	"--dport": 1, "--destination-port": 1, "--sport": 1, "--source-port": 1,
	"--tcp-flags": 2, "--syn": 0, "--tcp-option": 1, "--chunk-types": 2,
}

// matchSpecs maps each known match module to its options and how many
// arguments each takes. Modules absent here are kept verbatim as unknown.
var matchSpecs = map[string]map[string]int{
	"tcp": portSpec, "udp": portSpec, "sctp": portSpec,
	"comment":   {"--comment": 1},
	"addrtype":  {"--src-type": 1, "--dst-type": 1, "--limit-iface-in": 0, "--limit-iface-out": 0},
	"mark":      {"--mark": 1},
	"statistic": {"--mode": 1, "--probability": 1, "--every": 1, "--packet": 1},
	"recent": {"--set": 0, "--rcheck": 0, "--update": 0, "--remove": 0, "--seconds": 1,
		"--reap": 0, "--hitcount": 1, "--rttl": 0, "--name": 1, "--mask": 1, "--rsource": 0, "--rdest": 0},
	"set": {"--match-set": 2, "--set": 2, "--return-nomatch": 0, "--update-counters": 0,
		"--update-subcounters": 0, "--packets-eq": 1, "--bytes-eq": 1},
	"conntrack": {"--ctstate": 1, "--ctproto": 1, "--ctorigsrc": 1, "--ctorigdst": 1,
		"--ctreplsrc": 1, "--ctrepldst": 1, "--ctorigsrcport": 1, "--ctorigdstport": 1,
		"--ctreplsrcport": 1, "--ctrepldstport": 1, "--ctstatus": 1, "--ctexpire": 1, "--ctdir": 1},
	"state":     {"--state": 1},
	"physdev":   {"--physdev-in": 1, "--physdev-out": 1, "--physdev-is-in": 0, "--physdev-is-out": 0, "--physdev-is-bridged": 0},
	"multiport": {"--dports": 1, "--sports": 1, "--ports": 1, "--destination-ports": 1, "--source-ports": 1},
	"limit":     {"--limit": 1, "--limit-burst": 1},
	"icmp":      {"--icmp-type": 1},
	"icmp6":     {"--icmpv6-type": 1},
	"socket":    {"--transparent": 0, "--nowildcard": 0, "--restore-skmark": 0},
	"owner":     {"--uid-owner": 1, "--gid-owner": 1, "--socket-exists": 0, "--suppl-groups": 0},
	"iprange":   {"--src-range": 1, "--dst-range": 1},
	"connmark":  {"--mark": 1},
	"pkttype":   {"--pkt-type": 1},
}

// targetSpecs maps targets to their options, as matchSpecs does for matches.
var targetSpecs = map[string]map[string]int{
	"DNAT":       {"--to-destination": 1, "--random": 0, "--persistent": 0},
	"SNAT":       {"--to-source": 1, "--random": 0, "--random-fully": 0, "--persistent": 0},
	"MASQUERADE": {"--to-ports": 1, "--random": 0, "--random-fully": 0},
	"REDIRECT":   {"--to-ports": 1, "--random": 0},
	"MARK":       {"--set-xmark": 1, "--set-mark": 1, "--or-mark": 1, "--and-mark": 1, "--xor-mark": 1},
	"REJECT":     {"--reject-with": 1},
	"LOG": {"--log-prefix": 1, "--log-level": 1, "--log-tcp-sequence": 0,
		"--log-tcp-options": 0, "--log-ip-options": 0, "--log-uid": 0, "--log-macdecode": 0},
	"CONNMARK": {"--set-xmark": 1, "--save-mark": 0, "--restore-mark": 0, "--nfmask": 1,
		"--ctmask": 1, "--mask": 1, "--set-mark": 1, "--or-mark": 1, "--and-mark": 1, "--xor-mark": 1},
}

// finish turns the collected module and target options into typed values.
func (rp *ruleParser) finish() error {
	rp.r.Matches = make([]Match, 0, len(rp.mods))
	for _, m := range rp.mods {
		typed, err := buildMatch(m)
		if err != nil {
			return rp.p.errorf("-m %s: %v", m.name, err)
		}
		rp.r.Matches = append(rp.r.Matches, typed)
	}
	if rp.target != nil {
		if err := buildTarget(&rp.r.Target, rp.target.opts); err != nil {
			return rp.p.errorf("-j %s: %v", rp.r.Target.Name, err)
		}
	}
	return nil
}

// buildMatch types one module instance. A known module with an option the
// package does not evaluate becomes an OtherMatch with Known set.
func buildMatch(m *modInst) (Match, error) {
	// m.opts is reused for the next rule: matches that keep options copy them.
	if m.spec == nil {
		return &OtherMatch{Name: m.name, Options: slices.Clone(m.opts)}, nil
	}
	for _, o := range m.opts {
		if o.Unknown {
			return &OtherMatch{Name: m.name, Options: slices.Clone(m.opts)}, nil
		}
	}
	var typed Match
	var err error
	switch m.name {
	case "comment":
		typed, err = buildComment(m.opts)
	case "tcp", "udp", "sctp":
		typed, err = buildPort(m)
	case "addrtype":
		typed, err = buildAddrType(m.opts)
	case "mark":
		typed, err = buildMark(m.opts)
	case "statistic":
		typed, err = buildStatistic(m.opts)
	case "recent":
		typed, err = buildRecent(m.opts)
	case "set":
		typed, err = buildSet(m.opts)
	case "conntrack", "state":
		typed, err = buildConntrack(m.name, m.opts)
	}
	if err != nil || typed != nil {
		return typed, err
	}
	return &OtherMatch{Name: m.name, Options: slices.Clone(m.opts), Known: true}, nil
}

func buildComment(opts []Option) (Match, error) {
	if len(opts) != 1 {
		return nil, fmt.Errorf("want exactly one --comment")
	}
	return &CommentMatch{Text: opts[0].Args[0]}, nil
}

func buildPort(m *modInst) (Match, error) {
	pm := &PortMatch{Proto: m.name, Implicit: m.implicit}
	for _, o := range m.opts {
		pc, err := parsePortRange(o.Args)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", o.Name, err)
		}
		pc.Negated = o.Negated
		switch o.Name {
		case "--dport", "--destination-port":
			pm.DPort = pc
		case "--sport", "--source-port":
			pm.SPort = pc
		default:
			return nil, nil
		}
	}
	return pm, nil
}

func parsePortRange(args []string) (PortCond, error) {
	if len(args) != 1 {
		return PortCond{}, fmt.Errorf("want one port")
	}
	lo, hi, isRange := strings.Cut(args[0], ":")
	l, err := parsePort(lo, 0)
	if err != nil {
		return PortCond{}, err
	}
	h := l
	if isRange {
		if h, err = parsePort(hi, 65535); err != nil {
			return PortCond{}, err
		}
	}
	return PortCond{Lo: l, Hi: h, Set: true}, nil
}

func parsePort(s string, empty uint16) (uint16, error) {
	if s == "" {
		return empty, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number from 0 to 65535", s)
	}
	return uint16(n), nil
}

func buildAddrType(opts []Option) (Match, error) {
	m := &AddrTypeMatch{}
	for _, o := range opts {
		switch o.Name {
		case "--src-type":
			m.SrcType = Cond{Value: strings.ToUpper(o.Args[0]), Negated: o.Negated}
		case "--dst-type":
			m.DstType = Cond{Value: strings.ToUpper(o.Args[0]), Negated: o.Negated}
		case "--limit-iface-in":
			m.LimitIfaceIn = true
		case "--limit-iface-out":
			m.LimitIfaceOut = true
		}
	}
	return m, nil
}

func buildMark(opts []Option) (Match, error) {
	if len(opts) != 1 {
		return nil, fmt.Errorf("want exactly one --mark")
	}
	v, mask, err := parseMarkMask(opts[0].Args[0])
	if err != nil {
		return nil, err
	}
	return &MarkMatch{Value: v, Mask: mask, Negated: opts[0].Negated}, nil
}

// parseMarkMask parses "VALUE[/MASK]"; the mask defaults to all ones.
func parseMarkMask(s string) (uint32, uint32, error) {
	vs, ms, hasMask := strings.Cut(s, "/")
	v, err := strconv.ParseUint(vs, 0, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("mark %q is not a 32-bit number", s)
	}
	if !hasMask {
		return uint32(v), 0xffffffff, nil
	}
	m, err := strconv.ParseUint(ms, 0, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("mask in %q is not a 32-bit number", s)
	}
	return uint32(v), uint32(m), nil
}

// parseAddr parses an address or CIDR as -s/-d take it; a dotted netmask
// ("10.0.0.0/255.0.0.0") is accepted. The result is masked.
func parseAddr(s string) (netip.Prefix, error) {
	addr, bits, hasBits := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR (host names are not resolved)")
	}
	n := a.BitLen()
	if hasBits {
		if n, err = prefixBits(bits, a.Is4()); err != nil {
			return netip.Prefix{}, err
		}
	}
	p, err := a.Prefix(n)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("prefix length %s out of range", bits)
	}
	return p, nil
}

func prefixBits(bits string, v4 bool) (int, error) {
	if n, err := strconv.Atoi(bits); err == nil {
		return n, nil
	}
	m, err := netip.ParseAddr(bits)
	if err != nil || m.Is4() != v4 {
		return 0, fmt.Errorf("bad prefix length or netmask %q", bits)
	}
	b := m.AsSlice()
	n := 0
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) == 0 {
				return n, nil
			}
			n++
		}
	}
	return n, nil
}
