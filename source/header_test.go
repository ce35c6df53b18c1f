package source

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkHeader fails when a header read without decoding is sure of itself
// yet differs from the object decoded in full.
func checkHeader(t *testing.T, body string, json bool) (h header, decoded bool) {
	t.Helper()
	if json {
		h = jsonHeader(newLoader("", nil, 0).jdec, []byte(body))
	} else {
		h = yamlHeader([]byte(body))
	}
	objs, err := decodeItem("item", item{line: 1, body: []byte(body), json: json})
	if err != nil || len(objs) != 1 || h.unsure {
		return h, err == nil && len(objs) == 1
	}
	want := headerOf(objs[0])
	if !h.complete() || want.kind == "Event" {
		want.metaRead = h.metaRead
	} else {
		// A complete header stops before the rest: compare what decides.
		want.metaRead, want.involvedKind, want.involvedName, want.eventType = true, h.involvedKind, h.involvedName, h.eventType
	}
	if len(want.labels) == 0 && len(h.labels) == 0 {
		want.labels, h.labels = nil, nil
	}
	if diff := cmp.Diff(want, h, cmp.AllowUnexported(header{})); diff != "" {
		t.Errorf("header of %q differs from the decoded object's (-decoded +scanned):\n%s", body, diff)
	}
	return h, true
}

func TestYAMLHeaderReadsOrDefers(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    app: web\n    version: \"1\"\n  name: web-0\n  namespace: shop\n" +
		"  ownerReferences:\n  - apiVersion: apps/v1\n    kind: ReplicaSet\n    name: web\n    uid: x\nspec:\n  containers:\n  - name: c\n    image: i\n"
	cases := []struct {
		name, body string
		unsure     bool
	}{
		{"kubectl pod", pod, false},
		{"list item, indented", "  " + strings.ReplaceAll(pod, "\n", "\n  "), false},
		{"flow metadata", "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: b}\n", true},
		{"escaped kind", "apiVersion: v1\nkind: \"Po\\x64\"\nmetadata:\n  name: a\n", true},
		{"block scalar before kind", "apiVersion: v1\ndata:\n  x: |\n    kind: Pod\nkind: ConfigMap\nmetadata:\n  name: a\n", false},
		{"top-level block scalar", "apiVersion: v1\nnote: |\n  kind: Pod\nkind: Service\nmetadata:\n  name: a\n", false},
		{"name on two lines", "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"a\n    b\"\n", true},
		{"kind on the next line", "apiVersion: v1\nkind:\n  Pod\nmetadata:\n  name: a\n", true},
		{"space before colon", "apiVersion: v1\nkind : Service\nmetadata:\n  name: a\n", false},
		{"comment after value", "apiVersion: v1\nkind: Service # the web one\nmetadata:\n  name: a\n", true},
		{"anchor", "apiVersion: v1\nkind: Service\nmetadata: &m\n  name: a\n", true},
		{"event", "apiVersion: v1\ninvolvedObject:\n  kind: Service\n  name: web\nkind: Event\nmetadata:\n  name: e\ntype: Warning\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := checkHeader(t, tc.body, false)
			if h.unsure != tc.unsure {
				t.Errorf("unsure = %v, want %v (header %+v)", h.unsure, tc.unsure, h)
			}
		})
	}
}

func TestJSONHeaderReadsOrDefers(t *testing.T) {
	for _, body := range []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"b","labels":{"app":"web"}},"spec":{"containers":[{"name":"c"}]}}`,
		`{"kind":"Event","apiVersion":"v1","involvedObject":{"kind":"Pod","name":"a"},"metadata":{"name":"e"},"type":"Warning"}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"a\u0062","labels":null}}`,
	} {
		if h, _ := checkHeader(t, body, true); h.unsure {
			t.Errorf("%s: unsure", body)
		}
	}
}

// FuzzHeader: a header read by scanning either defers to decoding or agrees
// with the decoded object.
func FuzzHeader(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    app: web\n  name: web-0\n  namespace: shop\nspec:\n  containers:\n  - name: c\n")
	f.Add("apiVersion: v1\ninvolvedObject:\n  kind: Service\n  name: web\nkind: Event\nmetadata:\n  name: e\ntype: Warning\n")
	f.Add(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"b","labels":{"app":"web"}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		json := strings.HasPrefix(body, "{")
		if json && !validJSON(body) {
			return // the splitter hands over valid JSON only
		}
		checkHeader(t, body, json)
	})
}

func validJSON(s string) bool {
	dec := newLoader("", nil, 0).jdec
	dec.Reset(strings.NewReader(s), jsonOptions...)
	if _, err := dec.ReadValue(); err != nil {
		return false
	}
	_, err := dec.ReadToken()
	return err != nil && err.Error() == "EOF"
}
