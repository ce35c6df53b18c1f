package hostexec

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Exec enters p.Root and replaces the process with p.Argv, found on PATH
// inside the new root. It returns only on failure.
func Exec(p Plan) error {
	if err := syscall.Chroot(p.Root); err != nil {
		return fmt.Errorf("%w %s: %w (mount the host's root there; the container needs CAP_SYS_CHROOT)", ErrChroot, p.Root, err)
	}
	if err := os.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in %s: %w", p.Root, err)
	}
	bin, err := exec.LookPath(p.Argv[0])
	if err != nil {
		return &NotFoundError{Name: p.Argv[0], Root: p.Root, Err: err}
	}
	if err := syscall.Exec(bin, p.Argv, os.Environ()); err != nil {
		return fmt.Errorf("run %s in %s: %w", bin, p.Root, err)
	}
	return nil
}
