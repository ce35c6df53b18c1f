package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

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
func LoadPaths(paths []string, stdin io.Reader) ([]runtime.Object, error) {
	var objs []runtime.Object
	for _, p := range paths {
		if p == "-" {
			o, err := Decode("<stdin>", stdin)
			if err != nil {
				return nil, err
			}
			objs = append(objs, o...)
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
			objs = append(objs, o...)
		}
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("-f %s: %w; expected the output of kubectl get svc,endpointslices,pods,nodes,events -A -o yaml", strings.Join(paths, ","), ErrNoObjects)
	}
	return objs, nil
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
		o, err := decodeDoc(d.body)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s", name, errLine(d.line+leadingBlankLines(d.body), d.line, err), err)
		}
		objs = append(objs, o...)
	}
	return objs, nil
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
