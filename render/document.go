// Package render writes a trace as text, JSON or YAML.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/svctrace/kubectl-svctrace/termsafe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// APIVersion and Kind head every machine-readable document; a change to a
// field's meaning bumps the version (docs/output.md).
const (
	APIVersion = "svctrace.dev/v1alpha1"
	Kind       = "Trace"
)

// Document is the JSON/YAML form of a trace.
type Document struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Summary    Summary `json:"summary"`
	*trace.Trace
}

// Summary counts findings by severity, for scripts that only need a verdict.
type Summary struct {
	Errors   int  `json:"errors"`
	Warnings int  `json:"warnings"`
	Infos    int  `json:"infos"`
	OK       bool `json:"ok"`
}

// NewDocument wraps t with its version header and summary.
func NewDocument(t *trace.Trace) Document {
	d := Document{APIVersion: APIVersion, Kind: Kind, Trace: t}
	for _, f := range t.Findings {
		switch f.Severity {
		case trace.SeverityError:
			d.Summary.Errors++
		case trace.SeverityWarning:
			d.Summary.Warnings++
		default:
			d.Summary.Infos++
		}
	}
	d.Summary.OK = d.Summary.Errors == 0
	return d
}

// JSON writes t as indented JSON.
// Control characters are escaped as \uXXXX, including those the encoder
// leaves raw (DEL, C1), so the document is lossless and safe on a terminal.
func JSON(w io.Writer, t *trace.Trace) error { return writeJSON(w, NewDocument(t)) }

func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	_, err := w.Write(termsafe.Quoted(b.Bytes()))
	return err
}
