package ipvs

import (
	"errors"
	"fmt"
	"strings"
)

// ParseSave reads the output of `ipvsadm-save -n` (`ipvsadm -S -n`):
// "-A -t VIP:PORT -s rr [-p T [-M MASK]] ..." and "-a -t VIP:PORT -r RIP:PORT -m -w W".
// Real servers must follow their service, as ipvsadm-save prints them.
func ParseSave(data []byte) (Table, error) {
	var t Table
	index := map[string]int{}
	err := lines(data, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			return nil
		}
		wrap := func(err error) error {
			if err == nil {
				return nil
			}
			return &ParseError{Line: n, Text: strings.TrimSpace(line), Err: err}
		}
		switch f[0] {
		case "-A", "--add-service":
			vs, err := parseSaveService(f[1:])
			if err != nil {
				return wrap(err)
			}
			if _, dup := index[vs.Key()]; dup {
				return wrap(fmt.Errorf("virtual server %s added twice", vs.Key()))
			}
			index[vs.Key()] = len(t.VirtualServers)
			t.VirtualServers = append(t.VirtualServers, vs)
		case "-a", "--add-server":
			key, rs, err := parseSaveDest(f[1:])
			if err != nil {
				return wrap(err)
			}
			i, ok := index[key]
			if !ok {
				return wrap(fmt.Errorf("real server for %s comes before its -A line", key))
			}
			t.VirtualServers[i].RealServers = append(t.VirtualServers[i].RealServers, rs)
		default:
			return wrap(fmt.Errorf("unknown command %q; expected -A or -a lines from ipvsadm-save -n", f[0]))
		}
		return nil
	})
	return t, err
}

// saveArgs walks "-opt value" pairs; flags without a value are listed in bare.
type saveArgs struct {
	f   []string
	i   int
	err error
}

func (a *saveArgs) next() (string, bool) {
	if a.err != nil || a.i >= len(a.f) {
		return "", false
	}
	a.i++
	return a.f[a.i-1], true
}

func (a *saveArgs) value(opt string) string {
	v, ok := a.next()
	if !ok && a.err == nil {
		a.err = fmt.Errorf("option %s needs a value", opt)
	}
	return v
}

// parseServiceSpec reads the service selector: -t/-u/--sctp-service ADDR:PORT or -f MARK [-6].
func parseServiceSpec(a *saveArgs, vs *VirtualServer, opt string) error {
	switch opt {
	case "-t", "--tcp-service", "-u", "--udp-service", "--sctp-service":
		addr, port, err := parseAddrPort(a.value(opt))
		if a.err != nil {
			return a.err
		}
		if err != nil {
			return err
		}
		if vs.FWMark != 0 || vs.Protocol != "" {
			return errServiceTwice
		}
		vs.Protocol = map[byte]Protocol{'t': TCP, 'u': UDP, 's': SCTP}[strings.TrimLeft(opt, "-")[0]]
		vs.Address, vs.Port, vs.IPv6 = addr, port, addr.Is6()
	case "-f", "--fwmark-service":
		mark, err := parseUint(a.value(opt), 32, "firewall mark")
		if a.err != nil {
			return a.err
		}
		if err != nil || mark == 0 {
			return fmt.Errorf("firewall mark for %s is not a positive number", opt)
		}
		if vs.FWMark != 0 || vs.Protocol != "" {
			return errServiceTwice
		}
		vs.FWMark = uint32(mark)
	case "-6", "--ipv6":
		vs.IPv6 = true
	default:
		return errUnknownOption
	}
	return nil
}

var errUnknownOption = errors.New("unknown option")

// errServiceTwice: ipvsadm takes one of -t, -u, --sctp-service and -f per
// line; a line with two names no single virtual server.
var errServiceTwice = errors.New("more than one of -t, -u, --sctp-service and -f")

func parseSaveService(f []string) (VirtualServer, error) {
	var vs VirtualServer
	a := &saveArgs{f: f}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		err := parseServiceSpec(a, &vs, opt)
		if !errors.Is(err, errUnknownOption) {
			if err != nil {
				return vs, err
			}
			continue
		}
		if err := parseSaveServiceOpt(a, &vs, opt); err != nil {
			return vs, err
		}
	}
	if a.err != nil {
		return vs, a.err
	}
	if vs.FWMark == 0 && vs.Protocol == "" {
		return vs, errors.New("service line has no -t, -u, --sctp-service or -f")
	}
	if vs.Scheduler == "" {
		vs.Scheduler = "wlc" // ipvsadm's default when -s is absent
	}
	return vs, nil
}

func parseSaveServiceOpt(a *saveArgs, vs *VirtualServer, opt string) error {
	switch opt {
	case "-s", "--scheduler":
		vs.Scheduler = a.value(opt)
	case "-p", "--persistent":
		vs.Flags |= FlagPersistent
		vs.Timeout = 300 // ipvsadm's default persistence timeout
		if a.i < len(a.f) && !strings.HasPrefix(a.f[a.i], "-") && a.f[a.i] != "ops" {
			v, err := parseUint(a.value(opt), 32, "persistence timeout")
			if err != nil {
				return err
			}
			vs.Timeout = uint32(v)
		}
	case "-M", "--netmask":
		m, err := parseMask(a.value(opt), vs.IPv6)
		if err != nil {
			return err
		}
		vs.Netmask = m
	case "--pe":
		vs.PE = a.value(opt)
	case "-b", "--sched-flags":
		bits, err := parseSchedFlags(a.value(opt))
		if err != nil {
			return err
		}
		vs.Flags |= bits
	case "ops", "-o", "--ops":
		vs.Flags |= FlagOnePacket
	default:
		return fmt.Errorf("unknown service option %q", opt)
	}
	return a.err
}

func parseSaveDest(f []string) (string, RealServer, error) {
	var vs VirtualServer
	rs := RealServer{Forward: Route, Weight: 1} // ipvsadm's defaults: -g, weight 1
	haveAddr := false
	a := &saveArgs{f: f}
	for opt, ok := a.next(); ok; opt, ok = a.next() {
		err := parseServiceSpec(a, &vs, opt)
		if !errors.Is(err, errUnknownOption) {
			if err != nil {
				return "", rs, err
			}
			continue
		}
		switch opt {
		case "-r", "--real-server":
			addr, port, err := parseAddrPort(a.value(opt))
			if a.err == nil && err != nil {
				return "", rs, err
			}
			rs.Address, rs.Port, haveAddr = addr, port, true
		case "-m", "--masquerading":
			rs.Forward = Masquerade
		case "-g", "--gatewaying":
			rs.Forward = Route
		case "-i", "--ipip":
			rs.Forward = Tunnel
		case "-w", "--weight":
			w, err := parseUint(a.value(opt), 31, "weight")
			if a.err == nil && err != nil {
				return "", rs, err
			}
			rs.Weight = int(w)
		case "-x", "--u-threshold", "-y", "--l-threshold", "--tun-type", "--tun-port":
			a.value(opt) // thresholds and tunnel details are not modelled
		case "--tun-nocsum", "--tun-csum", "--tun-remcsum":
		default:
			return "", rs, fmt.Errorf("unknown real server option %q", opt)
		}
	}
	if a.err != nil {
		return "", rs, a.err
	}
	if vs.FWMark == 0 && vs.Protocol == "" {
		return "", rs, errors.New("real server line has no -t, -u, --sctp-service or -f")
	}
	if !haveAddr {
		return "", rs, errors.New("real server line has no -r address")
	}
	return vs.Key(), rs, nil
}
