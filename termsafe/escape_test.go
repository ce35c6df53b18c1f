package termsafe

import (
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"ünïcode ✔ 10.244.1.7:9376", "ünïcode ✔ 10.244.1.7:9376"},
		{"\x1b]0;owned\x07", "^[]0;owned^G"},
		{"\x1b[2J\x1b[31mred", "^[[2J^[[31mred"},
		{"a\rb\nc\td", `a\rb\nc\td`},
		{"nul\x00 bs\x08 del\x7f", "nul^@ bs^H del^?"},
		{"c1 \u009b31m \u009d0;x", `c1 \u009b31m \u009d0;x`},
		{"bidi \u202eevil\u2066", `bidi \u202eevil\u2066`},
		{"bad \x9b utf8 \xff", `bad \x9b utf8 \xff`},
		{"replacement \uFFFD stays", "replacement \uFFFD stays"},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type inner struct {
	Text  string
	Names []string
}

type outer struct {
	Name     string
	Kind     kind
	Inner    inner
	Ptr      *inner
	Shared   *inner
	Labels   map[string]string
	Any      any
	Count    int
	hidden   string
	Children []outer
}

type kind string

func TestCopyEscapesEveryStringAndLeavesTheOriginal(t *testing.T) {
	shared := &inner{Text: "s\x1b"}
	in := outer{
		Name: "n\x1b", Kind: "k\x07", Inner: inner{Text: "i\r", Names: []string{"x\x1b"}},
		Ptr: &inner{Text: "p\x1b"}, Shared: shared, Labels: map[string]string{"k\x1b": "v\x1b"},
		Any: inner{Text: "a\x1b"}, Count: 3, hidden: "h\x1b",
		Children: []outer{{Name: "c\x1b", Shared: shared}},
	}
	got := Copy(in)
	if got.Name != "n^[" || got.Kind != "k^G" || got.Inner.Text != `i\r` || got.Inner.Names[0] != "x^[" ||
		got.Ptr.Text != "p^[" || got.Labels["k^["] != "v^[" || got.Any.(inner).Text != "a^[" ||
		got.Children[0].Name != "c^[" || got.Count != 3 {
		t.Errorf("copy not escaped: %+v", got)
	}
	if got.Shared != got.Children[0].Shared || got.Shared == shared {
		t.Error("a pointer shared in the original is not shared in the copy, or is the original")
	}
	if in.Name != "n\x1b" || in.Ptr.Text != "p\x1b" || in.Labels["k\x1b"] != "v\x1b" || shared.Text != "s\x1b" || in.Inner.Names[0] != "x\x1b" {
		t.Errorf("the original changed: %+v", in)
	}
	if got.hidden != "h\x1b" {
		t.Error("unexported fields are copied as they are")
	}
}

func TestCopyKeepsNil(t *testing.T) {
	got := Copy(&outer{})
	if got.Ptr != nil || got.Labels != nil || got.Any != nil || got.Children != nil {
		t.Errorf("nil became non-nil: %+v", got)
	}
	if Copy[*outer](nil) != nil {
		t.Error("nil pointer copied to non-nil")
	}
}

func TestQuoted(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": "plain ✔"}` + "\n", `{"a": "plain ✔"}` + "\n"},
		{"{\"a\": \"del\x7f c1\u009b bidi\u202e\"}\n\t", `{"a": "del\u007f c1\u009b bidi\u202e"}` + "\n\t"},
	}
	for _, tt := range tests {
		if got := string(Quoted([]byte(tt.in))); got != tt.want {
			t.Errorf("Quoted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
