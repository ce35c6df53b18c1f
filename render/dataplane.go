package render

import (
	"io"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// DataplaneKind heads the dataplane part of a trace written alone.
const DataplaneKind = "DataplaneState"

// DataplaneDocument is the dataplane part of a trace's JSON: the Service,
// its dataplane hops and the findings about them, each field as the whole
// Trace document writes it. `--serve` answers /debug/state with it.
type DataplaneDocument struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Service    trace.ServiceHop     `json:"service"`
	Dataplane  []trace.DataplaneHop `json:"dataplane"`
	Findings   []trace.Finding      `json:"findings"`
}

// DataplaneJSON writes t's dataplane hops and dataplane findings as
// indented JSON, escaped as JSON escapes a whole trace.
func DataplaneJSON(w io.Writer, t *trace.Trace) error {
	d := DataplaneDocument{APIVersion: APIVersion, Kind: DataplaneKind, Service: t.Service,
		Dataplane: t.Dataplane, Findings: []trace.Finding{}}
	if d.Dataplane == nil {
		d.Dataplane = []trace.DataplaneHop{}
	}
	area := map[string]string{}
	for _, e := range trace.Catalog() {
		area[e.ID] = e.Area
	}
	for _, f := range t.Findings {
		if f.Where != nil || area[f.ID] == "dataplane" {
			d.Findings = append(d.Findings, f)
		}
	}
	return writeJSON(w, d)
}
