package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// traceDoc is the part of the JSON output (apiVersion svctrace.dev/v1alpha1,
// kind Trace) the scenarios check, decoded as a script would.
type traceDoc struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Summary    struct {
		Errors   int  `json:"errors"`
		Warnings int  `json:"warnings"`
		Infos    int  `json:"infos"`
		OK       bool `json:"ok"`
	} `json:"summary"`
	Found bool      `json:"found"`
	Ports []portHop `json:"ports"`
	DNS   *struct {
		Server string     `json:"server"`
		From   string     `json:"from"`
		Checks []dnsCheck `json:"checks"`
	} `json:"dns"`
	Probe *struct {
		From    string `json:"from"`
		Error   string `json:"error"`
		Results []struct {
			Target struct {
				Kind string `json:"kind"`
				Addr string `json:"addr"`
				Pod  string `json:"pod"`
			} `json:"target"`
			Outcome string `json:"outcome"`
		} `json:"results"`
	} `json:"probe"`
	Dataplane []struct {
		Node   string `json:"node"`
		Mode   string `json:"mode"`
		Family string `json:"family"`
		Source string `json:"source"`
		Walks  []walk `json:"walks"`
	} `json:"dataplane"`
	NetworkPolicy *struct {
		Client *struct {
			Pod         string       `json:"pod"`
			Connections []policyConn `json:"connections"`
		} `json:"client"`
	} `json:"networkPolicy"`
	Findings  []finding `json:"findings"`
	Unchecked []struct {
		Verb      string `json:"verb"`
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Forbidden bool   `json:"forbidden"`
	} `json:"unchecked"`
}

// policyConn is one connection's NetworkPolicy verdict.
type policyConn struct {
	Pod     string     `json:"pod"`
	Verdict string     `json:"verdict"`
	Ingress policySide `json:"ingress"`
	Egress  policySide `json:"egress"`
}

type policySide struct {
	Verdict  string   `json:"verdict"`
	Policies []string `json:"policies"`
}

type portHop struct {
	Name       string     `json:"name"`
	Port       int32      `json:"port"`
	TargetPort string     `json:"targetPort"`
	Endpoints  []endpoint `json:"endpoints"`
}

type endpoint struct {
	Address     string `json:"address"`
	Port        int32  `json:"port"`
	Ready       bool   `json:"ready"`
	Serving     bool   `json:"serving"`
	Terminating bool   `json:"terminating"`
	Pod         string `json:"pod"`
	Node        string `json:"node"`
	Hostname    string `json:"hostname"`
}

// walk is one packet walked through a node's rules, with where it ends.
type walk struct {
	Packet struct {
		Destination string `json:"destination"`
		Port        int32  `json:"port"`
	} `json:"packet"`
	Outcomes []struct {
		Verdict     string  `json:"verdict"`
		Target      string  `json:"target"`
		Probability float64 `json:"probability"`
		Observed    *struct {
			Packets uint64  `json:"packets"`
			Share   float64 `json:"share"`
		} `json:"observed"`
	} `json:"outcomes"`
}

type dnsCheck struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Expected []string `json:"expected"`
	Answered []string `json:"answered"`
	Queried  bool     `json:"queried"`
	OK       bool     `json:"ok"`
}

type finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Subject  string `json:"subject"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	Where    *struct {
		Family string `json:"family"`
		Chain  string `json:"chain"`
	} `json:"where"`
}

// result is one run of `kubectl svctrace`.
type result struct {
	args           []string
	exit           int
	stdout, stderr string
	doc            *traceDoc // nil when stdout is not a trace
}

// svctrace runs `kubectl svctrace ARGS -o json` through the real kubectl
// with KUBECONFIG set to kubeconfig, and decodes the trace it prints.
func (s *suite) svctrace(ctx context.Context, t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	args = append(append([]string{"svctrace"}, args...), "-o", "json")
	cmd := exec.CommandContext(ctx, s.kubectl, args...)
	cmd.Env = childEnv(os.Environ(), "PATH="+s.path, "KUBECONFIG="+kubeconfig, "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, r.stderr)
	}
	if strings.TrimSpace(r.stdout) != "" {
		var doc traceDoc
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			t.Fatalf("kubectl %s (exit %d) printed no JSON trace: %v\nstdout:\n%s\nstderr:\n%s",
				strings.Join(args, " "), r.exit, err, r.stdout, r.stderr)
		}
		r.doc = &doc
	}
	return r
}

// childEnv is env with the given KEY=VALUE settings replacing any earlier
// ones.
func childEnv(env []string, set ...string) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for _, s := range set {
			if strings.HasPrefix(s, key+"=") {
				replaced = true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// String names the run in failure messages, with its output.
func (r result) String() string {
	return "kubectl " + strings.Join(r.args, " ") + "\nexit " + strconv.Itoa(r.exit) +
		"\nstderr:\n" + r.stderr + "\nfindings:\n" + r.findingsText()
}

func (r result) findingsText() string {
	if r.doc == nil {
		return "(no trace)\n"
	}
	var b strings.Builder
	for _, f := range r.doc.Findings {
		b.WriteString("  " + f.Severity + " " + f.ID + " " + f.Subject + ": " + f.Message + " (hint: " + f.Hint + ")\n")
	}
	return b.String()
}
