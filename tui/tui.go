// Package tui is the interactive view of a trace: the Service's path, its
// findings, the proxy's chains and a packet stepped through them.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/term"

	"github.com/svctrace/kubectl-svctrace/fleet"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Config is what the command hands the UI.
type Config struct {
	// Trace is shown first; nil shows an empty trace until Reload answers.
	Trace *trace.Trace
	// Reload builds a fresh trace, for the r key and for Updates. Nil
	// disables refreshing.
	Reload func(ctx context.Context) (*trace.Trace, error)
	// Updates, when set, signals that the cluster changed; the UI then
	// calls Reload and swaps the data in place, keeping the cursor.
	Updates <-chan struct{}
	// In and Out are the terminal; both must be one (see NotTerminalError).
	// A nil In is standard input, for which the UI opens the controlling
	// terminal when standard input is redirected.
	In  io.Reader
	Out io.Writer
	// NoColor turns every style off, as NO_COLOR asks.
	NoColor bool
	// Fleet, when set, adds the Nodes screen of --all-nodes and starts on
	// it; Trace is then the trace of Fleet.Shown.
	Fleet *Fleet
}

// Fleet is what --all-nodes read: a row per node and the Service traced
// through each node's rules.
type Fleet struct {
	Service string
	// Rows are compared and sorted (fleet.Compare).
	Rows []fleet.Row
	// Traces are by node; a node that could not be read has none.
	Traces map[string]*trace.Trace
	// Shown is the node whose trace Config.Trace is.
	Shown string
}

// NotTerminalError is returned by Run when Out or In is not a terminal;
// the command should then print the text output instead.
type NotTerminalError struct {
	// Stream is the one that is not a terminal: "stdout" (also when
	// empty) or "stdin".
	Stream string
}

func (e NotTerminalError) Error() string {
	return "interactive mode needs a terminal on " + e.stream() + "; drop -i/--tui to print the trace, or use -o json"
}

// Notice is the line to print when falling back to the text output.
func (e NotTerminalError) Notice() string {
	return e.stream() + " is not a terminal; printing the trace instead of opening the UI"
}

func (e NotTerminalError) stream() string {
	if e.Stream == "" {
		return "stdout"
	}
	return e.Stream
}

// IsNotTerminal reports whether err says the UI could not start for lack
// of a terminal.
func IsNotTerminal(err error) bool {
	var nt NotTerminalError
	return errors.As(err, &nt)
}

// Run shows the UI until the user quits or ctx ends. It returns
// NotTerminalError without touching Out when Out or In is not a terminal:
// keys could not be read from a file or /dev/null.
func Run(ctx context.Context, cfg Config) error {
	if err := terminals(cfg.In, cfg.Out, term.IsTerminal); err != nil {
		return err
	}
	opts := []tea.ProgramOption{
		tea.WithContext(ctx),
		tea.WithOutput(cfg.Out),
		tea.WithAltScreen(),
		tea.WithMouseCellMotion(),
	}
	if cfg.In != nil {
		opts = append(opts, tea.WithInput(cfg.In))
	}
	_, err := tea.NewProgram(newModel(ctx, cfg), opts...).Run()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled):
		return ctx.Err()
	}
	return fmt.Errorf("terminal ui: %w", err)
}

// terminals checks that out, and in unless nil, are terminals, output
// first: without one there is nothing to draw on.
func terminals(in io.Reader, out io.Writer, isTerminal func(fd uintptr) bool) error {
	isTerm := func(x any) bool {
		f, ok := x.(interface{ Fd() uintptr })
		return ok && isTerminal(f.Fd())
	}
	if !isTerm(out) {
		return NotTerminalError{Stream: "stdout"}
	}
	if in != nil && !isTerm(in) {
		return NotTerminalError{Stream: "stdin"}
	}
	return nil
}
