package nftables

import (
	"encoding/json"
	"fmt"
	"strings"
)

// stmtDecoder decodes the body of a statement whose JSON key is kind.
type stmtDecoder func(kind string, body json.RawMessage) (Stmt, error)

func (d *jsonDecoder) stmtDecoders() map[string]stmtDecoder {
	m := map[string]stmtDecoder{
		"match":   d.matchStmt,
		"vmap":    d.vmapStmt,
		"reject":  rejectStmt,
		"mangle":  d.mangleStmt,
		"set":     d.setStmt,
		"counter": counterStmt,
	}
	for _, k := range []string{"accept", "drop", "continue", "return", "jump", "goto"} {
		m[k] = verdictStmt
	}
	for _, k := range []string{"dnat", "snat", "masquerade", "redirect"} {
		m[k] = d.natStmt
	}
	return m
}

// stmt turns one element of a rule's "expr" array into a Stmt. Statements
// without a decoder are kept verbatim as Unknown.
func (d *jsonDecoder) stmt(raw json.RawMessage) (Stmt, error) {
	kind, body, err := single(raw)
	if err != nil {
		return nil, err
	}
	dec, ok := d.stmts[kind]
	if !ok {
		return Unknown{Raw: string(raw)}, nil
	}
	st, err := dec(kind, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return st, nil
}

func (d *jsonDecoder) matchStmt(_ string, body json.RawMessage) (Stmt, error) {
	var m struct {
		Op          string
		Left, Right json.RawMessage
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	l, r, err := d.two("left", m.Left, "right", m.Right)
	if err != nil {
		return nil, err
	}
	return Match{Op: m.Op, Left: l, Right: r}, nil
}

func verdictStmt(kind string, body json.RawMessage) (Stmt, error) {
	v, err := verdictExpr(kind, body)
	if err != nil {
		return nil, err
	}
	return Verdict(v.(VerdictExpr)), nil
}

func (d *jsonDecoder) vmapStmt(_ string, body json.RawMessage) (Stmt, error) {
	k, data, err := d.lookup(body)
	if err != nil {
		return nil, err
	}
	return VMap{Key: k, Data: data}, nil
}

func (d *jsonDecoder) natStmt(kind string, body json.RawMessage) (Stmt, error) {
	var n struct {
		Family     string
		Addr, Port json.RawMessage
		Flags      json.RawMessage
	}
	if len(body) > 0 && string(body) != "null" {
		if err := json.Unmarshal(body, &n); err != nil {
			return nil, err
		}
	}
	st := NAT{Kind: kind, Family: n.Family, Flags: stringOrList(n.Flags)}
	var err error
	if len(n.Addr) > 0 {
		if st.Addr, err = d.expr(n.Addr); err != nil {
			return nil, fmt.Errorf("addr: %w", err)
		}
	}
	if len(n.Port) > 0 {
		if st.Port, err = d.expr(n.Port); err != nil {
			return nil, fmt.Errorf("port: %w", err)
		}
	}
	return st, nil
}

func rejectStmt(_ string, body json.RawMessage) (Stmt, error) {
	var r struct{ Type, Expr string }
	_ = json.Unmarshal(body, &r) // "reject": null is valid
	return Reject{Type: r.Type, Code: r.Expr}, nil
}

func (d *jsonDecoder) mangleStmt(_ string, body json.RawMessage) (Stmt, error) {
	var m struct{ Key, Value json.RawMessage }
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	k, v, err := d.two("key", m.Key, "value", m.Value)
	if err != nil {
		return nil, err
	}
	return Mangle{Key: k, Value: v}, nil
}

func (d *jsonDecoder) setStmt(_ string, body json.RawMessage) (Stmt, error) {
	var s struct {
		Op, Set string
		Elem    json.RawMessage
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	e, err := d.expr(s.Elem)
	if err != nil {
		return nil, fmt.Errorf("elem: %w", err)
	}
	return SetUpdate{Op: s.Op, Set: strings.TrimPrefix(s.Set, "@"), Elem: e}, nil
}

func counterStmt(_ string, body json.RawMessage) (Stmt, error) {
	var name string
	if json.Unmarshal(body, &name) == nil {
		return Counter{Name: name}, nil
	}
	return Counter{}, nil // an anonymous counter carries its packet counts
}
