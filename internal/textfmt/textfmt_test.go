package textfmt

import (
	"slices"
	"testing"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  []string
	}{
		{"a bb ccc", 4, []string{"a bb", "ccc"}},
		{"", 10, []string{""}},
		{"KUBE-SEP-ABCDEFGH x", 8, []string{"KUBE-SEP", "-ABCDEFG", "H x"}},
		{"→ ✔ ok", 3, []string{"→ ✔", "ok"}},
	} {
		if got := Wrap(tc.s, tc.width); !slices.Equal(got, tc.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	if got := Percent(1.0 / 3); got != "33.3%" {
		t.Errorf("Percent(1/3) = %q", got)
	}
	if got := Bar(0.5, 4); got != "██░░" {
		t.Errorf("Bar(0.5, 4) = %q", got)
	}
	if got := HostPort("fd00::1", 80); got != "[fd00::1]:80" {
		t.Errorf("HostPort = %q", got)
	}
	if got := HostPort("10.0.0.1", 80); got != "10.0.0.1:80" {
		t.Errorf("HostPort = %q", got)
	}
}
