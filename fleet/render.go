package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/svctrace/kubectl-svctrace/termsafe"
)

// Document is the JSON form of a comparison (docs/output.md).
type Document struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Service    string `json:"service"`
	Nodes      []Row  `json:"nodes"`
}

// JSON writes the rows as a NodeComparison document.
func JSON(w io.Writer, service string, rows []Row) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if rows == nil {
		rows = []Row{}
	}
	if err := enc.Encode(Document{APIVersion: "svctrace.dev/v1alpha1", Kind: "NodeComparison", Service: service, Nodes: rows}); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	// Cluster text may hold terminal escapes: JSON keeps them escaped.
	_, err := w.Write(termsafe.Quoted(b.Bytes()))
	return err
}

// Text writes the table, then each disagreeing node's findings. now dates
// the last syncs.
func Text(w io.Writer, service string, rows []Row, now time.Time) error {
	// Node names, addresses and messages come from the cluster: escape
	// what a terminal would act on.
	rows, service = termsafe.Copy(rows), termsafe.String(service)
	fmt.Fprintf(w, "Service %s on %d nodes\n\n", service, len(rows))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tMODE\tKUBE-PROXY\tDRIFT\tDISTRIBUTION\tDIFFERS")
	for _, r := range rows {
		kp := r.KubeProxy
		if r.LastSync != nil {
			kp += ", synced " + now.Sub(*r.LastSync).Round(time.Second).String() + " ago"
		}
		dist := r.Distribution
		if r.Error != "" {
			dist = "error: " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Node, dash(r.Mode), dash(kp), r.Drift, dash(dist), dash(strings.Join(r.Why, "; ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if len(r.Findings) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nnode %s\n", r.Node)
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %s %s: %s\n    → %s\n", f.Severity, f.ID, f.Message, f.Hint)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
