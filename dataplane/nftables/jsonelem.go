package nftables

import (
	"encoding/json"
	"fmt"

	"sigs.k8s.io/knftables"
)

// mapData decodes the data side of a map lookup or vmap: "@name" or
// {"set": [[key, value], ...]}.
func (d *jsonDecoder) mapData(raw json.RawMessage) (Expr, error) {
	kind, body, err := single(raw)
	if err != nil || kind != "set" {
		return d.expr(raw)
	}
	var pairs [][]json.RawMessage
	if err := json.Unmarshal(body, &pairs); err != nil {
		return nil, fmt.Errorf("inline map: %w", err)
	}
	m := make(AnonMap, 0, len(pairs))
	for i, pr := range pairs {
		if len(pr) != 2 {
			return nil, fmt.Errorf("inline map element needs key and value")
		}
		k, v, err := d.two("key", pr[0], "value", pr[1])
		if err != nil {
			return nil, fmt.Errorf("inline map element %d: %w", i, err)
		}
		m = append(m, MapElem{Key: k, Value: v})
	}
	return m, nil
}

// element decodes one entry of a set's or map's "elem" array.
func (d *jsonDecoder) element(raw json.RawMessage, isMap bool) (knftables.Element, error) {
	var el knftables.Element
	keyRaw := raw
	if isMap {
		var pair []json.RawMessage
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return el, fmt.Errorf("map element needs key and value")
		}
		keyRaw = pair[0]
		v, err := d.expr(pair[1])
		if err != nil {
			return el, fmt.Errorf("value: %w", err)
		}
		el.Value = exprFields(v)
	}
	if kind, body, err := single(keyRaw); err == nil && kind == "elem" {
		var e struct {
			Val     json.RawMessage
			Comment string
		}
		if err := json.Unmarshal(body, &e); err != nil {
			return el, fmt.Errorf("elem: %w", err)
		}
		if e.Comment != "" {
			el.Comment = &e.Comment
		}
		keyRaw = e.Val
	}
	k, err := d.expr(keyRaw)
	if err != nil {
		return el, fmt.Errorf("key: %w", err)
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
