package tui

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRunRefusesNonTerminal(t *testing.T) {
	var out strings.Builder
	err := Run(t.Context(), Config{Trace: demoTrace(t), Out: &out})
	if !IsNotTerminal(err) {
		t.Fatalf("Run to a buffer: %v, want NotTerminalError", err)
	}
	if out.Len() != 0 {
		t.Errorf("Run wrote %q before refusing", out.String())
	}
}

// fd stands for an open file: the terminal or not, as the test's
// isTerminal says of its number.
type fd uintptr

func (f fd) Fd() uintptr               { return uintptr(f) }
func (fd) Read([]byte) (int, error)    { return 0, io.EOF }
func (fd) Write(b []byte) (int, error) { return len(b), nil }

// TestTerminals: the UI needs a terminal to draw on and one to read keys
// from; with either redirected (-i < /dev/null) the command prints text.
func TestTerminals(t *testing.T) {
	const tty, file fd = 1, 2
	isTerminal := func(f uintptr) bool { return f == uintptr(tty) }
	tests := []struct {
		name   string
		in     io.Reader
		out    io.Writer
		stream string // "" when the UI may start
	}{
		{"both terminals", tty, tty, ""},
		{"standard input, which the UI reopens", nil, tty, ""},
		{"output to a file", tty, file, "stdout"},
		{"output to a buffer", tty, &strings.Builder{}, "stdout"},
		{"input from a file or /dev/null", file, tty, "stdin"},
		{"input from a reader", strings.NewReader("q"), tty, "stdin"},
		{"neither: output first", file, file, "stdout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := terminals(tt.in, tt.out, isTerminal)
			var nt NotTerminalError
			switch {
			case tt.stream == "" && err != nil:
				t.Fatalf("terminals: %v, want none", err)
			case tt.stream != "" && !errors.As(err, &nt):
				t.Fatalf("terminals: %v, want NotTerminalError", err)
			case tt.stream != "":
				if nt.Stream != tt.stream || !strings.Contains(err.Error(), "terminal on "+tt.stream) || !strings.HasPrefix(nt.Notice(), tt.stream+" is not a terminal") {
					t.Errorf("stream %q, error %q, notice %q; want them about %s", nt.Stream, err, nt.Notice(), tt.stream)
				}
			}
		})
	}
}
