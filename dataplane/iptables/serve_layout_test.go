package iptables

import (
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// serveWeb is Web labelled for scoped --serve (Service and slice, as the
// EndpointSlice controller copies the label), beside an unlabelled witness
// Service kube-proxy serves.
func serveWeb() (labelled, unlabelled dataplane.Objects) {
	objs := dataplanetest.Web()
	unlabelled = objs
	web, slice := objs.Services[0].DeepCopy(), objs.Slices[0].DeepCopy()
	web.Labels = map[string]string{dataplane.LabelServiceProxyName: dataplane.ServeProxyName}
	slice.Labels[dataplane.LabelServiceProxyName] = dataplane.ServeProxyName
	labelled.Services, labelled.Slices = append(labelled.Services, web), append(labelled.Slices, slice)
	return labelled, unlabelled
}

// nodeOf is what a node holds with kube-proxy programming kube and scoped
// --serve programming serve (either nil: not running), as iptables-save
// prints it.
func nodeOf(t *testing.T, kube, serve *expected.Ruleset) *Dump {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{expected.TableFilter, expected.TableNAT} {
		var decls, rules []string
		for _, rs := range []*expected.Ruleset{kube, serve} {
			if rs == nil {
				continue
			}
			text, err := rs.SaveTable(table)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(text, "\n") {
				switch {
				case strings.HasPrefix(l, ":"):
					decls = append(decls, l)
				case strings.HasPrefix(l, "-A "):
					rules = append(rules, l)
				}
			}
		}
		b.WriteString("*" + table + "\n" + strings.Join(append(decls, rules...), "\n") + "\nCOMMIT\n")
	}
	d, err := Parse(b.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return d
}

func generate(t *testing.T, objs dataplane.Objects, l expected.Layout) *expected.Ruleset {
	t.Helper()
	w, err := Proxier{}.Expect(dataplanetest.Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	return w.Ruleset.InLayout(l)
}

// A Service only scoped --serve programs is judged in its SVCT- chains: a
// node where --serve runs beside kube-proxy has no drift and the walk goes
// through SVCT- chains; without --serve's rules, what is missing is named
// in SVCT- chains and kube-proxy's leftover rules for it are stale.
func TestScopedServeServiceIsJudgedInSVCTChains(t *testing.T) {
	labelled, unlabelled := serveWeb()
	witness := withWitnessOnly(unlabelled)
	want, err := Proxier{}.Expect(dataplanetest.Node, labelled)
	if err != nil {
		t.Fatal(err)
	}
	if want.Layout != expected.ServeLayout || want.Dump.Chain("nat", "SVCT-SERVICES") == nil {
		t.Fatalf("expectation of a --serve Service: layout %+v, want SVCT- chains", want.Layout)
	}

	served := nodeOf(t, generate(t, witness, expected.KubeProxyLayout), generate(t, labelled, expected.KubeProxyLayout).InLayout(expected.ServeLayout))
	if diffs := (Proxier{}).Drift(want, served); len(diffs) != 0 {
		t.Errorf("node served by scoped --serve beside kube-proxy drifts: %+v", diffs)
	}
	w, err := Proxier{}.Walk(want, served, dataplanetest.Pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Outcomes) != 2 || !strings.HasPrefix(w.Outcomes[0].Path, "SVCT-SERVICES → SVCT-SVC-") {
		t.Errorf("walk through --serve's chains: %+v", w.Outcomes)
	}
	listed := Proxier{}.Listings(want, served, nil)
	if len(listed) == 0 || listed[0].Name != "SVCT-SERVICES" {
		t.Errorf("listings %+v, want SVCT-SERVICES first", listed)
	}

	// kube-proxy wrote web's rules before the label; --serve never ran.
	stale := nodeOf(t, generate(t, withWitness(unlabelled), expected.KubeProxyLayout), nil)
	var missing, kubeStale bool
	for _, d := range (Proxier{}).Drift(want, stale) {
		switch {
		case d.Kind == StaleProxyRules && strings.HasPrefix(d.Where.Chain, "KUBE-"):
			kubeStale = true
		case (d.Kind == ServiceChainMissing || d.Kind == EndpointChainMissing) && strings.HasPrefix(d.Where.Chain, "SVCT-"):
			missing = true
		default:
			t.Errorf("unexpected difference %s at %+v", d.Kind, d.Where)
		}
	}
	if !missing || !kubeStale {
		t.Errorf("without --serve's rules: missing SVCT- chain reported %v, kube-proxy's rules stale %v", missing, kubeStale)
	}
}

// withWitnessOnly is the witness Service of withWitness alone.
func withWitnessOnly(objs dataplane.Objects) dataplane.Objects {
	both := withWitness(objs)
	both.Services, both.Slices = both.Services[1:], both.Slices[1:]
	return both
}

func withWitness(objs dataplane.Objects) dataplane.Objects {
	svc := objs.Services[0].DeepCopy()
	svc.Name, svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "witness", "10.96.0.21", []string{"10.96.0.21"}
	slice := objs.Slices[0].DeepCopy()
	slice.Name, slice.Labels["kubernetes.io/service-name"] = "witness-1", "witness"
	objs.Services = append(append(objs.Services[:0:0], objs.Services...), svc)
	objs.Slices = append(append(objs.Slices[:0:0], objs.Slices...), slice)
	return objs
}
