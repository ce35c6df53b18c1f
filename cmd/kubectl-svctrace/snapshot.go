package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/svctrace/kubectl-svctrace/snapshot"
)

// snapshotOptions are the flags of node mode's one-shot snapshot:
// `kubectl-svctrace --serve --snapshot` writes one snapshot of the node it
// runs on to stdout and exits (the agent pod of --node runs it).
type snapshotOptions struct {
	snapshot  bool
	serve     *bool
	service   string
	addresses string
	nodePorts string
	hostRoot  string
	nodeName  string
}

// addSnapshotFlags registers the snapshot flags after the others, taking
// --serve from the long-running node mode when that defines it.
func addSnapshotFlags(cmd *cobra.Command) *snapshotOptions {
	s := &snapshotOptions{}
	f := cmd.Flags()
	if f.Lookup("serve") == nil {
		s.serve = f.Bool("serve", false, "run on a node as the node agent (with --snapshot: write one snapshot and exit)")
	}
	f.BoolVar(&s.snapshot, "snapshot", false, "with --serve: write one compressed snapshot of this node's dataplane to stdout and exit (docs/snapshot.md)")
	f.StringVar(&s.service, "snapshot-service", "", "with --snapshot: keep the snapshot to this Service (namespace/name)")
	f.StringVar(&s.addresses, "snapshot-addresses", "", "with --snapshot-service: the Service's IPs, comma-separated (IPVS and conntrack filtering)")
	f.StringVar(&s.nodePorts, "snapshot-node-ports", "", "with --snapshot-service: the Service's node ports, comma-separated")
	f.StringVar(&s.hostRoot, "host-root", "/host", "with --snapshot: where the host's root is mounted; its binaries are preferred (run through chroot)")
	f.StringVar(&s.nodeName, "node-name", "", "with --snapshot: the node's name to record (default: $NODE_NAME, else the host name)")
	return s
}

// requested reports whether the command line asks for a snapshot.
func (s *snapshotOptions) requested(cmd *cobra.Command) bool {
	return s.snapshot || cmd.Flags().Changed("snapshot-service")
}

// run writes the snapshot to out.
func (s *snapshotOptions) run(ctx context.Context, cmd *cobra.Command, out io.Writer) error {
	serve, _ := cmd.Flags().GetBool("serve")
	if !serve || !s.snapshot {
		return usageError(errors.New("--snapshot runs on a node: use kubectl-svctrace --serve --snapshot"))
	}
	var filter *snapshot.Filter
	switch {
	case s.service != "":
		f, err := snapshot.ParseFilter(s.service, s.addresses, s.nodePorts)
		if err != nil {
			return usageError(err)
		}
		filter = f
	case s.addresses != "" || s.nodePorts != "":
		return usageError(errors.New("--snapshot-addresses and --snapshot-node-ports filter for a Service: give --snapshot-service namespace/name too"))
	}
	node := firstNonEmpty(s.nodeName, os.Getenv("NODE_NAME"))
	if node == "" {
		node, _ = os.Hostname()
	}
	c := snapshot.NewNodeCollector(s.hostRoot, node, version, filter)
	return snapshot.Encode(out, c.Collect(ctx))
}
