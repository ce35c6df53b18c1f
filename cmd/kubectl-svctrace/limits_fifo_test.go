//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNamedPipeOverTheBoundIsRefused feeds a real named pipe, which has
// no size to check before reading, with more than the bound: the read
// must stop at the bound with the same one-line error as a large file,
// for -f named, -f of a bundle directory holding the pipe, and a dump.
func TestNamedPipeOverTheBoundIsRefused(t *testing.T) {
	event := "apiVersion: v1\nkind: Event\nmetadata: {name: e%d, namespace: default}\nmessage: padding padding padding\n---\n"
	dump := "-A KUBE-SERVICES -m comment --comment padding-%d -j ACCEPT\n"
	tests := []struct {
		name   string
		inDir  bool // the pipe is objects.yaml inside the directory given to -f
		args   func(pipe string) []string
		line   string
		prefix func(pipe string) string
	}{
		{"-f pipe", false, func(p string) []string { return []string{"-f", p, "--max-file-size", "1Ki"} },
			event, func(p string) string { return "-f " + p + " is larger than 1Ki" }},
		{"-f bundle with a pipe", true, func(p string) []string { return []string{"-f", filepath.Dir(p), "--max-file-size", "1Ki"} },
			event, func(p string) string { return "-f " + p + " is larger than 1Ki" }},
		{"--iptables-save pipe", false, func(p string) []string {
			return []string{"--demo", "--iptables-save", p, "--max-dump-size", "1Ki"}
		}, dump, func(p string) string { return "--iptables-save " + p + " is larger than 1Ki" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pipe := filepath.Join(t.TempDir(), "objects.yaml")
			if err := syscall.Mkfifo(pipe, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			wrote := feed(t, pipe, tt.line, 1<<20)
			r := runWith(t, nil, false, nil, append(tt.args(pipe), "hostnames")...)
			unblock(pipe)
			n := <-wrote
			want := "error: " + tt.prefix(pipe)
			if r.code != ExitFailed || !strings.HasPrefix(r.errOut, want) || strings.Count(r.errOut, "\n") != 1 ||
				!strings.Contains(r.errOut, "raise it with --max-") {
				t.Errorf("exit %d, stderr %q; want exit 1 and one line starting %q", r.code, r.errOut, want)
			}
			// The reader stopped early: the writer could not put the whole
			// megabyte through (the pipe holds at most 64 KiB more).
			if n >= 1<<20 {
				t.Errorf("the writer put all %d bytes through: the read was not stopped at the bound", n)
			}
		})
	}
}

// feed writes lines (formatted with a counter) into the named pipe until
// limit bytes or until the reader closes it, and reports how many it wrote.
func feed(t *testing.T, pipe, line string, limit int) <-chan int {
	t.Helper()
	wrote := make(chan int, 1)
	go func() {
		n := 0
		defer func() { wrote <- n }()
		// O_RDWR would never block, but then the reader never sees the end;
		// a writer opens write-only and waits for the reader.
		f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		for i := 0; n < limit; i++ {
			m, err := fmt.Fprintf(f, line, i)
			n += m
			if err != nil {
				return // EPIPE: the reader stopped
			}
		}
	}()
	return wrote
}

// unblock opens the pipe for reading and closes it, so a writer still
// waiting for a reader (the command failed before reading) goes on to fail.
func unblock(pipe string) {
	if r, err := os.OpenFile(pipe, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		time.Sleep(10 * time.Millisecond)
		r.Close()
	}
}
