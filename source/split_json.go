package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lineCounter counts the lines read through it, so that a JSON item's
// line is known without keeping the text before it.
type lineCounter struct {
	r     io.Reader
	lines int
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines += bytes.Count(p[:n], []byte("\n"))
	return n, err
}

// jsonOptions are as lenient as encoding/json, which kubectl's readers use.
var jsonOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// splitJSON cuts JSON values back to back into items; the items of a List
// are cut apart as they are read, so a List of any size is never held.
// The stream's first line is file line start.
func (s *splitter) splitJSON(r io.Reader, start int) error {
	lc := &lineCounter{r: r}
	dec := jsontext.NewDecoder(lc, jsonOptions...)
	// line is the file line the decoder has read up to.
	line := func() int { return start + lc.lines - bytes.Count(dec.UnreadBuffer(), []byte("\n")) }
	fail := func(err error) error {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s:%d: unexpected end of JSON input", s.name, line())
		}
		var se *jsontext.SyntacticError
		if errors.As(err, &se) {
			err = se.Err
		}
		return fmt.Errorf("%s:%d: %v", s.name, line(), err)
	}
	for {
		if dec.PeekKind() != '{' {
			if _, err := dec.ReadToken(); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fail(err)
			}
			return fmt.Errorf("%s:%d: not a Kubernetes object: expected a JSON object such as kubectl get -o json writes", s.name, line())
		}
		if err := s.jsonObject(dec, line, fail); err != nil {
			return err
		}
	}
}

// jsonObject reads one top-level object: a List's items one by one, any
// other object whole.
func (s *splitter) jsonObject(dec *jsontext.Decoder, line func() int, fail func(error) error) error {
	if _, err := dec.ReadToken(); err != nil {
		return fail(err)
	}
	at := line()
	head := []byte{'{'}
	list, n := false, 0
	var a arena
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return fail(err)
		}
		if string(name) == `"items"` && dec.PeekKind() == '[' {
			list = true
			if _, err := dec.ReadToken(); err != nil {
				return fail(err)
			}
			for dec.PeekKind() != ']' {
				v, err := dec.ReadValue()
				if err != nil {
					return fail(err)
				}
				a.begin()
				a.write(v)
				it := item{line: line() - bytes.Count(v, []byte("\n")), body: a.end(), json: true, list: "List", index: n}
				if err := s.emit(it); err != nil {
					return err
				}
				n++
			}
			if _, err := dec.ReadToken(); err != nil {
				return fail(err)
			}
			head = append(head, `"items":[],`...)
			continue
		}
		head = append(append(head, name...), ':')
		v, err := dec.ReadValue()
		if err != nil {
			return fail(err)
		}
		head = append(append(head, v...), ',')
	}
	if _, err := dec.ReadToken(); err != nil {
		return fail(err)
	}
	head = append(bytes.TrimSuffix(head, []byte(",")), '}')
	if !list {
		return s.emit(item{line: at, body: head, json: true})
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(head, &tm); err != nil || tm.Kind == "" || tm.APIVersion == "" {
		return fmt.Errorf("%s:%d: document has no apiVersion/kind; expected the output of kubectl get -o json", s.name, at)
	}
	if !strings.HasSuffix(tm.Kind, "List") {
		return fmt.Errorf("%s:%d: a %s with items; expected one object or a List, as kubectl get -o json writes", s.name, at, tm.Kind)
	}
	return nil
}
