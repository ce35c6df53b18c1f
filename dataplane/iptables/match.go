package iptables

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/savefmt"
)

// Match is one match module instance of a rule ("-m tcp --dport 80"). The
// concrete types are *CommentMatch, *PortMatch, *AddrTypeMatch, *MarkMatch,
// *StatisticMatch, *RecentMatch, *SetMatch, *ConntrackMatch and *OtherMatch.
type Match interface {
	// Module is the module name ("tcp", "comment", ...). It is "" for options
	// that no loaded module owns.
	Module() string
	// String renders the match in iptables-save syntax, "-m NAME" included.
	String() string
}

// CommentMatch is "-m comment --comment TEXT". It always matches.
type CommentMatch struct{ Text string }

// PortCond is a port or port range condition; Lo == Hi for a single port.
type PortCond struct {
	Lo, Hi  uint16
	Negated bool
	Set     bool
}

// Contains reports whether port satisfies the condition (negation included).
func (p PortCond) Contains(port uint16) bool {
	in := port >= p.Lo && port <= p.Hi
	return in != p.Negated
}

func (p PortCond) String() string {
	s := strconv.Itoa(int(p.Lo))
	if p.Hi != p.Lo {
		s += ":" + strconv.Itoa(int(p.Hi))
	}
	return s
}

// PortMatch is "-m tcp|udp|sctp [--sport P] [--dport P]". Implicit is true
// when the module was loaded by "-p tcp --dport" without "-m tcp".
type PortMatch struct {
	Proto        string
	SPort, DPort PortCond
	Implicit     bool
}

// AddrTypeMatch is "-m addrtype [--src-type T] [--dst-type T]". Types hold
// comma-separated address types such as LOCAL.
type AddrTypeMatch struct {
	SrcType, DstType Cond
	LimitIfaceIn     bool
	LimitIfaceOut    bool
}

// MarkMatch is "-m mark [!] --mark VALUE[/MASK]": (mark & Mask) == Value.
type MarkMatch struct {
	Value, Mask uint32
	Negated     bool
}

// StatisticMatch is "-m statistic --mode random --probability P" (or --mode
// nth --every N --packet P).
type StatisticMatch struct {
	Mode string
	// Probability as parsed; Text is how the dump wrote it.
	Probability float64
	Text        string
	Every       uint32
	Packet      uint32
	Negated     bool
}

// RecentMatch is "-m recent": kube-proxy's ClientIP session affinity.
type RecentMatch struct {
	// Command is set, rcheck, update or remove.
	Command  string
	Name     string
	Seconds  uint32
	HitCount uint32
	Reap     bool
	RTTL     bool
	// Mask is the --mask argument, empty when absent (all ones: the whole
	// address). iptables-save prints 255.255.255.255 or ffff:...:ffff.
	Mask string
	// Dest is true for --rdest (the default --rsource is false).
	Dest    bool
	Negated bool
}

// SetMatch is "-m set [!] --match-set NAME FLAGS".
type SetMatch struct {
	Name    string
	Flags   string
	Negated bool
	// Options the package does not model (e.g. --return-nomatch), verbatim.
	Options []Option
}

// ConntrackMatch is "-m conntrack [!] --ctstate S" or "-m state --state S".
type ConntrackMatch struct {
	Name    string
	States  []string
	Negated bool
}

// OtherMatch is a module kept verbatim: Known is true when the option syntax
// was recognised (physdev, multiport, limit, ...) but the package does not
// evaluate it; false when the module or option is unknown.
type OtherMatch struct {
	Name    string
	Options []Option
	Known   bool
}

func (*CommentMatch) Module() string     { return "comment" }
func (m *PortMatch) Module() string      { return m.Proto }
func (*AddrTypeMatch) Module() string    { return "addrtype" }
func (*MarkMatch) Module() string        { return "mark" }
func (*StatisticMatch) Module() string   { return "statistic" }
func (*RecentMatch) Module() string      { return "recent" }
func (*SetMatch) Module() string         { return "set" }
func (m *ConntrackMatch) Module() string { return m.Name }
func (m *OtherMatch) Module() string     { return m.Name }

func (m *CommentMatch) String() string { return "-m comment --comment " + savefmt.Quote(m.Text) }

func (m *PortMatch) String() string {
	s := "-m " + m.Proto
	s += neg(m.SPort.Negated && m.SPort.Set) + opt(m.SPort.Set, "--sport", m.SPort.String())
	s += neg(m.DPort.Negated && m.DPort.Set) + opt(m.DPort.Set, "--dport", m.DPort.String())
	return s
}

func (m *AddrTypeMatch) String() string {
	s := "-m addrtype"
	s += neg(m.SrcType.Negated) + opt(m.SrcType.IsSet(), "--src-type", m.SrcType.Value)
	s += neg(m.DstType.Negated) + opt(m.DstType.IsSet(), "--dst-type", m.DstType.Value)
	s += opt(m.LimitIfaceIn, "--limit-iface-in", "")
	return s + opt(m.LimitIfaceOut, "--limit-iface-out", "")
}

func (m *MarkMatch) String() string {
	return fmt.Sprintf("-m mark%s --mark %#x/%#x", neg(m.Negated), m.Value, m.Mask)
}

func (m *StatisticMatch) String() string {
	s := "-m statistic --mode " + m.Mode
	if m.Mode == "random" {
		return s + neg(m.Negated) + " --probability " + m.Text
	}
	return s + neg(m.Negated) + fmt.Sprintf(" --every %d --packet %d", m.Every, m.Packet)
}

func (m *RecentMatch) String() string {
	s := "-m recent" + neg(m.Negated) + " --" + m.Command
	s += opt(m.Seconds > 0, "--seconds", strconv.Itoa(int(m.Seconds)))
	s += opt(m.Reap, "--reap", "")
	s += opt(m.HitCount > 0, "--hitcount", strconv.Itoa(int(m.HitCount)))
	s += opt(m.RTTL, "--rttl", "")
	s += " --name " + savefmt.Quote(m.Name) + opt(m.Mask != "", "--mask", m.Mask)
	if m.Dest {
		return s + " --rdest"
	}
	return s + " --rsource"
}

func (m *SetMatch) String() string {
	s := "-m set" + neg(m.Negated) + " --match-set " + savefmt.Quote(m.Name) + " " + m.Flags
	for _, o := range m.Options {
		s += " " + o.String()
	}
	return s
}

func (m *ConntrackMatch) String() string {
	name := "--ctstate"
	if m.Name == "state" {
		name = "--state"
	}
	return "-m " + m.Name + neg(m.Negated) + " " + name + " " + strings.Join(m.States, ",")
}

func (m *OtherMatch) String() string {
	parts := make([]string, 0, len(m.Options)+1)
	if m.Name != "" {
		parts = append(parts, "-m "+m.Name)
	}
	for _, o := range m.Options {
		parts = append(parts, o.String())
	}
	return strings.Join(parts, " ")
}

func neg(b bool) string {
	if b {
		return " !"
	}
	return ""
}

func opt(present bool, name, value string) string {
	switch {
	case !present:
		return ""
	case value == "":
		return " " + name
	default:
		return " " + name + " " + value
	}
}
