package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set by the release build: -ldflags "-X main.version=v1.2.3 -X main.commit=abc -X main.date=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func versionString() string {
	v, c := version, commit
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && c == "" && len(s.Value) >= 12 {
				c = s.Value[:12]
			}
		}
	}
	out := "kubectl-svctrace " + v
	if c != "" {
		out += " (" + c
		if date != "" {
			out += ", " + date
		}
		out += ")"
	}
	return out
}

func newCmdVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionString())
			return err
		},
	}
}
