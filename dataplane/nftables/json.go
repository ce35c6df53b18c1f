package nftables

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/knftables"
)

// ParseJSON reads the output of `nft -j list ruleset` (or `nft -j list table
// ...`). Objects it does not model (flowtables, counters, ...) are skipped;
// statements it does not model are kept as Unknown. Malformed input returns
// an error naming the offending object, e.g. `nftables[12] (rule in chain
// "services")`.
func ParseJSON(r io.Reader) (*Ruleset, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading nft JSON: %w", err)
	}
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(data, err)
	}
	if doc.Nftables == nil {
		return nil, fmt.Errorf(`nft JSON: no "nftables" array (expected the output of "nft -j list ruleset")`)
	}
	p := &jsonParser{rs: &Ruleset{}, dec: newJSONDecoder()}
	for i, obj := range doc.Nftables {
		if err := p.object(obj); err != nil {
			return nil, fmt.Errorf("nft JSON nftables[%d]: %w", i, err)
		}
	}
	return p.rs, nil
}

// decodeError names where the JSON broke, and recognises the text listing
// people often save instead of the JSON one.
func decodeError(data []byte, err error) error {
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("table ")) || bytes.HasPrefix(trimmed, []byte("#")) {
		return fmt.Errorf("nft JSON: this is the text listing of `nft list ruleset`; save the JSON one with `nft -j list ruleset`")
	}
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 || offset > int64(len(data)) {
		return fmt.Errorf("nft JSON: %w (expected the output of `nft -j list ruleset`)", err)
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return fmt.Errorf("nft JSON: line %d, column %d: %w (expected the output of `nft -j list ruleset`)", line, col, err)
}

// unmarshalObject decodes one nftables object, naming a mistyped field
// plainly rather than by the Go struct it was meant for.
func unmarshalObject(raw json.RawMessage, v any) error {
	err := json.Unmarshal(raw, v)
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// Field is the Go path ("jsonHeader.name"); the JSON key is its end.
		field := typ.Field[strings.LastIndex(typ.Field, ".")+1:]
		return fmt.Errorf("field %q is a JSON %s, where nft writes a %s", field, typ.Value, jsonKind(typ.Type.Kind().String()))
	}
	return err
}

// jsonKind names a Go kind the way JSON does.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}

type jsonParser struct {
	rs  *Ruleset
	dec *jsonDecoder
}

func (p *jsonParser) table(family, name string) *Table {
	f := knftables.Family(family)
	if t := p.rs.Table(f, name); t != nil {
		return t
	}
	t := newTable(f, name)
	p.rs.Tables = append(p.rs.Tables, t)
	return t
}

