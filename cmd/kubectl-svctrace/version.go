package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set by the release build: -ldflags "-X main.version=v1.2.3 -X main.commit=abc -X main.date=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// buildInfo is what `version -o json` prints (docs/output.md).
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// currentBuild is the release build's ldflags, completed from what the Go
// toolchain recorded when built without them (go install …@version).
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && b.Commit == "" && len(s.Value) >= 12:
			b.Commit = s.Value[:12]
		case s.Key == "vcs.time" && b.Date == "":
			b.Date = s.Value
		}
	}
	return b
}

// versionString is the one line --version prints.
func versionString() string {
	b := currentBuild()
	return fmt.Sprintf("kubectl-svctrace %s (commit %s, built %s, %s %s)",
		b.Version, orUnknown(b.Commit), orUnknown(b.Date), b.GoVersion, b.Platform)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func newCmdVersion() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return usageError(err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json (default: one line)")
	return cmd
}

func printVersion(w io.Writer, output string) error {
	switch output {
	case "":
		_, err := fmt.Fprintln(w, versionString())
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(currentBuild()); err != nil {
			return fmt.Errorf("write version as JSON: %w", err)
		}
		return nil
	default:
		return usageError(fmt.Errorf("version: unknown --output %q; use json or leave it out", output))
	}
}
