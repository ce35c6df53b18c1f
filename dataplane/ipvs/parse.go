package ipvs

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParseError names the input line that could not be read.
type ParseError struct {
	Line int    // 1-based line number
	Text string // the offending line, trimmed
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d: %v (in %q)", e.Line, e.Err, e.Text)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads either `ipvsadm -Ln` or `ipvsadm-save -n` output, choosing by
// the first meaningful line.
func Parse(data []byte) (Table, error) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "-A" || f[0] == "-a" || strings.HasPrefix(f[0], "--add-") {
			return ParseSave(data)
		}
		return ParseList(data)
	}
	return Table{}, nil
}

// lines yields the input's lines with 1-based numbers; it never fails on
// long lines because bufio.Scanner's buffer grows up to 1 MiB.
func lines(data []byte, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(n, strings.TrimRight(sc.Text(), "\r")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &ParseError{Line: n + 1, Err: err}
	}
	return nil
}

// parseAddrPort reads "10.0.0.1:80" or "[fd00::1]:80". Names (ipvsadm
// without -n) are refused with a hint, since they cannot be compared.
func parseAddrPort(s string) (netip.Addr, uint16, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		if i := strings.LastIndexByte(s, ':'); i > 0 {
			if _, aerr := netip.ParseAddr(strings.Trim(s[:i], "[]")); aerr == nil {
				return netip.Addr{}, 0, fmt.Errorf("port in %q is not a number; list with -n", s)
			}
		}
		return netip.Addr{}, 0, fmt.Errorf("%q is not a numeric address:port; list with ipvsadm -Ln or ipvsadm-save -n", s)
	}
	return ap.Addr().Unmap(), ap.Port(), nil
}

func parseUint(s string, bits int, what string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", what, s)
	}
	return v, nil
}

func parseProtocol(s string) (Protocol, bool) {
	switch p := Protocol(strings.ToUpper(s)); p {
	case TCP, UDP, SCTP:
		return p, true
	}
	return "", false
}

// schedFlagNames maps ipvsadm's scheduler flag names to bits. The sh and mh
// schedulers name the first two flags; every scheduler accepts flag-N.
var schedFlagNames = map[string]Flags{
	"flag-1": FlagSched1, "flag-2": FlagSched2, "flag-3": FlagSched3,
	"sh-fallback": FlagSched1, "sh-port": FlagSched2,
	"mh-fallback": FlagSched1, "mh-port": FlagSched2,
}

func parseSchedFlags(s string) (Flags, error) {
	var f Flags
	for _, name := range strings.Split(s, ",") {
		if name == "" {
			continue
		}
		bit, ok := schedFlagNames[name]
		if !ok {
			return 0, fmt.Errorf("unknown scheduler flag %q", name)
		}
		f |= bit
	}
	return f, nil
}

// schedFlagString prints scheduler flags as ipvsadm-save's -b argument.
func schedFlagString(sched string, f Flags) string {
	names := [3]string{"flag-1", "flag-2", "flag-3"}
	if sched == "sh" || sched == "mh" {
		names[0], names[1] = sched+"-fallback", sched+"-port"
	}
	var out []string
	for i, bit := range []Flags{FlagSched1, FlagSched2, FlagSched3} {
		if f&bit != 0 {
			out = append(out, names[i])
		}
	}
	return strings.Join(out, ",")
}

// parseMask reads a persistence netmask: dotted IPv4 or IPv6 prefix bits.
// The full mask (one client address) is stored as 0.
func parseMask(s string, ipv6 bool) (int, error) {
	if ipv6 {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > 128 {
			return 0, fmt.Errorf("netmask %q is not an IPv6 prefix length", s)
		}
		if v == 128 {
			return 0, nil
		}
		return v, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("netmask %q is not a dotted IPv4 mask", s)
	}
	b := a.As4()
	bits, seenZero := 0, false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if seenZero {
					return 0, fmt.Errorf("netmask %q is not contiguous", s)
				}
				bits++
			} else {
				seenZero = true
			}
		}
	}
	if bits == 32 {
		return 0, nil
	}
	return bits, nil
}

func maskString(v VirtualServer) string {
	if v.IPv6 || v.Address.Is6() {
		return strconv.Itoa(v.Netmask)
	}
	p := netip.PrefixFrom(netip.IPv4Unspecified(), v.Netmask)
	var m [4]byte
	for i := 0; i < p.Bits(); i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(m).String()
}

func parseForward(s string) (ForwardMethod, bool) {
	switch m := ForwardMethod(s); m {
	case Masquerade, Route, Tunnel, LocalNode:
		return m, true
	}
	return "", false
}
