// Command svctrace-hostexec is the only tool in the plugin's image besides
// the plugin: linked as chroot it runs `chroot NEWROOT COMMAND…`, linked as
// iptables, nft, conntrack, … it runs the host's command of that name under
// $SVCTRACE_HOST_ROOT (default /host). See docs/release.md.
package main

import (
	"cmp"
	"fmt"
	"os"

	"github.com/svctrace/kubectl-svctrace/internal/hostexec"
)

func main() {
	root := cmp.Or(os.Getenv("SVCTRACE_HOST_ROOT"), hostexec.DefaultRoot)
	p, err := hostexec.Resolve(os.Args, root)
	if err == nil {
		err = hostexec.Exec(p) // returns only on failure
	}
	fmt.Fprintf(os.Stderr, "svctrace-hostexec: %v\n", err)
	os.Exit(hostexec.ExitCode(err))
}
