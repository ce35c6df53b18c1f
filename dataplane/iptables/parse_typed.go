package iptables

import (
	"fmt"
	"strconv"
	"strings"
)

func buildStatistic(opts []Option) (Match, error) {
	m := &StatisticMatch{}
	for _, o := range opts {
		v := o.Args[0]
		switch o.Name {
		case "--mode":
			m.Mode = v
		case "--probability":
			p, err := strconv.ParseFloat(v, 64)
			if err != nil || p < 0 || p > 1 {
				return nil, fmt.Errorf("--probability %q is not a number from 0 to 1", v)
			}
			m.Probability, m.Text, m.Negated = p, v, o.Negated
		case "--every", "--packet":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s %q is not a count", o.Name, v)
			}
			if o.Name == "--every" {
				m.Every, m.Negated = uint32(n), o.Negated
			} else {
				m.Packet = uint32(n)
			}
		}
	}
	if m.Mode == "random" && m.Text == "" {
		return nil, fmt.Errorf("--mode random needs --probability")
	}
	if m.Mode != "random" && m.Mode != "nth" {
		return nil, fmt.Errorf("--mode %q: want random or nth", m.Mode)
	}
	return m, nil
}

func buildRecent(opts []Option) (Match, error) {
	m := &RecentMatch{Name: "DEFAULT"}
	for _, o := range opts {
		switch o.Name {
		case "--set", "--rcheck", "--update", "--remove":
			if m.Command != "" {
				return nil, fmt.Errorf("both --%s and %s given", m.Command, o.Name)
			}
			m.Command, m.Negated = o.Name[2:], o.Negated
		case "--seconds", "--hitcount":
			n, err := strconv.ParseUint(o.Args[0], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s %q is not a count", o.Name, o.Args[0])
			}
			if o.Name == "--seconds" {
				m.Seconds = uint32(n)
			} else {
				m.HitCount = uint32(n)
			}
		case "--reap":
			m.Reap = true
		case "--rttl":
			m.RTTL = true
		case "--name":
			m.Name = o.Args[0]
		case "--mask":
			m.Mask = o.Args[0]
		case "--rsource":
			m.Dest = false
		case "--rdest":
			m.Dest = true
		}
	}
	if m.Command == "" {
		return nil, fmt.Errorf("want one of --set, --rcheck, --update, --remove")
	}
	return m, nil
}

func buildSet(opts []Option) (Match, error) {
	m := &SetMatch{}
	for _, o := range opts {
		if o.Name == "--match-set" || o.Name == "--set" {
			m.Name, m.Flags, m.Negated = o.Args[0], o.Args[1], o.Negated
			continue
		}
		m.Options = append(m.Options, o)
	}
	if m.Name == "" {
		return nil, fmt.Errorf("want --match-set NAME FLAGS")
	}
	return m, nil
}

func buildConntrack(name string, opts []Option) (Match, error) {
	if len(opts) != 1 || (opts[0].Name != "--ctstate" && opts[0].Name != "--state") {
		return nil, nil
	}
	states := strings.Split(strings.ToUpper(opts[0].Args[0]), ",")
	return &ConntrackMatch{Name: name, States: states, Negated: opts[0].Negated}, nil
}

// buildTarget types the target options. Options of unmodelled targets are
// kept in Target.Options.
func buildTarget(t *Target, opts []Option) error {
	for _, o := range opts {
		switch {
		case o.Unknown:
		case o.Name == "--to-destination" && t.Name == "DNAT":
			t.ToDestination = o.Args[0]
			continue
		case o.Name == "--reject-with" && t.Name == "REJECT":
			t.RejectWith = o.Args[0]
			continue
		case o.Name == "--random-fully" && (t.Name == "MASQUERADE" || t.Name == "SNAT"):
			t.RandomFully = true
			continue
		case t.Name == "MARK":
			if err := markAction(&t.Mark, o); err != nil {
				return err
			}
			continue
		}
		t.Options = append(t.Options, o)
	}
	if t.Name == "MARK" && !t.Mark.Set {
		return fmt.Errorf("MARK needs one of --set-xmark, --set-mark, --or-mark, --and-mark, --xor-mark")
	}
	return nil
}

// markAction converts every MARK spelling to the kernel's xmark form, the
// way libxt_MARK does, so "--or-mark 0x4000" equals "--set-xmark 0x4000/0x4000".
func markAction(a *MarkAction, o Option) error {
	if a.Set {
		return fmt.Errorf("more than one mark action (%s)", o.Name)
	}
	v, m, err := parseMarkMask(o.Args[0])
	if err != nil {
		return fmt.Errorf("%s: %v", o.Name, err)
	}
	_, _, hasMask := strings.Cut(o.Args[0], "/")
	switch o.Name {
	case "--set-xmark":
		*a = MarkAction{Value: v, Mask: m}
	case "--set-mark":
		*a = MarkAction{Value: v, Mask: m | v}
	case "--or-mark", "--and-mark", "--xor-mark":
		if hasMask {
			return fmt.Errorf("%s takes no mask", o.Name)
		}
		*a = bitMark(o.Name, v)
	}
	a.Set = true
	return nil
}

func bitMark(op string, v uint32) MarkAction {
	switch op {
	case "--or-mark":
		return MarkAction{Value: v, Mask: v}
	case "--and-mark":
		return MarkAction{Value: 0, Mask: ^v}
	}
	return MarkAction{Value: v, Mask: 0}
}
