package nftables

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonDecoder turns the statements and expressions of `nft -j` output into
// Stmts and Exprs. A JSON object is dispatched on its only key to the
// decoder for that kind. The tables hang off a value rather than package
// variables because the decoders recurse through them.
type jsonDecoder struct {
	stmts map[string]stmtDecoder
	exprs map[string]exprDecoder
}

func newJSONDecoder() *jsonDecoder {
	d := &jsonDecoder{}
	d.stmts = d.stmtDecoders()
	d.exprs = d.exprDecoders()
	return d
}

// exprDecoder decodes the body of an expression object whose key is kind.
type exprDecoder func(kind string, body json.RawMessage) (Expr, error)

func (d *jsonDecoder) exprDecoders() map[string]exprDecoder {
	m := map[string]exprDecoder{
		"payload": payloadExpr,
		"meta":    metaExpr,
		"ct":      metaExpr,
		"fib":     fibExpr,
		"numgen":  numgenExpr,
		"concat":  d.concatExpr,
		"prefix":  d.prefixExpr,
		"set":     d.setExpr,
		"map":     d.mapExpr,
		"elem":    d.elemExpr,
		"range":   d.rangeExpr,
	}
	for _, k := range []string{"&", "|", "^", "<<", ">>"} {
		m[k] = d.binopExpr
	}
	for _, k := range []string{"accept", "drop", "continue", "return", "jump", "goto"} {
		m[k] = verdictExpr
	}
	return m
}

// expr decodes an expression: a scalar or a one-key object.
func (d *jsonDecoder) expr(raw json.RawMessage) (Expr, error) {
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
		return d.anonSet(items)
	case '{':
		return d.object(raw)
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

// object decodes a one-key expression object. Kinds without a decoder are
// kept verbatim as a Value.
func (d *jsonDecoder) object(raw json.RawMessage) (Expr, error) {
	kind, body, err := single(raw)
	if err != nil {
		return nil, err
	}
	dec, ok := d.exprs[kind]
	if !ok {
		return Value(string(raw)), nil
	}
	e, err := dec(kind, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return e, nil
}

// two decodes a pair of operands, naming the one that fails.
func (d *jsonDecoder) two(aName string, a json.RawMessage, bName string, b json.RawMessage) (Expr, Expr, error) {
	x, err := d.expr(a)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", aName, err)
	}
	y, err := d.expr(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", bName, err)
	}
	return x, y, nil
}

// pair decodes a two-element array: a range's bounds or an operator's
// operands.
func (d *jsonDecoder) pair(body json.RawMessage) (Expr, Expr, error) {
	var p []json.RawMessage
	if err := json.Unmarshal(body, &p); err != nil || len(p) != 2 {
		return nil, nil, fmt.Errorf("needs two operands")
	}
	return d.two("first operand", p[0], "second operand", p[1])
}

func payloadExpr(_ string, body json.RawMessage) (Expr, error) {
	var p struct{ Protocol, Field string }
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	return Payload{Proto: p.Protocol, Field: p.Field}, nil
}

func metaExpr(kind string, body json.RawMessage) (Expr, error) {
	var m struct{ Key string }
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if kind == "ct" {
		return CT{Key: m.Key}, nil
	}
	return Meta{Key: m.Key}, nil
}

func fibExpr(_ string, body json.RawMessage) (Expr, error) {
	var f struct {
		Result string
		Flags  json.RawMessage
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, err
	}
	return Fib{Result: f.Result, Flags: stringOrList(f.Flags)}, nil
}

func numgenExpr(_ string, body json.RawMessage) (Expr, error) {
	var n struct {
		Mode        string
		Mod, Offset int
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, err
	}
	// The walk branches once per value: bound it so hostile input cannot
	// exhaust memory.
	if n.Mod <= 0 || n.Mod > 1<<20 {
		return nil, fmt.Errorf("mod %d out of range", n.Mod)
	}
	return Numgen{Mode: n.Mode, Mod: n.Mod, Offset: n.Offset}, nil
}

func (d *jsonDecoder) concatExpr(_ string, body json.RawMessage) (Expr, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, err
	}
	c := make(Concat, 0, len(items))
	for i, it := range items {
		e, err := d.expr(it)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		c = append(c, e)
	}
	return c, nil
}

func (d *jsonDecoder) prefixExpr(_ string, body json.RawMessage) (Expr, error) {
	var p struct {
		Addr json.RawMessage
		Len  int
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	a, err := d.expr(p.Addr)
	if err != nil {
		return nil, fmt.Errorf("addr: %w", err)
	}
	return Prefix{Addr: a.String(), Len: p.Len}, nil
}

func (d *jsonDecoder) rangeExpr(_ string, body json.RawMessage) (Expr, error) {
	lo, hi, err := d.pair(body)
	if err != nil {
		return nil, err
	}
	return Range{Lo: lo, Hi: hi}, nil
}

func (d *jsonDecoder) binopExpr(kind string, body json.RawMessage) (Expr, error) {
	l, r, err := d.pair(body)
	if err != nil {
		return nil, err
	}
	return Binop{Op: kind, Left: l, Right: r}, nil
}

func (d *jsonDecoder) setExpr(_ string, body json.RawMessage) (Expr, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		// a one-element set may be printed as a bare value
		e, err2 := d.expr(body)
		if err2 != nil {
			return nil, err
		}
		return AnonSet{e}, nil
	}
	return d.anonSet(items)
}

func (d *jsonDecoder) mapExpr(_ string, body json.RawMessage) (Expr, error) {
	k, data, err := d.lookup(body)
	if err != nil {
		return nil, err
	}
	return MapLookup{Key: k, Data: data}, nil
}

// lookup decodes the {"key": ..., "data": ...} body of a map or vmap.
func (d *jsonDecoder) lookup(body json.RawMessage) (Expr, Expr, error) {
	var m struct{ Key, Data json.RawMessage }
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, nil, err
	}
	k, err := d.expr(m.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("key: %w", err)
	}
	data, err := d.mapData(m.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	return k, data, nil
}

func (d *jsonDecoder) elemExpr(_ string, body json.RawMessage) (Expr, error) {
	var e struct{ Val json.RawMessage }
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, err
	}
	return d.expr(e.Val)
}

func verdictExpr(kind string, body json.RawMessage) (Expr, error) {
	if kind != "jump" && kind != "goto" {
		return VerdictExpr{Kind: kind}, nil
	}
	var v struct{ Target string }
	if err := json.Unmarshal(body, &v); err != nil || v.Target == "" {
		return nil, fmt.Errorf("missing target")
	}
	return VerdictExpr{Kind: kind, Target: v.Target}, nil
}

func (d *jsonDecoder) anonSet(items []json.RawMessage) (Expr, error) {
	s := make(AnonSet, 0, len(items))
	for i, it := range items {
		e, err := d.expr(it)
		if err != nil {
			return nil, fmt.Errorf("set item %d: %w", i, err)
		}
		s = append(s, e)
	}
	return s, nil
}
