package nftables

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/knftables"
)

// decodeStmt turns one element of a rule's "expr" array into a Stmt.
func decodeStmt(raw json.RawMessage) (Stmt, error) {
	kind, body, err := single(raw)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "match":
		var m struct {
			Op          string
			Left, Right json.RawMessage
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		l, err := decodeExpr(m.Left)
		if err != nil {
			return nil, fmt.Errorf("match left: %w", err)
		}
		r, err := decodeExpr(m.Right)
		if err != nil {
			return nil, fmt.Errorf("match right: %w", err)
		}
		return Match{Op: m.Op, Left: l, Right: r}, nil
	case "accept", "drop", "continue", "return":
		return Verdict{Kind: kind}, nil
	case "jump", "goto":
		var v struct{ Target string }
		if err := json.Unmarshal(body, &v); err != nil || v.Target == "" {
			return nil, fmt.Errorf("%s without a target", kind)
		}
		return Verdict{Kind: kind, Target: v.Target}, nil
	case "vmap":
		var v struct{ Key, Data json.RawMessage }
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, err
		}
		k, err := decodeExpr(v.Key)
		if err != nil {
			return nil, fmt.Errorf("vmap key: %w", err)
		}
		d, err := decodeMapData(v.Data)
		if err != nil {
			return nil, fmt.Errorf("vmap data: %w", err)
		}
		return VMap{Key: k, Data: d}, nil
	case "dnat", "snat", "masquerade", "redirect":
		return decodeNAT(kind, body)
	case "reject":
		var r struct{ Type, Expr string }
		_ = json.Unmarshal(body, &r) // "reject": null is valid
		return Reject{Type: r.Type, Code: r.Expr}, nil
	case "mangle":
		var m struct{ Key, Value json.RawMessage }
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		k, err := decodeExpr(m.Key)
		if err != nil {
			return nil, err
		}
		v, err := decodeExpr(m.Value)
		if err != nil {
			return nil, err
		}
		return Mangle{Key: k, Value: v}, nil
	case "set":
		var s struct {
			Op, Set string
			Elem    json.RawMessage
		}
		if err := json.Unmarshal(body, &s); err != nil {
			return nil, err
		}
		e, err := decodeExpr(s.Elem)
		if err != nil {
			return nil, err
		}
		return SetUpdate{Op: s.Op, Set: strings.TrimPrefix(s.Set, "@"), Elem: e}, nil
	case "counter":
		var name string
		if json.Unmarshal(body, &name) == nil {
			return Counter{Name: name}, nil
		}
		return Counter{}, nil
	}
	return Unknown{Raw: string(raw)}, nil
}

func decodeNAT(kind string, body json.RawMessage) (Stmt, error) {
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
		if st.Addr, err = decodeExpr(n.Addr); err != nil {
			return nil, fmt.Errorf("%s addr: %w", kind, err)
		}
	}
	if len(n.Port) > 0 {
		if st.Port, err = decodeExpr(n.Port); err != nil {
			return nil, fmt.Errorf("%s port: %w", kind, err)
		}
	}
	return st, nil
}

// decodeExpr decodes an expression: a scalar or a one-key object.
func decodeExpr(raw json.RawMessage) (Expr, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 {
		return nil, fmt.Errorf("missing expression")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if strings.HasPrefix(s, "@") {
			return SetRef(s[1:]), nil
		}
		return Value(s), nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		return decodeAnonSet(items)
	case '{':
		return decodeObjectExpr(raw)
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		return Value(strconv.FormatBool(b)), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("unexpected %.40q", string(raw))
	}
	return Value(n.String()), nil
}

