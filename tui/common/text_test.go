package common

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"a b c", 10, []string{"a b c"}},
		{"via KUBE-SERVICES → KUBE-SVC-ODX2UBAZM7RQWOIU", 30, []string{"via KUBE-SERVICES →", "KUBE-SVC-ODX2UBAZM7RQWOIU"}},
		{"abcdefghij klm", 4, []string{"abcd", "efgh", "ij", "klm"}},
		{"one  two\tthree", 9, []string{"one two", "three"}},
	}
	for _, tt := range tests {
		if got := textfmt.Wrap(tt.s, tt.width); !cmp.Equal(got, tt.want) {
			t.Errorf("textfmt.Wrap(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
	}
}

func TestPane(t *testing.T) {
	st := DefaultStyles(NewRenderer(nil, true))
	tests := []struct {
		lines         []string
		width, height int
		want          string
	}{
		{nil, 3, 2, "───\n"},
		{[]string{"a", "bcdef"}, 3, 4, "───\na\nbc…\n"},
		{[]string{"a", "b"}, 2, 2, "──\na"},
		{nil, -1, 1, ""},
		{[]string{"a"}, 2, 0, ""},
	}
	for _, tt := range tests {
		if got := st.Pane(tt.lines, tt.width, tt.height); got != tt.want {
			t.Errorf("Pane(%q, %d, %d) = %q, want %q", tt.lines, tt.width, tt.height, got, tt.want)
		}
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		p     float64
		width int
		want  string
	}{
		{0, 4, "░░░░"}, {1, 4, "████"}, {1.0 / 3, 10, "███░░░░░░░"}, {2, 3, "███"}, {-1, 3, "░░░"}, {0.5, 0, ""},
	}
	for _, tt := range tests {
		if got := textfmt.Bar(tt.p, tt.width); got != tt.want {
			t.Errorf("textfmt.Bar(%v, %d) = %q, want %q", tt.p, tt.width, got, tt.want)
		}
	}
}
