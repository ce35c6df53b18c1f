package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/svctrace/kubectl-svctrace/probe"
)

// probeRunFlag carries the plan into the probe container: the plugin's
// image runs `kubectl-svctrace --probe-run PLAN` where the traffic starts
// and writes the report to its log.
const probeRunFlag = "probe-run"

func addProbeRunFlag(cmd *cobra.Command) *string {
	plan := cmd.Flags().String(probeRunFlag, "", "run a probe plan (JSON) here and write the report to stdout; what --probe starts inside the cluster")
	_ = cmd.Flags().MarkHidden(probeRunFlag)
	return plan
}

// runProbePlan runs the plan where this process is and reports on out.
func runProbePlan(ctx context.Context, planJSON string, out io.Writer) error {
	p, err := probe.DecodePlan(planJSON)
	if err != nil {
		return usageError(err)
	}
	return probe.Encode(out, probe.Run(ctx, p, probe.Env{}))
}
