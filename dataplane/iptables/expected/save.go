package expected

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// option is one "--name value…" argument, possibly negated.
type option struct {
	neg    bool
	name   string
	values []string
}

type match struct {
	name string
	opts []option
}

type header struct {
	neg bool
	val string
}

// parsedRule is a rule split the way iptables stores it: addresses,
// interfaces and protocol in the fixed header, then matches in the order
// given, then the target.
type parsedRule struct {
	src, dst, in, out, proto *header
	matches                  []match
	target                   string
	targetOpts               []option
}

// headerFor returns the header field a flag sets, or nil.
func (r *parsedRule) headerFor(flag string) **header {
	switch flag {
	case "-s", "--source":
		return &r.src
	case "-d", "--destination":
		return &r.dst
	case "-i", "--in-interface":
		return &r.in
	case "-o", "--out-interface":
		return &r.out
	case "-p", "--protocol":
		return &r.proto
	}
	return nil
}

func parseRule(args []string) (*parsedRule, error) {
	r := &parsedRule{}
	var cur *[]option
	neg := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "!" {
			neg = true
			continue
		}
		takeValue := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		if slot := r.headerFor(a); slot != nil {
			v, err := takeValue()
			if err != nil {
				return nil, err
			}
			*slot = &header{neg: neg, val: v}
			neg = false
			continue
		}
		switch a {
		case "-m", "--match":
			v, err := takeValue()
			if err != nil {
				return nil, err
			}
			r.matches = append(r.matches, match{name: v})
			cur = &r.matches[len(r.matches)-1].opts
		case "-j", "--jump":
			v, err := takeValue()
			if err != nil {
				return nil, err
			}
			r.target, cur = v, &r.targetOpts
		default:
			if !strings.HasPrefix(a, "--") || cur == nil {
				return nil, fmt.Errorf("unexpected argument %q", a)
			}
			o := option{neg: neg, name: a[2:]}
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && args[i+1] != "!" {
				i++
				o.values = append(o.values, args[i])
			}
			*cur = append(*cur, o)
		}
		neg = false
	}
	return r, nil
}

// Normalize returns rule r as iptables-save prints it for family, without
// counters: "-s"/"-d" with a prefix length, "-i"/"-o", "-p", then matches
// in order with their options in each extension's save order, then the
// target with its options expanded (MARK --or-mark/--xor-mark become
// --set-xmark, REJECT gains its default --reject-with).
func Normalize(family corev1.IPFamily, r Rule) (string, error) {
	pr, err := parseRule(r.Args())
	if err != nil {
		return "", fmt.Errorf("rule %q: %w", r.String(), err)
	}
	var b strings.Builder
	b.Grow(len(r.Chain) + len(r.Spec) + 64)
	b.WriteString("-A ")
	b.WriteString(r.Chain)
	v6 := family == corev1.IPv6Protocol
	for _, h := range []struct {
		flag string
		h    *header
		addr bool
	}{{"-s", pr.src, true}, {"-d", pr.dst, true}, {"-i", pr.in, false}, {"-o", pr.out, false}, {"-p", pr.proto, false}} {
		if h.h == nil {
			continue
		}
		v := h.h.val
		if h.addr {
			if v, err = saveAddr(v, v6); err != nil {
				return "", fmt.Errorf("rule %q: %w", r.String(), err)
			}
		}
		if h.h.neg {
			b.WriteString(" !")
		}
		b.WriteString(" ")
		b.WriteString(h.flag)
		b.WriteString(" ")
		b.WriteString(v)
	}
	for _, m := range pr.matches {
		if err := saveMatch(&b, m, v6); err != nil {
			return "", fmt.Errorf("rule %q: %w", r.String(), err)
		}
	}
	if pr.target != "" {
		if err := saveTarget(&b, pr.target, pr.targetOpts, v6); err != nil {
			return "", fmt.Errorf("rule %q: %w", r.String(), err)
		}
	}
	return b.String(), nil
}

// saveAddr prints an address or CIDR the way iptables does: network
// address (host bits cleared) and prefix length.
func saveAddr(s string, v6 bool) (string, error) {
	if !strings.Contains(s, "/") {
		ip := parseIPSloppy(s)
		if ip == nil {
			return "", fmt.Errorf("invalid address %q", s)
		}
		if ip4 := ip.To4(); ip4 != nil && !v6 {
			return ip4.String() + "/32", nil
		}
		return ip.String() + "/128", nil
	}
	n, err := parseCIDRSloppy(s)
	if err != nil {
		return "", err
	}
	ones, _ := n.Mask.Size()
	return n.IP.String() + "/" + strconv.Itoa(ones), nil
}

func saveTarget(b *strings.Builder, target string, opts []option, v6 bool) error {
	b.WriteString(" -j ")
	b.WriteString(target)
	switch target {
	case "MARK":
		for _, o := range opts {
			if len(o.values) != 1 {
				return fmt.Errorf("MARK --%s needs one value", o.name)
			}
			v, err := parseHex(o.values[0])
			if err != nil {
				return err
			}
			switch o.name {
			case "or-mark":
				fmt.Fprintf(b, " --set-xmark 0x%x/0x%x", v, v)
			case "xor-mark":
				fmt.Fprintf(b, " --set-xmark 0x%x/0x0", v)
			case "set-mark", "set-xmark":
				val, mask, err := parseMarkMask(o.values[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(b, " --set-xmark 0x%x/0x%x", val, mask)
			default:
				return fmt.Errorf("unsupported MARK option --%s", o.name)
			}
		}
		return nil
	case "REJECT":
		if len(opts) == 0 {
			if v6 {
				b.WriteString(" --reject-with icmp6-port-unreachable")
			} else {
				b.WriteString(" --reject-with icmp-port-unreachable")
			}
			return nil
		}
	}
	writeOpts(b, opts)
	return nil
}

func writeOpts(b *strings.Builder, opts []option) {
	for _, o := range opts {
		if o.neg {
			b.WriteString(" !")
		}
		b.WriteString(" --")
		b.WriteString(o.name)
		for _, v := range o.values {
			b.WriteString(" ")
			b.WriteString(v)
		}
	}
}

func parseHex(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid mark %q", s)
	}
	return uint32(v), nil
}

// parseMarkMask reads "value[/mask]"; a missing mask is all ones.
func parseMarkMask(s string) (uint32, uint32, error) {
	vs, ms, ok := strings.Cut(s, "/")
	v, err := parseHex(vs)
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return v, math.MaxUint32, nil
	}
	m, err := parseHex(ms)
	return v, m, err
}

// saveProbability reproduces libxt_statistic: the kernel keeps
// lround(p * 2^31) and iptables prints it back with 11 decimals.
func saveProbability(s string) (string, error) {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", fmt.Errorf("invalid probability %q", s)
	}
	stored := uint32(math.Round(p * 0x80000000))
	return strconv.FormatFloat(float64(stored)/0x80000000, 'f', 11, 64), nil
}
