package main

import "fmt"

// Exit codes, documented in README.md and docs/output.md.
const (
	ExitOK       = 0 // the trace ran and found no error
	ExitFailed   = 1 // the trace could not run
	ExitUsage    = 2 // the command line was wrong
	ExitFindings = 3 // the trace ran and found at least one error
)

// exitError carries an exit code; err is printed unless nil.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }
