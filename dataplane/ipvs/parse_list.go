package ipvs

import (
	"errors"
	"fmt"
	"strings"
)

// ParseList reads the output of `ipvsadm -Ln` (also `-L -n`, `--exact`, a
// single-service listing, and the TunnelInfo column of newer ipvsadm).
// The --stats, --rate, --thresholds and --persistent-conn listings carry no
// weights and are refused with a hint.
func ParseList(data []byte) (Table, error) {
	var t Table
	cur := -1
	seen := map[string]bool{}
	err := lines(data, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) == 0 {
			return nil
		}
		wrap := func(err error) error {
			if err == nil {
				return nil
			}
			return &ParseError{Line: n, Text: strings.TrimSpace(line), Err: err}
		}
		switch {
		case f[0] == "IP" && len(f) > 1 && f[1] == "Virtual":
			return nil
		case f[0] == "Prot":
			return wrap(checkListTitle(f))
		case f[0] == "->":
			if len(f) > 1 && f[1] == "RemoteAddress:Port" {
				return nil
			}
			if cur < 0 {
				return wrap(errors.New("real server line before any virtual server"))
			}
			rs, err := parseListDest(f[1:])
			if err != nil {
				return wrap(err)
			}
			t.VirtualServers[cur].RealServers = append(t.VirtualServers[cur].RealServers, rs)
			return nil
		}
		vs, err := parseListService(f)
		if err != nil {
			return wrap(err)
		}
		if seen[vs.Key()] {
			return wrap(fmt.Errorf("virtual server %s listed twice", vs.Key()))
		}
		seen[vs.Key()] = true
		t.VirtualServers = append(t.VirtualServers, vs)
		cur = len(t.VirtualServers) - 1
		return nil
	})
	return t, err
}

func checkListTitle(f []string) error {
	for _, col := range f {
		switch col {
		case "Conns", "CPS", "Uthreshold", "PersistConn":
			return fmt.Errorf("listing with %s column has no weights; save the table with ipvsadm -Ln or ipvsadm-save -n", col)
		}
	}
	return nil
}

func parseListService(f []string) (VirtualServer, error) {
	var vs VirtualServer
	rest := f
	if f[0] == "FWM" {
		if len(f) < 3 {
			return vs, errors.New("firewall-mark service needs a mark and a scheduler")
		}
		mark, err := parseUint(f[1], 32, "firewall mark")
		if err != nil || mark == 0 {
			return vs, fmt.Errorf("firewall mark %q is not a positive number", f[1])
		}
		vs.FWMark = uint32(mark)
		rest = f[2:]
		if rest[0] == "IPv6" {
			vs.IPv6 = true
			rest = rest[1:]
		}
	} else {
		proto, ok := parseProtocol(f[0])
		if !ok {
			return vs, fmt.Errorf("unknown protocol %q; expected TCP, UDP, SCTP or FWM", f[0])
		}
		if len(f) < 3 {
			return vs, errors.New("virtual server needs an address:port and a scheduler")
		}
		addr, port, err := parseAddrPort(f[1])
		if err != nil {
			return vs, err
		}
		vs.Protocol, vs.Address, vs.Port, vs.IPv6 = proto, addr, port, addr.Is6()
		rest = f[2:]
	}
	if len(rest) == 0 {
		return vs, errors.New("virtual server has no scheduler")
	}
	vs.Scheduler = rest[0]
	return vs, parseListFlags(&vs, rest[1:])
}

// parseListFlags reads what follows the scheduler: "(flags)", "persistent N",
// "mask M", "pe NAME", "ops".
func parseListFlags(vs *VirtualServer, f []string) error {
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if strings.HasPrefix(tok, "(") && strings.HasSuffix(tok, ")") {
			bits, err := parseSchedFlags(strings.Trim(tok, "()"))
			if err != nil {
				return err
			}
			vs.Flags |= bits
			continue
		}
		if tok == "ops" {
			vs.Flags |= FlagOnePacket
			continue
		}
		if i+1 >= len(f) {
			return fmt.Errorf("unknown or incomplete service flag %q", tok)
		}
		arg := f[i+1]
		i++
		switch tok {
		case "persistent":
			v, err := parseUint(arg, 32, "persistence timeout")
			if err != nil {
				return err
			}
			vs.Flags |= FlagPersistent
			vs.Timeout = uint32(v)
		case "mask":
			m, err := parseMask(arg, vs.IPv6)
			if err != nil {
				return err
			}
			vs.Netmask = m
		case "pe":
			vs.PE = arg
		default:
			return fmt.Errorf("unknown service flag %q", tok)
		}
	}
	return nil
}

// parseListDest reads "ADDR:PORT Forward [TunnelInfo] Weight ActiveConn InActConn".
func parseListDest(f []string) (RealServer, error) {
	var rs RealServer
	if len(f) != 5 && len(f) != 6 {
		return rs, fmt.Errorf("real server line has %d fields, want address, forward, weight, active and inactive connections", len(f))
	}
	addr, port, err := parseAddrPort(f[0])
	if err != nil {
		return rs, err
	}
	fwd, ok := parseForward(f[1])
	if !ok {
		return rs, fmt.Errorf("unknown forwarding method %q; expected Masq, Route, Tunnel or Local", f[1])
	}
	nums := f[2:]
	if len(f) == 6 {
		nums = f[3:] // skip TunnelInfo
	}
	vals := make([]int, 3)
	for i, what := range []string{"weight", "active connections", "inactive connections"} {
		v, err := parseUint(nums[i], 31, what)
		if err != nil {
			return rs, err
		}
		vals[i] = int(v)
	}
	rs.Address, rs.Port, rs.Forward = addr, port, fwd
	rs.Weight, rs.ActiveConns, rs.InactiveConns = vals[0], vals[1], vals[2]
	return rs, nil
}
