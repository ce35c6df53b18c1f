package render_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/render"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// A read the API refused must not print like an empty result: "0 pods"
// and "no endpoints" would send the reader after the wrong problem.
func TestTextSaysWhatWasNotRead(t *testing.T) {
	objs, err := source.LoadPaths([]string{filepath.Join(scenario.Dir(), "healthy.yaml")}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(objs...)
	for _, r := range []struct{ verb, resource, group string }{{"list", "pods", ""}, {"list", "endpointslices", "discovery.k8s.io"}, {"get", "nodes", ""}} {
		client.PrependReactor(r.verb, r.resource, func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: r.group, Resource: r.resource}, "", nil)
		})
	}
	in, err := source.Fetcher{Client: source.API(client)}.Fetch(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render.Text(&b, trace.Build(*in), render.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"pods matching app=web: not read (forbidden)",
		"EndpointSlices not read (forbidden)",
		"the EndpointSlices could not be read, so the rules kube-proxy should write",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "no endpoints published") || strings.Contains(b.String(), ": 0, 0 ready") || strings.Contains(b.String(), "REJECT") {
		t.Errorf("unread data printed as empty:\n%s", b.String())
	}
}

// An IPv6 endpoint is written [address]:port, as every tool that reads it
// back expects.
func TestTextBracketsIPv6Endpoints(t *testing.T) {
	tr := scenario.Trace(t, "healthy.yaml", "default", "web")
	tr.Ports[0].Endpoints[0].Address = "fd00:244::7"
	var b bytes.Buffer
	if err := render.Text(&b, tr, render.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := "[fd00:244::7]:8080"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
}