func decodeObjectExpr(raw json.RawMessage) (Expr, error) {
	kind, body, err := single(raw)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "payload":
		var p struct{ Protocol, Field string }
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, err
		}
		return Payload{Proto: p.Protocol, Field: p.Field}, nil
	case "meta", "ct":
		var m struct{ Key string }
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		if kind == "ct" {
			return CT{Key: m.Key}, nil
		}
		return Meta{Key: m.Key}, nil
	case "fib":
		var f struct {
			Result string
			Flags  json.RawMessage
		}
		if err := json.Unmarshal(body, &f); err != nil {
			return nil, err
		}
		return Fib{Result: f.Result, Flags: stringOrList(f.Flags)}, nil
	case "numgen":
		var n struct {
			Mode        string
			Mod, Offset int
		}
		if err := json.Unmarshal(body, &n); err != nil {
			return nil, err
		}
		if n.Mod <= 0 || n.Mod > 1<<20 {
			return nil, fmt.Errorf("numgen mod %d out of range", n.Mod)
		}
		return Numgen{Mode: n.Mode, Mod: n.Mod, Offset: n.Offset}, nil
	case "concat":
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, err
		}
		c := make(Concat, 0, len(items))
		for _, it := range items {
			e, err := decodeExpr(it)
			if err != nil {
				return nil, err
			}
			c = append(c, e)
		}
		return c, nil
	case "prefix":
		var p struct {
			Addr json.RawMessage
			Len  int
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, err
		}
		a, err := decodeExpr(p.Addr)
		if err != nil {
			return nil, err
		}
		return Prefix{Addr: a.String(), Len: p.Len}, nil
	case "range":
		var pair []json.RawMessage
		if err := json.Unmarshal(body, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("range needs two bounds")
		}
		lo, err := decodeExpr(pair[0])
		if err != nil {
			return nil, err
		}
		hi, err := decodeExpr(pair[1])
		if err != nil {
			return nil, err
		}
		return Range{Lo: lo, Hi: hi}, nil
	case "set":
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			// a one-element set may be printed as a bare value
			e, err2 := decodeExpr(body)
			if err2 != nil {
				return nil, err
			}
			return AnonSet{e}, nil
		}
		return decodeAnonSet(items)
	case "map":
		var m struct{ Key, Data json.RawMessage }
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		k, err := decodeExpr(m.Key)
		if err != nil {
			return nil, err
		}
		d, err := decodeMapData(m.Data)
		if err != nil {
			return nil, err
		}
		return MapLookup{Key: k, Data: d}, nil
	case "&", "|", "^", "<<", ">>":
		var pair []json.RawMessage
		if err := json.Unmarshal(body, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("%s needs two operands", kind)
		}
		l, err := decodeExpr(pair[0])
		if err != nil {
			return nil, err
		}
		r, err := decodeExpr(pair[1])
		if err != nil {
			return nil, err
		}
		return Binop{Op: kind, Left: l, Right: r}, nil
	case "elem":
		var e struct{ Val json.RawMessage }
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, err
		}
		return decodeExpr(e.Val)
	case "accept", "drop", "continue", "return":
		return VerdictExpr{Kind: kind}, nil
	case "jump", "goto":
		var v struct{ Target string }
		if err := json.Unmarshal(body, &v); err != nil || v.Target == "" {
			return nil, fmt.Errorf("%s without a target", kind)
		}
		return VerdictExpr{Kind: kind, Target: v.Target}, nil
	}
	return Value(string(raw)), nil
}

func decodeAnonSet(items []json.RawMessage) (Expr, error) {
	s := make(AnonSet, 0, len(items))
	for _, it := range items {
		e, err := decodeExpr(it)
		if err != nil {
			return nil, err
		}
		s = append(s, e)
	}
	return s, nil
}

// decodeMapData decodes the data side of a map lookup or vmap: "@name" or
// {"set": [[key, value], ...]}.
func decodeMapData(raw json.RawMessage) (Expr, error) {
	kind, body, err := single(raw)
	if err != nil || kind != "set" {
		return decodeExpr(raw)
	}
	var pairs [][]json.RawMessage
	if err := json.Unmarshal(body, &pairs); err != nil {
		return nil, fmt.Errorf("inline map: %w", err)
	}
	m := make(AnonMap, 0, len(pairs))
	for _, pr := range pairs {
		if len(pr) != 2 {
			return nil, fmt.Errorf("inline map element needs key and value")
		}
		k, err := decodeExpr(pr[0])
		if err != nil {
			return nil, err
		}
		v, err := decodeExpr(pr[1])
		if err != nil {
			return nil, err
		}
		m = append(m, MapElem{Key: k, Value: v})
	}
	return m, nil
}

// decodeElement decodes one entry of a set's or map's "elem" array.
func decodeElement(raw json.RawMessage, isMap bool) (knftables.Element, error) {
	var el knftables.Element
	keyRaw := raw
	if isMap {
		var pair []json.RawMessage
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return el, fmt.Errorf("map element needs key and value")
		}
		keyRaw = pair[0]
		v, err := decodeExpr(pair[1])
		if err != nil {
			return el, err
		}
		el.Value = exprFields(v)
	}
	if kind, body, err := single(keyRaw); err == nil && kind == "elem" {
		var e struct {
			Val     json.RawMessage
			Comment string
		}
		if err := json.Unmarshal(body, &e); err != nil {
			return el, err
		}
		if e.Comment != "" {
			el.Comment = &e.Comment
		}
		keyRaw = e.Val
	}
	k, err := decodeExpr(keyRaw)
	if err != nil {
		return el, err
	}
	el.Key = exprFields(k)
	return el, nil
}

// exprFields splits an element key or value into canonical fields.
func exprFields(e Expr) []string {
	if c, ok := e.(Concat); ok {
		out := make([]string, len(c))
		for i, x := range c {
			out[i] = Canonical(x.String())
		}
		return out
	}
	return []string{Canonical(e.String())}
}

// single unpacks a one-key JSON object.
func single(raw json.RawMessage) (string, json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", nil, fmt.Errorf("expected an object, got %.40q", string(raw))
	}
	if len(obj) != 1 {
		return "", nil, fmt.Errorf("expected an object with one key, got %d keys", len(obj))
	}
	for k, v := range obj {
		return k, v, nil
	}
	return "", nil, nil
}
