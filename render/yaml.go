package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	yaml "go.yaml.in/yaml/v3"

	"github.com/svctrace/kubectl-svctrace/termsafe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// YAML writes t as YAML with the same field names, and in the same order,
// as JSON: apiVersion and kind first, as kubectl users expect. Strings that
// hold control characters are written double-quoted with escapes, so the
// document is lossless and a terminal shows it as text.
func YAML(w io.Writer, t *trace.Trace) error {
	js, err := json.Marshal(NewDocument(t))
	if err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	// JSON is YAML: parsed into nodes, it keeps the fields' order.
	var doc yaml.Node
	if err := yaml.Unmarshal(termsafe.Quoted(js), &doc); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	blockStyle(&doc)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	_, err = w.Write(termsafe.Quoted(b.Bytes()))
	return err
}

// blockStyle drops the flow style and quoting that parsing JSON gave the
// nodes, so the encoder writes plain block YAML (quoting a string only
// where YAML needs it); a string with a control character is written
// double-quoted, where escapes work.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && termsafe.Unsafe(n.Value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}
