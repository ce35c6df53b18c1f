package source

import (
	"context"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// FuzzDecode feeds arbitrary dumps through decoding and a whole trace: bad
// input must give an error, never a panic.
func FuzzDecode(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n")
	f.Add("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: default, labels: {app: web}}}\n")
	f.Add("---\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.1]}]\n")
	f.Add(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"clusterIP":"None"}}`)
	f.Fuzz(func(t *testing.T, text string) {
		objs, err := Decode("fuzz.yaml", strings.NewReader(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml:") && !strings.HasPrefix(err.Error(), "read fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		in, err := Fetcher{Client: Offline(objs)}.Fetch(context.Background(), "default", "web")
		if err != nil {
			return
		}
		trace.Build(*in)
	})
}
