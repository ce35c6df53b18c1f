package common

import (
	"reflect"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// Hops is what the screens show: the trace with its DNS and dataplane hops.
type Hops struct {
	*trace.Trace
	DNS       *trace.DNSHop
	Dataplane []trace.DataplaneHop
}

// HopsOf reads the DNS and dataplane hops from t. They are looked up by
// field name because trace.Trace gains its DNS and Dataplane fields in a
// separate change; once they exist this picks them up unchanged, and until
// then the DNS and dataplane screens say there is nothing to show.
func HopsOf(t *trace.Trace) Hops {
	h := Hops{Trace: t}
	if t == nil {
		h.Trace = &trace.Trace{}
		return h
	}
	v := reflect.ValueOf(t).Elem()
	if f := v.FieldByName("DNS"); f.IsValid() && f.CanInterface() {
		h.DNS, _ = f.Interface().(*trace.DNSHop)
	}
	if f := v.FieldByName("Dataplane"); f.IsValid() && f.CanInterface() {
		h.Dataplane, _ = f.Interface().([]trace.DataplaneHop)
	}
	return h
}
