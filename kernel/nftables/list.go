// Package nftables programs and reads kube-proxy's nftables table. Writes
// go through sigs.k8s.io/knftables: its Interface is the seam, and its
// knftables.Fake the in-memory kernel tests use and Dump. Reads run
// `nft -j list ruleset` through a Runner and parse it into the model of
// package dataplane/nftables, which a Ruleset's walk and drift read.
package nftables

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"sigs.k8s.io/knftables"

	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// Runner runs a program and returns its standard output. ExecRunner is the
// real one; tests pass a fake that records the command.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs programs with os/exec.
type ExecRunner struct{}

// Run implements Runner; stderr is folded into the error.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %v: %w: %s", name, args, err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}

// ListRuleset runs `nft -j list ruleset` (inside network namespace netns
// when it is not empty, through `ip netns exec`) and parses the output.
func ListRuleset(ctx context.Context, r Runner, netns string) (*model.Ruleset, error) {
	name, args := "nft", []string{"-j", "list", "ruleset"}
	if netns != "" {
		name, args = "ip", append([]string{"netns", "exec", netns, "nft"}, args...)
	}
	out, err := r.Run(ctx, name, args...)
	if err != nil {
		return nil, fmt.Errorf("listing nftables ruleset (needs root and nft >= 1.0): %w", err)
	}
	rs, err := model.ParseJSON(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("parsing nft output: %w", err)
	}
	return rs, nil
}

// ListTable runs `nft -j list table FAMILY NAME` and returns the table, or
// nil when the table does not exist. Listing one table keeps tables other
// programs own out of the parse.
func ListTable(ctx context.Context, r Runner, family, name string) (*model.Table, error) {
	out, err := r.Run(ctx, "nft", "-j", "list", "table", family, name)
	if err != nil {
		if strings.Contains(err.Error(), "No such file or directory") {
			return nil, nil
		}
		return nil, fmt.Errorf("listing nftables table %s %s (needs root and nft >= 1.0): %w", family, name, err)
	}
	rs, err := model.ParseJSON(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("parsing nft's listing of table %s %s: %w", family, name, err)
	}
	return rs.Table(knftables.Family(family), name), nil
}
