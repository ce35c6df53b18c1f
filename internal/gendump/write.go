package gendump

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/yaml"
)

// Format is how a dump is written.
type Format struct {
	JSON bool // kubectl -o json; YAML otherwise
	Gzip bool
}

// Ext is the file name extension kubectl users give such a dump.
func (f Format) Ext() string {
	ext := ".yaml"
	if f.JSON {
		ext = ".json"
	}
	if f.Gzip {
		ext += ".gz"
	}
	return ext
}

// Write writes the cluster o describes as one List, in the order kubectl
// get svc,endpointslices,pods,nodes,events -A prints it.
func Write(w io.Writer, o Options, f Format) error {
	o = o.withDefaults()
	bw := bufio.NewWriterSize(w, 1<<20)
	var out io.Writer = bw
	var zw *gzip.Writer
	if f.Gzip {
		zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
		out = zw
	}
	enc := yamlItem
	head, sep, tail := "apiVersion: v1\nitems:\n", "", "kind: List\nmetadata:\n  resourceVersion: \"\"\n"
	if f.JSON {
		enc = jsonItem
		head, sep, tail = "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n", ",\n", "\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"
	}
	if _, err := io.WriteString(out, head); err != nil {
		return err
	}
	first := true
	for _, part := range o.parts() {
		err := each(part.n, func(k int) ([]byte, error) { return enc(part.item(k)) }, func(b []byte) error {
			if !first {
				if _, err := io.WriteString(out, sep); err != nil {
					return err
				}
			}
			first = false
			_, err := out.Write(b)
			return err
		})
		if err != nil {
			return err
		}
	}
	if _, err := io.WriteString(out, tail); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

type part struct {
	n    int
	item func(int) []any
}

// parts lists the dump's items kind by kind.
func (o Options) parts() []part {
	events := func(k int) []any {
		var out []any
		for _, e := range o.events(k) {
			out = append(out, e)
		}
		return out
	}
	return []part{
		{o.Services, func(k int) []any { return []any{o.service(k)} }},
		{o.Services, func(k int) []any { return []any{o.slice(k)} }},
		{o.Services * o.PodsPerService, func(k int) []any { return []any{o.pod(k/o.PodsPerService, k%o.PodsPerService)} }},
		{o.Nodes, func(k int) []any { return []any{o.node(k)} }},
		{o.Services, events},
	}
}

// yamlItem writes one List item as kubectl does: "- " and two spaces of
// indent.
func yamlItem(objs []any) ([]byte, error) {
	var out bytes.Buffer
	for _, obj := range objs {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		for i, l := range bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			if i == 0 {
				out.WriteString("- ")
			} else {
				out.WriteString("  ")
			}
			out.Write(l)
		}
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

func jsonItem(objs []any) ([]byte, error) {
	var out [][]byte
	for _, obj := range objs {
		b, err := json.MarshalIndent(obj, "        ", "    ")
		if err != nil {
			return nil, err
		}
		out = append(out, append([]byte("        "), b...))
	}
	return bytes.Join(out, []byte(",\n")), nil
}

// each encodes items 0..n-1 on every core and hands them to write in order.
func each(n int, encode func(int) ([]byte, error), write func([]byte) error) error {
	const batch = 256
	workers := runtime.GOMAXPROCS(0)
	for start := 0; start < n; start += batch * workers {
		bufs := make([][]byte, min(batch*workers, n-start))
		var g errgroup.Group
		for w := range workers {
			g.Go(func() error {
				for k := w; k < len(bufs); k += workers {
					b, err := encode(start + k)
					if err != nil {
						return fmt.Errorf("item %d: %w", start+k, err)
					}
					bufs[k] = b
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, b := range bufs {
			if err := write(b); err != nil {
				return err
			}
		}
	}
	return nil
}
