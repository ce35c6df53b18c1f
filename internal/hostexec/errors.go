package hostexec

import (
	"errors"
	"fmt"
)

// ErrChroot marks a root that could not be entered.
var ErrChroot = errors.New("chroot")

// ExitCode is the exit status coreutils chroot gives for err: 125 when the
// root cannot be entered or the command line is wrong, 127 when the command
// is missing, 126 when it cannot run.
func ExitCode(err error) int {
	var nf *NotFoundError
	switch {
	case errors.Is(err, ErrChroot), errors.Is(err, ErrUsage):
		return 125
	case errors.As(err, &nf):
		return 127
	}
	return 126
}

// NotFoundError is a command missing from the root it should run in.
type NotFoundError struct {
	Name, Root string
	Err        error
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s not found in %s: %v (install it on the node)", e.Name, e.Root, e.Err)
}

func (e *NotFoundError) Unwrap() error { return e.Err }
