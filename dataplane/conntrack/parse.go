package conntrack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParseError names the input line that could not be read.
type ParseError struct {
	Line int
	Text string
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d: %v (in %q)", e.Line, e.Err, e.Text)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads `conntrack -L` output, plain or `-o extended` (leading
// "ipv4 2"). conntrack's closing "N flow entries have been shown." line,
// often captured with 2>&1, is skipped.
func Parse(data []byte) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "conntrack v") {
			continue
		}
		e, err := parseLine(strings.Fields(line))
		if err != nil {
			return out, &ParseError{Line: n, Text: line, Err: err}
		}
		e.Line = n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, &ParseError{Line: n + 1, Err: err}
	}
	return out, nil
}

func parseLine(f []string) (Entry, error) {
	var e Entry
	if len(f) >= 2 && (f[0] == "ipv4" || f[0] == "ipv6") {
		e.Family, f = f[0], f[2:]
	}
	if len(f) < 3 {
		return e, errors.New("want protocol, protocol number and timeout before the tuples")
	}
	e.Protocol = f[0]
	if _, err := strconv.ParseUint(f[1], 10, 8); err != nil {
		return e, fmt.Errorf("protocol number %q is not a number", f[1])
	}
	t, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return e, fmt.Errorf("timeout %q is not a number", f[2])
	}
	e.Timeout = t
	rest := f[3:]
	if len(rest) > 0 && !strings.Contains(rest[0], "=") && !strings.HasPrefix(rest[0], "[") {
		e.State, rest = rest[0], rest[1:]
	}
	if err := parseFields(&e, rest); err != nil {
		return e, err
	}
	if !e.Original.Src.IsValid() || !e.Original.Dst.IsValid() || !e.Reply.Src.IsValid() || !e.Reply.Dst.IsValid() {
		return e, errors.New("entry lacks an original or reply src=/dst= pair")
	}
	if e.Family == "" {
		e.Family = "ipv4"
		if e.Original.Src.Is6() {
			e.Family = "ipv6"
		}
	}
	return e, nil
}

// parseFields reads key=value tokens and [FLAGS]. The second src= starts
// the reply tuple.
func parseFields(e *Entry, f []string) error {
	cur, srcSeen := &e.Original, 0
	for _, tok := range f {
		if strings.HasPrefix(tok, "[") {
			switch tok {
			case "[ASSURED]":
				e.Assured = true
			case "[UNREPLIED]":
				e.Unreplied = true
			}
			continue // [OFFLOAD], [HW_OFFLOAD], [SEEN_REPLY] ... carry nothing we use
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return fmt.Errorf("unexpected token %q", tok)
		}
		if k == "src" {
			srcSeen++
			if srcSeen == 2 {
				cur = &e.Reply
			} else if srcSeen > 2 {
				return errors.New("more than two src= fields")
			}
		}
		if err := setField(e, cur, k, v); err != nil {
			return err
		}
	}
	return nil
}

func setField(e *Entry, t *Tuple, k, v string) error {
	var err error
	switch k {
	case "src", "dst":
		var a netip.Addr
		if a, err = netip.ParseAddr(v); err != nil {
			return fmt.Errorf("%s=%q is not an address", k, v)
		}
		if k == "src" {
			t.Src = a.Unmap()
		} else {
			t.Dst = a.Unmap()
		}
	case "sport", "dport":
		p, perr := strconv.ParseUint(v, 10, 16)
		if perr != nil {
			return fmt.Errorf("%s=%q is not a port", k, v)
		}
		if k == "sport" {
			t.SPort = uint16(p)
		} else {
			t.DPort = uint16(p)
		}
	case "packets":
		t.Packets, err = strconv.ParseUint(v, 10, 64)
	case "bytes":
		t.Bytes, err = strconv.ParseUint(v, 10, 64)
	case "mark":
		var m uint64
		m, err = strconv.ParseUint(v, 0, 32)
		e.Mark = uint32(m)
	case "zone":
		var z uint64
		z, err = strconv.ParseUint(v, 10, 16)
		e.Zone = uint16(z)
	case "use":
		var u uint64
		u, err = strconv.ParseUint(v, 10, 32)
		e.Use = uint32(u)
	}
	// Other keys (type, code, id, secctx, labels, delta-time, timestamps)
	// are accepted and not modelled.
	if err != nil {
		return fmt.Errorf("%s=%q is not a number", k, v)
	}
	return nil
}
