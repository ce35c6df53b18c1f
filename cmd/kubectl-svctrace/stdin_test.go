package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestInterruptibleRead(t *testing.T) {
	got, err := io.ReadAll(interruptible{context.Background(), strings.NewReader("*nat\nCOMMIT\n")})
	if err != nil || string(got) != "*nat\nCOMMIT\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	// A pipe nobody writes to blocks forever, like a terminal nobody types
	// into: cancelling must end the read.
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(interruptible{ctx, pr})
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v, want context.Canceled", err)
	}
}
