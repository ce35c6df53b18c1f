package source

import (
	"bytes"

	"github.com/go-json-experiment/json/jsontext"
)

// header is what deciding whether a trace needs an object takes: its kind,
// name, namespace and labels, and for events what they are about.
type header struct {
	apiVersion, kind, name, namespace string
	labels                            map[string]string
	involvedKind, involvedName        string
	eventType                         string
	// unsure means the scan met a form it does not read (flow style,
	// quoting it cannot undo, anchors): the object must be decoded.
	unsure bool
	// metaRead is set once the whole metadata mapping has been read.
	metaRead bool
}

// complete tells that the fields read so far decide: every kind but
// Event is decided by its metadata, so the scan can stop before the spec
// and status, which kubectl writes after it.
func (h *header) complete() bool {
	return h.metaRead && h.kind != "" && h.apiVersion != "" && h.kind != "Event"
}

// set records the value of a field the header holds; parent is the path
// of the mapping the field is in ("" at the top).
func (h *header) set(parent, key, v string) {
	switch parent {
	case "":
		switch key {
		case "apiVersion":
			h.apiVersion = v
		case "kind":
			h.kind = v
		case "type":
			h.eventType = v
		}
	case "metadata":
		switch key {
		case "name":
			h.name = v
		case "namespace":
			h.namespace = v
		}
	case "metadata.labels":
		if h.labels == nil {
			h.labels = map[string]string{}
		}
		h.labels[key] = v
	case "involvedObject":
		switch key {
		case "kind":
			h.involvedKind = v
		case "name":
			h.involvedName = v
		}
	}
}

// wanted tells the mappings whose fields the header reads.
func wantedParent(path string) bool {
	switch path {
	case "", "metadata", "metadata.labels", "involvedObject":
		return true
	}
	return false
}

// wantedLeaf tells whether key under parent is a field the header reads.
func wantedLeaf(parent, key string) bool {
	switch parent {
	case "":
		return key == "apiVersion" || key == "kind" || key == "type"
	case "metadata":
		return key == "name" || key == "namespace"
	case "involvedObject":
		return key == "kind" || key == "name"
	}
	return parent == "metadata.labels"
}

type frame struct {
	indent int
	path   string
	leaf   bool // a wanted scalar field: nothing may be nested under it
	open   bool // "key:" with its value on the lines below
}

// yamlHeader reads the header of one block-style YAML mapping by its lines
// alone. It reads only plain or simply quoted scalars of the mappings it
// wants, and marks the header unsure at anything else there; the lines of
// every other mapping are skipped by their indentation.
func yamlHeader(body []byte) header {
	var h header
	var stack []frame
	metaOpen := false
	for len(body) > 0 && !h.unsure {
		var l []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			l, body = body[:i], body[i+1:]
		} else {
			l, body = body, nil
		}
		indent, text := indentOf(l)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		// "key:" followed by "- entry" at the key's own indent (as
		// kubectl writes sequences) keeps the entries under the key.
		entry := text[0] == '-' && (len(text) == 1 || text[1] == ' ')
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.indent < indent || top.indent == indent && entry && top.open {
				break
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 && metaOpen {
			h.metaRead, metaOpen = true, false
			if h.complete() {
				break
			}
		}
		parent := ""
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.leaf {
				h.unsure = true // a wanted value goes on below its key
				break
			}
			parent = top.path
		}
		if !wantedParent(parent) {
			continue
		}
		key, val, ok := yamlKey(text)
		if !ok {
			h.unsure = true
			break
		}
		path := key
		if parent != "" {
			path = parent + "." + key
		}
		leaf := wantedLeaf(parent, key)
		metaOpen = metaOpen || path == "metadata"
		stack = append(stack, frame{indent: indent, path: path, leaf: leaf && val != "", open: val == ""})
		switch {
		case leaf && val == "":
			h.unsure = true // null, or the value on the next line
		case leaf:
			v, ok := plainScalar(val)
			if !ok {
				h.unsure = true
			}
			h.set(parent, key, v)
		case val != "" && wantedParent(path):
			h.unsure = true // metadata: {…} in flow style
		}
	}
	return h
}

// yamlKey splits "key: value" in a block mapping; ok is false for keys it
// does not read (quoted, complex, sequences at this level).
func yamlKey(text []byte) (key, val string, ok bool) {
	switch text[0] {
	case '"', '\'', '?', '-', '{', '[', '&', '*', '!', '|', '>', '%', '@', '`', '<':
		return "", "", false
	}
	i := bytes.Index(text, []byte(": "))
	switch {
	case i > 0:
		key, val = string(bytes.TrimRight(text[:i], " \t")), string(bytes.TrimSpace(text[i+2:]))
	case text[len(text)-1] == ':':
		key = string(bytes.TrimRight(text[:len(text)-1], " \t"))
	default:
		return "", "", false
	}
	if len(val) > 0 && val[0] == '#' {
		val = ""
	}
	return key, val, true
}

// plainScalar reads a scalar written plain, or quoted without escapes.
func plainScalar(v string) (string, bool) {
	switch v[0] {
	case '"':
		if len(v) >= 2 && v[len(v)-1] == '"' && !bytesContainsAny(v[1:len(v)-1], `"\`) {
			return v[1 : len(v)-1], true
		}
		return "", false
	case '\'':
		if len(v) >= 2 && v[len(v)-1] == '\'' && !bytesContainsAny(v[1:len(v)-1], `'`) {
			return v[1 : len(v)-1], true
		}
		return "", false
	case '&', '*', '!', '|', '>', '{', '[', '%', '@', '`', '#':
		return "", false
	}
	if bytesContainsAny(v, "#") || v == "~" || v == "null" || v == "Null" || v == "NULL" {
		return "", false
	}
	return v, true
}

func bytesContainsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}

// jsonHeader reads the header of one JSON object, skipping the values it
// does not want; dec is reused between calls.
func jsonHeader(dec *jsontext.Decoder, body []byte) header {
	var h header
	dec.Reset(bytes.NewReader(body), jsonOptions...)
	if !jsonMembers(dec, "", &h) {
		h.unsure = true
	}
	return h
}

// jsonMembers reads the members of the object dec is at, recursing into
// the wanted ones; false means the object did not have the expected form.
func jsonMembers(dec *jsontext.Decoder, parent string, h *header) bool {
	if t, err := dec.ReadToken(); err != nil || t.Kind() != '{' {
		return false
	}
	for dec.PeekKind() == '"' {
		t, err := dec.ReadToken()
		if err != nil {
			return false
		}
		key, path := t.String(), t.String()
		if parent != "" {
			path = parent + "." + key
		}
		switch {
		case wantedLeaf(parent, key):
			v, err := dec.ReadToken()
			if err != nil {
				return false
			}
			switch {
			case v.Kind() == '"':
				h.set(parent, key, v.String())
			case v.Kind() != 'n' || parent == "metadata.labels":
				return false // null is absent, but not as a label's value
			}
		case wantedParent(path) && dec.PeekKind() == '{':
			if !jsonMembers(dec, path, h) {
				return false
			}
			if path == "metadata" {
				if h.metaRead = true; h.complete() {
					return true
				}
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return false
			}
		}
	}
	_, err := dec.ReadToken()
	return err == nil
}
