package main

import (
	"fmt"
	"github.com/svctrace/kubectl-svctrace/nodeagent"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
)

// deps are the seams between the command and the outside world, replaced
// in tests.
type deps struct {
	// newClient builds a clientset from the kubectl flags.
	newClient func(*genericclioptions.ConfigFlags) (kubernetes.Interface, error)
	// isTerminal reports whether the writer is a terminal.
	isTerminal func(any) bool
	// getenv reads the environment (NO_COLOR).
	getenv func(string) string
	// newExecer runs commands in containers (asking a --serve pod for a
	// node's snapshot); nil never asks.
	newExecer func(*genericclioptions.ConfigFlags, kubernetes.Interface) (nodeagent.Execer, error)
}

func defaultDeps() deps {
	return deps{
		newClient: func(f *genericclioptions.ConfigFlags) (kubernetes.Interface, error) {
			cfg, err := f.ToRESTConfig()
			if err != nil {
				return nil, fmt.Errorf("load kubeconfig: %w (use --kubeconfig, or -f/--demo to trace offline)", err)
			}
			cfg.UserAgent = "kubectl-svctrace/" + version
			return kubernetes.NewForConfig(cfg)
		},
		newExecer: newRESTExecer,
		isTerminal: func(w any) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(int(f.Fd()))
		},
		getenv: os.Getenv,
	}
}

const example = `  # Trace Service hostnames in the current namespace
  kubectl svctrace hostnames

  # The same, in namespace shop, as JSON for a script
  kubectl svctrace svc/checkout -n shop -o json

  # Trace from a dump: kubectl get svc,endpointslices,pods,nodes,events -A -o yaml > dump.yaml
  kubectl svctrace hostnames -f dump.yaml

  # See it work on the embedded demo cluster
  kubectl svctrace --demo`

// NewCmdSvctrace builds the root command; it holds no global state.
func NewCmdSvctrace(streams genericiooptions.IOStreams, d deps) *cobra.Command {
	o := newOptions(streams, d)
	var snap *snapshotOptions
	var srv *serveOptions
	var probePlan *string
	cmd := &cobra.Command{
		Use:   "svctrace SERVICE",
		Short: "Trace why a Kubernetes Service does or does not work",
		Long: `Follows a Service the way a resolver and a packet do: the DNS names CoreDNS
should answer (and does, with --dns), its selector, pods and readiness, the
EndpointSlices port by port, and the kube-proxy rules on a node (iptables,
nftables or IPVS; generated, or read from a dump) with a packet walked through
them to each endpoint. Every problem found ends in a hint to fix it.

Exit codes: 0 no error findings, 1 the trace could not run, 2 usage error,
3 error findings.`,
		Example: example,
		Version: versionString(),
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl svctrace",
		},
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
				return usageError(err)
			}
			return nil
		},
		SilenceUsage:      true,
		SilenceErrors:     true,
		ValidArgsFunction: o.completeServices,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed(probeRunFlag) {
				return runProbePlan(cmd.Context(), *probePlan, streams.Out)
			}
			if snap.requested(cmd) {
				return snap.run(cmd.Context(), cmd, streams.Out)
			}
			if srv.requested() {
				return srv.run(cmd.Context(), cmd, o, streams.Out)
			}
			o.demoModeSet = cmd.Flags().Changed("demo-proxy-mode")
			if err := o.Complete(cmd.Context(), args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return usageError(err)
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.SetVersionTemplate("{{.Version}}\n")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	o.addFlags(cmd)
	srv = addServeFlags(cmd)
	snap = addSnapshotFlags(cmd)
	probePlan = addProbeRunFlag(cmd)
	_ = cmd.RegisterFlagCompletionFunc("namespace", o.completeNamespaces)
	cmd.AddCommand(newCmdVersion())
	return cmd
}

// completeServices lists the Services of the namespace for shell completion.
func (o *options) completeServices(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	client, err := o.deps.newClient(o.configFlags)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	ns, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	list, err := client.CoreV1().Services(ns).List(cmd.Context(), metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, len(list.Items))
	for i, s := range list.Items {
		names[i] = s.Name
	}
	return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces lists namespaces for -n completion.
func (o *options) completeNamespaces(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	client, err := o.deps.newClient(o.configFlags)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	list, err := client.CoreV1().Namespaces().List(cmd.Context(), metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, len(list.Items))
	for i, n := range list.Items {
		names[i] = n.Name
	}
	return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// withPrefix keeps the completions that start with what was typed.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
