package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// item is one object of an input stream, not decoded yet: a YAML mapping
// (a document, or an item of a List document) or a JSON object.
type item struct {
	line int // the file line the item starts on
	body []byte
	json bool
	// list and index name the List the item is in, for errors.
	list  string
	index int
}

// splitter cuts a stream into items without decoding them, so that the
// items a trace does not need cost a scan of their lines and no more.
type splitter struct {
	name string
	emit func(item) error
}

// split reads r: a YAML stream (documents separated by "---", each one
// object or a List whose items are cut apart line by line), or JSON
// values back to back when the stream starts with one.
func (s *splitter) split(r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	if first, err := firstByte(br); err != nil {
		return err
	} else if first == '{' || first == '[' {
		return s.splitJSON(br, 1)
	}
	y := yamlSplit{splitter: s, doc: yamlDoc{start: 1}}
	for {
		l, err := readLine(br)
		if len(l) > 0 {
			y.line++
			if err := y.feed(l); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return y.endDoc()
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", s.name, err)
		}
	}
}

func firstByte(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
				return 0, nil
			}
			return 0, err
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
		default:
			return c, nil
		}
	}
}

// readLine returns the next line with its newline; the slice is valid
// until the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	l, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return l, err
	}
	long := append([]byte(nil), l...)
	for errors.Is(err, bufio.ErrBufferFull) {
		l, err = br.ReadSlice('\n')
		long = append(long, l...)
	}
	return long, err
}

type yamlDoc struct {
	start int
	// head holds the document's lines outside its List items: the whole
	// object when it is not a List.
	head    []byte
	content bool // a line other than blanks and comments was seen
	jsonDoc bool
	list    bool // a top-level "items:" sequence was seen
	inItems bool
	seq     int  // the indent of the items' "-", -1 until known
	inItem  bool // an item is being read into the arena
	curLine int
	n       int // items emitted
}

type yamlSplit struct {
	*splitter
	line  int
	doc   yamlDoc
	arena arena
}

func (y *yamlSplit) feed(l []byte) error {
	if isDocSeparator(l) {
		if err := y.endDoc(); err != nil {
			return err
		}
		y.doc = yamlDoc{start: y.line + 1}
		return nil
	}
	d := &y.doc
	indent, text := indentOf(l)
	blank := len(text) == 0 || text[0] == '#'
	if !blank && !d.content {
		d.content = true
		d.jsonDoc = text[0] == '{' || text[0] == '['
	}
	if d.jsonDoc || !d.inItems || blank && !d.inItem {
		if !d.jsonDoc && !blank && indent == 0 && isItemsKey(text) {
			d.list, d.inItems, d.seq = true, true, -1
			d.head = append(d.head, "items: []\n"...) // keep line numbers
			return nil
		}
		d.head = append(d.head, l...)
		return nil
	}
	if blank {
		y.arena.write(l)
		return nil
	}
	isEntry := text[0] == '-' && (len(text) == 1 || text[1] == ' ' || text[1] == '\n' || text[1] == '\r')
	if d.seq < 0 {
		if !isEntry {
			d.inItems = false // "items:" with no sequence: null
			return y.feed(l)
		}
		d.seq = indent
	}
	switch {
	case indent == d.seq && isEntry:
		if err := y.flushItem(); err != nil {
			return err
		}
		y.arena.begin()
		y.arena.write(l)
		y.arena.buf[y.arena.start+indent] = ' ' // the item, dedented, is a mapping
		d.inItem, d.curLine = true, y.line
	case indent > d.seq && d.inItem:
		y.arena.write(l)
	default: // the items have ended
		if err := y.flushItem(); err != nil {
			return err
		}
		d.inItems = false
		d.head = append(d.head, l...)
	}
	return nil
}

func (y *yamlSplit) flushItem() error {
	d := &y.doc
	if !d.inItem {
		return nil
	}
	it := item{line: d.curLine, body: y.arena.end(), list: "List", index: d.n}
	d.inItem = false
	d.n++
	return y.emit(it)
}

func (y *yamlSplit) endDoc() error {
	d := &y.doc
	if err := y.flushItem(); err != nil {
		return err
	}
	switch {
	case !d.content:
		return nil
	case d.jsonDoc:
		return y.splitJSON(bytes.NewReader(d.head), d.start)
	case d.list:
		return checkListHead(y.name, d.start, d.head)
	}
	return y.emit(item{line: d.start, body: d.head})
}

func isDocSeparator(l []byte) bool {
	if !bytes.HasPrefix(l, []byte("---")) {
		return false
	}
	rest := l[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

// indentOf counts a line's leading spaces and returns the rest, without
// its line break and trailing blanks.
func indentOf(l []byte) (int, []byte) {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	e := len(l)
	for e > n {
		switch l[e-1] {
		case ' ', '\t', '\r', '\n':
			e--
			continue
		}
		break
	}
	return n, l[n:e]
}

func isItemsKey(text []byte) bool {
	rest, ok := bytes.CutPrefix(text, []byte("items:"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

// checkListHead checks that a document with items is a List, as decoding
// the whole document would.
func checkListHead(name string, start int, head []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(head, &tm); err != nil {
		return fmt.Errorf("%s:%d: %s", name, errLine(start+leadingBlankLines(head), start, err), err)
	}
	at := start + leadingBlankLines(head)
	if tm.Kind == "" || tm.APIVersion == "" {
		return fmt.Errorf("%s:%d: document has no apiVersion/kind; expected the output of kubectl get -o yaml", name, at)
	}
	if !strings.HasSuffix(tm.Kind, "List") {
		return fmt.Errorf("%s:%d: a %s with items; expected one object or a List, as kubectl get -o yaml writes", name, at, tm.Kind)
	}
	return nil
}

// arena holds the bodies of items in large shared blocks: one allocation
// per megabyte of input rather than a growing one per item.
type arena struct {
	buf   []byte
	start int // where the item being written starts
}

func (a *arena) begin() { a.start = len(a.buf) }

func (a *arena) write(p []byte) {
	if len(a.buf)+len(p) > cap(a.buf) {
		n := len(a.buf) - a.start
		b := make([]byte, n, max(1<<20, 2*(n+len(p))))
		copy(b, a.buf[a.start:])
		a.buf, a.start = b, 0
	}
	a.buf = append(a.buf, p...)
}

// end returns the item written since begin.
func (a *arena) end() []byte {
	b := a.buf[a.start:len(a.buf):len(a.buf)]
	a.start = len(a.buf)
	return b
}
