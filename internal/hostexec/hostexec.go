// Package hostexec runs a command of the node's own root file system from
// inside the plugin's image, which holds no tools of its own: node mode and
// --serve mount the host's root at /host and run the host's iptables, nft,
// ipset and conntrack there, so their versions match the node's kernel and
// the backend kube-proxy chose.
package hostexec

import (
	_ "embed"
	"errors"
	"fmt"
	"path"
	"strings"
)

// DefaultRoot is where node mode and the --serve DaemonSet mount the host's
// root file system (deploy/serve-daemonset.yaml).
const DefaultRoot = "/host"

// tools.txt names the host commands the image offers under their own names,
// one a line, each a link to this program, for libraries that run them by
// name; hack/tools/mkimage reads the same file to make the links.
//
//go:embed tools.txt
var toolList string

// Tools returns the names in tools.txt.
func Tools() []string { return strings.Fields(toolList) }

// Plan is one command to run with Root as its root directory.
type Plan struct {
	Root string
	Argv []string
}

// ErrUsage marks a command line that names nothing to run.
var ErrUsage = errors.New("usage: chroot NEWROOT COMMAND [ARG...]")

// Resolve decides what argv asks for. Called as chroot it is
// `chroot NEWROOT COMMAND [ARG...]`, the form node mode uses; called by a
// tool's name it runs the host's tool of that name under root.
func Resolve(argv []string, root string) (Plan, error) {
	if len(argv) == 0 {
		return Plan{}, ErrUsage
	}
	name := path.Base(argv[0])
	if name != "chroot" {
		return Plan{Root: root, Argv: append([]string{name}, argv[1:]...)}, nil
	}
	args := argv[1:]
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] != "--" {
			return Plan{}, fmt.Errorf("chroot: option %q is not supported: %w", args[0], ErrUsage)
		}
		args = args[1:]
	}
	if len(args) < 2 {
		// coreutils chroot would start a shell; the image has none.
		return Plan{}, ErrUsage
	}
	return Plan{Root: args[0], Argv: args[1:]}, nil
}
