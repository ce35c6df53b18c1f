package source

import (
	"errors"
	"io"
)

// errStopped ends a producer whose consumer has failed.
var errStopped = errors.New("stopped")

// batches runs split on its own goroutine and hands its items over in
// batches, so that cutting the stream and reading the items run on two
// cores. add sees the items in order; its first error stops split, and
// wins over split's own, which is about a later place in the stream.
func batches(split func(emit func(item) error) error, add func(item) error) error {
	ch := make(chan []item, 4)
	stop := make(chan struct{})
	var splitErr error
	go func() {
		defer close(ch)
		var batch []item
		size := 0
		send := func() error {
			select {
			case ch <- batch:
			case <-stop:
				return errStopped
			}
			batch, size = nil, 0
			return nil
		}
		splitErr = split(func(it item) error {
			batch = append(batch, it)
			if size += len(it.body); len(batch) >= 256 || size >= 1<<20 {
				return send()
			}
			return nil
		})
		if splitErr == nil && len(batch) > 0 {
			splitErr = send()
		}
	}()
	var addErr error
	for b := range ch {
		for _, it := range b {
			if addErr != nil {
				break
			}
			if addErr = add(it); addErr != nil {
				close(stop)
			}
		}
	}
	if addErr != nil {
		return addErr
	}
	return splitErr
}

// readAhead reads r on its own goroutine (a decompressor, typically), a
// few chunks ahead of the reader it returns. Close stops it.
func readAhead(r io.Reader) io.ReadCloser {
	a := &ahead{ch: make(chan chunk, 3), stop: make(chan struct{})}
	go func() {
		defer close(a.ch)
		for {
			buf := make([]byte, 1<<20)
			n, err := io.ReadFull(r, buf)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF // a short last chunk
			}
			select {
			case a.ch <- chunk{buf[:n], err}:
			case <-a.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

type chunk struct {
	b   []byte
	err error
}

type ahead struct {
	ch   chan chunk
	stop chan struct{}
	cur  chunk
}

func (a *ahead) Read(p []byte) (int, error) {
	for len(a.cur.b) == 0 {
		if a.cur.err != nil {
			return 0, a.cur.err
		}
		c, ok := <-a.ch
		if !ok {
			return 0, io.EOF
		}
		a.cur = c
	}
	n := copy(p, a.cur.b)
	a.cur.b = a.cur.b[n:]
	return n, nil
}

func (a *ahead) Close() error {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	return nil
}
