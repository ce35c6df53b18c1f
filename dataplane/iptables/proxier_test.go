package iptables

import (
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
)

func TestProxierInSync(t *testing.T) { dataplanetest.CheckInSync(t, Proxier{}) }

func TestProxierSkipsLabelledServices(t *testing.T) { dataplanetest.CheckSkipsLabelled(t, Proxier{}) }

// kube-proxy ignores an EndpointSlice labelled headless: the Service's
// expectation then has no endpoints (and REJECTs).
func TestProxierIgnoresHeadlessSlices(t *testing.T) {
	objs := dataplanetest.Web()
	objs.Slices[0] = objs.Slices[0].DeepCopy()
	objs.Slices[0].Labels[dataplane.LabelHeadless] = ""
	w, err := Proxier{}.Expect(dataplanetest.Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Ruleset.Services) != 1 || !w.Ruleset.Services[0].NoEndpoints() {
		t.Errorf("expectation %+v, want the Service without endpoints", w.Ruleset.Services)
	}
}
