package main

import (
	"context"
	"io"
)

// interruptible ends a read of r when ctx ends: nothing else interrupts a
// read of a terminal or a pipe, so Ctrl-C would wait for input that never
// comes. The abandoned read finishes into its own buffer.
type interruptible struct {
	ctx context.Context
	r   io.Reader
}

func (i interruptible) Read(p []byte) (int, error) {
	if i.r == nil {
		return 0, io.EOF
	}
	type result struct {
		n   int
		err error
	}
	buf := make([]byte, len(p))
	done := make(chan result, 1)
	go func() {
		n, err := i.r.Read(buf)
		done <- result{n, err}
	}()
	select {
	case <-i.ctx.Done():
		return 0, context.Cause(i.ctx)
	case r := <-done:
		return copy(p, buf[:r.n]), r.err
	}
}
