package source

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"bytes"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Decode reads every object of one stream named name (YAML or JSON,
// multi-document, List objects). Kinds the trace does not use are
// skipped; malformed documents fail with name:line.
func Decode(name string, r io.Reader) ([]runtime.Object, error) {
	var objs []runtime.Object
	s := splitter{name: name, emit: func(it item) error {
		o, err := decodeItem(name, it)
		objs = append(objs, o...)
		return err
	}}
	if err := s.split(r); err != nil {
		return nil, err
	}
	return objs, nil
}

// decodeItem decodes one item: JSON as JSON (so that any character a JSON
// string escapes survives), YAML through its JSON form.
func decodeItem(name string, it item) ([]runtime.Object, error) {
	js := it.body
	if !it.json {
		var err error
		if js, err = yaml.YAMLToJSON(it.body); err != nil {
			return nil, fmt.Errorf("%s:%d: %s%s", name, errLine(it.line+leadingBlankLines(it.body), it.line, err), it.where(), err)
		}
	}
	o, err := decodeJSON(js)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s%w", name, it.line+leadingBlankLines(it.body), it.where(), err)
	}
	return o, nil
}

func (it item) where() string {
	if it.list == "" {
		return ""
	}
	return fmt.Sprintf("item %d of %s: ", it.index, it.list)
}

func decodeJSON(js []byte) ([]runtime.Object, error) {
	if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
		return nil, nil // an empty document
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if tm.Kind == "" || tm.APIVersion == "" {
		return nil, fmt.Errorf("document has no apiVersion/kind; expected the output of kubectl get -o yaml")
	}
	if strings.HasSuffix(tm.Kind, "List") {
		var list metav1.List
		if err := json.Unmarshal(js, &list); err != nil {
			return nil, fmt.Errorf("decode %s: %w", tm.Kind, err)
		}
		var out []runtime.Object
		for i, item := range list.Items {
			o, err := decodeJSON(item.Raw)
			if err != nil {
				return nil, fmt.Errorf("item %d of %s: %w", i, tm.Kind, err)
			}
			out = append(out, o...)
		}
		return out, nil
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(js, nil, nil)
	if runtime.IsNotRegisteredError(err) {
		return nil, nil // CRDs and other kinds the trace does not read
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	return []runtime.Object{obj}, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// errLine turns a YAML error's item-relative line into a file line;
// errors without one point at the item's first content line.
func errLine(content, start int, err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return content
	}
	n, _ := strconv.Atoi(m[1])
	return start + n - 1
}

func leadingBlankLines(doc []byte) int {
	n := 0
	for len(doc) > 0 {
		l := doc
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			l, doc = doc[:i], doc[i+1:]
		} else {
			doc = nil
		}
		if t := bytes.TrimSpace(l); len(t) != 0 && t[0] != '#' {
			break
		}
		n++
	}
	return n
}