func (p *jsonParser) object(obj map[string]json.RawMessage) error {
	for kind, raw := range obj {
		var err error
		switch kind {
		case "table":
			err = p.tableObj(raw)
		case "chain":
			err = p.chainObj(raw)
		case "rule":
			err = p.ruleObj(raw)
		case "set", "map":
			err = p.setObj(raw, kind == "map")
		default:
			continue // metainfo, counter, flowtable, ...: not needed
		}
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	return nil
}

type jsonHeader struct {
	Family  string      `json:"family"`
	Table   string      `json:"table"`
	Name    string      `json:"name"`
	Handle  json.Number `json:"handle"`
	Comment string      `json:"comment"`
}

func (h jsonHeader) check(needTable bool) error {
	if h.Family == "" || h.Name == "" || (needTable && h.Table == "") {
		return fmt.Errorf("missing family, table or name")
	}
	return nil
}

func (p *jsonParser) tableObj(raw json.RawMessage) error {
	var h jsonHeader
	if err := unmarshalObject(raw, &h); err != nil {
		return err
	}
	if err := h.check(false); err != nil {
		return err
	}
	t := p.table(h.Family, h.Name)
	t.Handle = atoiOr0(h.Handle)
	t.Comment = h.Comment
	return nil
}

func (p *jsonParser) chainObj(raw json.RawMessage) error {
	var c struct {
		jsonHeader
		Type   string      `json:"type"`
		Hook   string      `json:"hook"`
		Prio   json.Number `json:"prio"`
		Policy string      `json:"policy"`
	}
	if err := unmarshalObject(raw, &c); err != nil {
		return err
	}
	if err := c.check(true); err != nil {
		return err
	}
	ch := &Chain{}
	ch.Family, ch.Table, ch.Name = knftables.Family(c.Family), c.Table, c.Name
	h := atoiOr0(c.Handle)
	ch.Handle = &h
	if c.Comment != "" {
		ch.Comment = &c.Comment
	}
	if c.Hook != "" {
		typ, hook := knftables.BaseChainType(c.Type), knftables.BaseChainHook(c.Hook)
		prio := knftables.BaseChainPriority(c.Prio.String())
		pol := knftables.BaseChainPolicy(c.Policy)
		ch.Type, ch.Hook, ch.Priority, ch.Policy = &typ, &hook, &prio, &pol
		n, err := c.Prio.Int64()
		if err != nil {
			return fmt.Errorf("chain %q: priority %q is not a number", c.Name, c.Prio)
		}
		ch.Prio = int(n)
	}
	p.table(c.Family, c.Table).addChain(ch)
	return nil
}

func (p *jsonParser) ruleObj(raw json.RawMessage) error {
	var r struct {
		Family  string            `json:"family"`
		Table   string            `json:"table"`
		Chain   string            `json:"chain"`
		Handle  json.Number       `json:"handle"`
		Comment string            `json:"comment"`
		Expr    []json.RawMessage `json:"expr"`
	}
	if err := unmarshalObject(raw, &r); err != nil {
		return err
	}
	if r.Family == "" || r.Table == "" || r.Chain == "" {
		return fmt.Errorf("missing family, table or chain")
	}
	t := p.table(r.Family, r.Table)
	ch := t.Chain(r.Chain)
	if ch == nil {
		return fmt.Errorf("rule handle %s: chain %q was not listed before its rules", r.Handle, r.Chain)
	}
	rule := &Rule{Chain: r.Chain, Handle: atoiOr0(r.Handle), Position: len(ch.Rules) + 1, Comment: r.Comment}
	for i, e := range r.Expr {
		st, err := p.dec.stmt(e)
		if err != nil {
			return fmt.Errorf("rule handle %d in chain %q, statement %d: %w", rule.Handle, r.Chain, i, err)
		}
		rule.Stmts = append(rule.Stmts, st)
	}
	ch.Rules = append(ch.Rules, rule)
	return nil
}

func (p *jsonParser) setObj(raw json.RawMessage, isMap bool) error {
	var s struct {
		jsonHeader
		Type  json.RawMessage   `json:"type"`
		Map   json.RawMessage   `json:"map"`
		Flags json.RawMessage   `json:"flags"`
		Elem  []json.RawMessage `json:"elem"`
	}
	if err := unmarshalObject(raw, &s); err != nil {
		return err
	}
	if err := s.check(true); err != nil {
		return err
	}
	set := &Set{Name: s.Name, IsMap: isMap, Comment: s.Comment, Handle: atoiOr0(s.Handle)}
	set.Key = stringOrList(s.Type)
	set.Data = strings.Join(stringOrList(s.Map), " . ")
	set.Flags = stringOrList(s.Flags)
	for i, e := range s.Elem {
		el, err := p.dec.element(e, isMap)
		if err != nil {
			return fmt.Errorf("%q element %d: %w", s.Name, i, err)
		}
		if isMap {
			el.Map = s.Name
		} else {
			el.Set = s.Name
		}
		set.Elements = append(set.Elements, el)
	}
	p.table(s.Family, s.Table).Sets[s.Name] = set
	return nil
}

func stringOrList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

func atoiOr0(n json.Number) int {
	v, err := n.Int64()
	if err != nil {
		return 0
	}
	return int(v)
}
