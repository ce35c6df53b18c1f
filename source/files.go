package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Offline returns an in-memory clientset holding objs, so offline input runs
// through the same Fetcher as a live cluster.
func Offline(objs []runtime.Object) kubernetes.Interface {
	return fake.NewClientset(objs...)
}

// LoadPaths reads Kubernetes objects from files and directories (YAML or
// JSON, multi-document, List objects); "-" reads stdin. Objects of kinds the
// trace does not use are skipped; malformed documents fail with file:line.
// Namespaced objects without a namespace go to defaultNS, as kubectl apply
// puts them; an object given twice is read once, and twice differently is
// an error naming both places.
func LoadPaths(paths []string, stdin io.Reader, defaultNS string) ([]runtime.Object, error) {
	l := loader{defaultNS: defaultNS, seen: map[objectKey]loaded{}}
	for _, p := range paths {
		if p == "-" {
			o, err := Decode("<stdin>", stdin)
			if err != nil {
				return nil, err
			}
			if err := l.add("<stdin>", o); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			o, err := decodeFile(f)
			if err != nil {
				return nil, err
			}
			if err := l.add(f, o); err != nil {
				return nil, err
			}
		}
	}
	if len(l.objs) == 0 {
		return nil, fmt.Errorf("-f %s: %w; expected the output of kubectl get svc,endpointslices,pods,nodes,events -A -o yaml", strings.Join(paths, ","), ErrNoObjects)
	}
	return l.objs, nil
}

type objectKey struct {
	kind, namespace, name string
}

type loaded struct {
	obj    runtime.Object
	source string
}

type loader struct {
	defaultNS string
	seen      map[objectKey]loaded
	objs      []runtime.Object
}

// add defaults the namespaces of objs and keeps the ones not seen yet.
func (l *loader) add(source string, objs []runtime.Object) error {
	for _, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			continue
		}
		if m.GetNamespace() == "" && namespaced(o) {
			m.SetNamespace(l.defaultNS)
		}
		key := objectKey{fmt.Sprintf("%T", o), m.GetNamespace(), m.GetName()}
		if prev, ok := l.seen[key]; ok {
			if equality.Semantic.DeepEqual(prev.obj, o) {
				continue
			}
			return fmt.Errorf("%s %s is given twice, differently, in %s and %s; pass one copy", kindName(o), path.Join(m.GetNamespace(), m.GetName()), prev.source, source)
		}
		l.seen[key] = loaded{o, source}
		l.objs = append(l.objs, o)
	}
	return nil
}

// namespaced is false for the cluster-scoped kinds a dump may hold.
func namespaced(o runtime.Object) bool {
	switch o.(type) {
	case *corev1.Node, *corev1.Namespace, *corev1.PersistentVolume:
		return false
	}
	return true
}

// kindName is the lower-case kind of o, e.g. "service".
func kindName(o runtime.Object) string {
	t := fmt.Sprintf("%T", o)
	return strings.ToLower(t[strings.LastIndex(t, ".")+1:])
}

func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read -f %s: %w", p, err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read -f %s: %w", p, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("read -f %s: directory holds no .yaml, .yml or .json file", p)
	}
	sort.Strings(files)
	return files, nil
}

func decodeFile(path string) ([]runtime.Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read -f %s: %w", path, err)
	}
	defer f.Close()
	return Decode(path, f)
}

// ErrNoObjects is returned by LoadPaths when the input holds no object.
var ErrNoObjects = errors.New("no Kubernetes objects")

var yamlLine = regexp.MustCompile(`line (\d+)`)

// Decode reads the documents of one stream named name.
func Decode(name string, r io.Reader) ([]runtime.Object, error) {
	docs, err := splitDocuments(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var objs []runtime.Object
	for _, d := range docs {
		if len(bytes.TrimSpace(stripComments(d.body))) == 0 {
			continue
		}
		if isJSON(d.body) {
			o, err := decodeJSONStream(name, d)
			if err != nil {
				return nil, err
			}
			objs = append(objs, o...)
			continue
		}
		o, err := decodeDoc(d.body)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s", name, errLine(d.line+leadingBlankLines(d.body), d.line, err), err)
		}
		objs = append(objs, o...)
	}
	return objs, nil
}

// isJSON tells a JSON document from YAML by its first character.
func isJSON(doc []byte) bool {
	t := bytes.TrimSpace(doc)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// decodeJSONStream decodes every JSON value of a document: `kubectl get
// ... -o json` run twice into one file writes two objects back to back,
// and a YAML reader would keep only the first.
func decodeJSONStream(name string, d document) ([]runtime.Object, error) {
	dec := json.NewDecoder(bytes.NewReader(d.body))
	var objs []runtime.Object
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, d.line+jsonErrLine(d.body, err, dec.InputOffset()), err)
		}
		o, err := decodeDoc(raw)
		if err != nil {
			// Point at the value's first line; decoding errors carry no line.
			first := bytes.Count(d.body[:start], []byte("\n")) + leadingBlankLines(d.body[start:])
			return nil, fmt.Errorf("%s:%d: %s", name, d.line+first, err)
		}
		objs = append(objs, o...)
	}
}

// jsonErrLine is the document line (0-based) a JSON syntax error is on.
func jsonErrLine(body []byte, err error, fallback int64) int {
	offset := fallback
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		offset = syn.Offset
	}
	if offset > int64(len(body)) {
		offset = int64(len(body))
	}
	if offset > 0 {
		offset-- // the offset is past the offending byte
	}
	return bytes.Count(body[:offset], []byte("\n"))
}

type document struct {
	line int // the file line of the document's first line
	body []byte
}

// splitDocuments splits a YAML stream at "---" lines, remembering where
// each document starts so errors can name a file line.
func splitDocuments(r io.Reader) ([]document, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	cur := document{line: 1}
	var docs []document
	n := 0
	for sc.Scan() {
		n++
		l := sc.Bytes()
		if bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t') {
			docs = append(docs, cur)
			cur = document{line: n + 1}
			continue
		}
		cur.body = append(cur.body, l...)
		cur.body = append(cur.body, '\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return append(docs, cur), nil
}

func decodeDoc(doc []byte) ([]runtime.Object, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if tm.Kind == "" || tm.APIVersion == "" {
		return nil, fmt.Errorf("document has no apiVersion/kind; expected the output of kubectl get -o yaml")
	}
	if strings.HasSuffix(tm.Kind, "List") {
		var list metav1.List
		if err := yaml.Unmarshal(js, &list); err != nil {
			return nil, fmt.Errorf("decode %s: %w", tm.Kind, err)
		}
		var out []runtime.Object
		for i, item := range list.Items {
			o, err := decodeDoc(item.Raw)
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

// errLine turns a YAML error's document-relative line into a file line;
// errors without one point at the document's first content line.
func errLine(content, docStart int, err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return content
	}
	n, _ := strconv.Atoi(m[1])
	return docStart + n - 1
}

func leadingBlankLines(doc []byte) int {
	n := 0
	for _, l := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) != 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			break
		}
		n++
	}
	return n
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			b.Write(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
