//go:build linux

package main

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

// TestServeIPVSRefusesAKernelWithoutIPVS runs where the kernel has no
// IPVS (the project's machines): one line naming the module and what to
// do, and nothing else.
func TestServeIPVSRefusesAKernelWithoutIPVS(t *testing.T) {
	if kipvs.CheckIPVS() == nil {
		t.Skip("this kernel has IPVS")
	}
	var out, errOut bytes.Buffer
	args := []string{"--serve", "--proxy-mode", "ipvs", "--ipvs-scheduler", "wrr", "--node", "n", "-f", scenarioPath("healthy.yaml"), "--once"}
	code := run(t.Context(), args, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	msg := strings.TrimSpace(errOut.String())
	if code == ExitOK || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "module ip_vs") || !strings.Contains(msg, `modprobe ip_vs ip_vs_wrr`) {
		t.Errorf("exit %d, stderr %q; want one line naming ip_vs and the modprobe to run", code, msg)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q, want nothing", out.String())
	}
}
