package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/fleet"
	"github.com/svctrace/kubectl-svctrace/nodeagent"
	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui"
)

// allNodesOptions are the flags of --all-nodes.
type allNodesOptions struct {
	enabled  bool
	maxNodes int
}

func (a *allNodesOptions) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&a.enabled, "all-nodes", false, "read every node through an agent pod and compare the Service's dataplane across them (nodes that disagree first)")
	f.IntVar(&a.maxNodes, "max-nodes", 10, "with --all-nodes: how many nodes are read at once")
}

// checkAllNodes rejects flags --all-nodes cannot combine with.
func (o *options) checkAllNodes() error {
	switch {
	case !o.allNodes.enabled:
		return nil
	case o.allNodes.maxNodes < 1:
		return fmt.Errorf("--max-nodes %d: read at least one node at a time", o.allNodes.maxNodes)
	case !o.live():
		return errors.New("--all-nodes reads the nodes of a live cluster: drop -f/--demo")
	case o.node != "" || o.dumps != (source.DumpPaths{}):
		return errors.New("--all-nodes reads every node itself: drop --node and the dump flags")
	case o.output == "yaml" || o.output == "wide":
		return fmt.Errorf("--all-nodes prints text or -o json, not -o %s", o.output)
	}
	return nil
}

// runAllNodes reads every node with bounded parallelism and prints the
// comparison; error findings exit 3.
func (o *options) runAllNodes(ctx context.Context) error {
	nodes, err := o.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes for --all-nodes: %w", err)
	}
	args := []string{"--serve", "--snapshot"}
	if o.agent.save == "" {
		if svc, err := o.client.CoreV1().Services(o.namespace).Get(ctx, o.name, metav1.GetOptions{}); err == nil {
			args = append(args, filterArgs(svc)...)
		}
	}
	rows := make([]fleet.Row, len(nodes.Items))
	snaps := make([]*snapshot.Snapshot, len(nodes.Items))
	traces := make([]*trace.Trace, len(nodes.Items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.allNodes.maxNodes)
	for i, n := range nodes.Items {
		g.Go(func() error {
			rows[i], snaps[i], traces[i] = o.nodeRow(gctx, n.Name, args)
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	o.agent.snapshots = map[string]*snapshot.Snapshot{}
	for _, s := range snaps {
		if s != nil {
			o.agent.snapshots[s.Node] = s
		}
	}
	if err := o.saveBundle(ctx); err != nil {
		return err
	}
	byNode := map[string]*trace.Trace{}
	for i, n := range nodes.Items {
		if traces[i] != nil {
			byNode[n.Name] = traces[i]
		}
	}
	rows = fleet.Compare(rows)
	if err := o.showFleet(ctx, rows, byNode); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Error != "" || trace.HasErrors(r.Findings) {
			return &exitError{code: ExitFindings}
		}
	}
	return nil
}

// showFleet opens the terminal UI on the nodes with -i (the text table
// when there is no terminal), else prints the table or JSON.
func (o *options) showFleet(ctx context.Context, rows []fleet.Row, traces map[string]*trace.Trace) error {
	service := o.namespace + "/" + o.name
	if o.tui {
		f := &tui.Fleet{Service: service, Rows: rows, Traces: traces}
		for _, r := range rows {
			if traces[r.Node] != nil {
				f.Shown = r.Node // the first read node, disagreeing ones first
				break
			}
		}
		err := tui.Run(ctx, tui.Config{Trace: traces[f.Shown], Fleet: f, In: o.streams.In, Out: o.streams.Out, NoColor: o.deps.getenv("NO_COLOR") != ""})
		var nt tui.NotTerminalError
		if !errors.As(err, &nt) {
			return err
		}
		fmt.Fprintln(o.streams.ErrOut, "svctrace: "+nt.Notice())
	}
	if o.output == "json" {
		return fleet.JSON(o.streams.Out, service, rows)
	}
	return fleet.Text(o.streams.Out, service, rows, time.Now())
}

// nodeRow reads one node and traces the Service through its rules.
func (o *options) nodeRow(ctx context.Context, node string, args []string) (fleet.Row, *snapshot.Snapshot, *trace.Trace) {
	row := fleet.Row{Node: node}
	s, note, err := o.nodeSnapshot(ctx, node, args)
	if note != nil {
		row.Findings = append(row.Findings, *note)
	}
	if err != nil {
		var a agentOptions
		a.agentFailed(node, err)
		row.Error, row.Findings = err.Error(), append(row.Findings, a.findings...)
		return row, nil, nil
	}
	d, err := o.dataplane(ctx)
	if err != nil {
		row.Error = err.Error()
		return row, s, nil
	}
	d.Node = node
	if row.Mode, err = nodeagent.Apply(s, d); err != nil {
		row.Error = err.Error()
		return row, s, nil
	}
	h := nodeagent.ReadHealth(s)
	switch {
	case !h.Answering:
		row.KubeProxy = "not running"
	case !h.Healthy:
		row.KubeProxy = "unhealthy"
	default:
		row.KubeProxy = "healthy"
	}
	if !h.LastSync.IsZero() {
		row.LastSync = &h.LastSync
	}
	in, err := source.Fetcher{Client: source.API(o.client), Node: node}.Fetch(ctx, o.namespace, o.name)
	if err != nil {
		row.Error = err.Error()
		return row, s, nil
	}
	in.ClusterDomain, in.Dataplane = o.clusterDomain, d
	t := trace.Build(*in)
	area := map[string]string{}
	for _, e := range trace.Catalog() {
		area[e.ID] = e.Area
	}
	for _, f := range t.Findings {
		if area[f.ID] == "dataplane" {
			row.Findings = append(row.Findings, f)
			if f.Severity != trace.SeverityInfo {
				row.Drift++
			}
		}
	}
	row.Findings = append(row.Findings, nodeagent.HealthFindings(s)...)
	if len(t.Dataplane) > 0 && len(t.Dataplane[0].Walks) > 0 {
		row.Distribution = fleet.Distribution(t.Dataplane[0].Walks[0].Outcomes)
	}
	return row, s, t
}
