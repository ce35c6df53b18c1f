package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/svctrace/kubectl-svctrace/source"
)

// limits bounds the untrusted input files, so a huge or endless one is
// refused with a clear error instead of exhausting memory.
type limits struct {
	dump, file string
	// dumpBytes and fileBytes are parsed by check.
	dumpBytes, fileBytes int64
}

func (l *limits) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&l.dump, "max-dump-size", quantity(source.DefaultMaxDumpBytes), "refuse a node dump (--iptables-save, --nft, --ipvs, --ipvs-addrs, --conntrack) larger than this")
	f.StringVar(&l.file, "max-file-size", quantity(source.DefaultMaxFileBytes), "refuse a -f file larger than this")
}

func quantity(n int64) string { return resource.NewQuantity(n, resource.BinarySI).String() }

// check parses the bounds.
func (l *limits) check() error {
	for _, b := range []struct {
		flag, value string
		to          *int64
	}{{"--max-dump-size", l.dump, &l.dumpBytes}, {"--max-file-size", l.file, &l.fileBytes}} {
		q, err := resource.ParseQuantity(b.value)
		if err != nil || q.Sign() <= 0 {
			return fmt.Errorf("bad %s %q: use a size such as 256Mi or 2Gi", b.flag, b.value)
		}
		*b.to = q.Value()
	}
	return nil
}

// checkFiles refuses -f files over the bound before any is read. It looks
// at regular files, whose size is known: named ones, and those with a
// name -f reads in a directory. Every input, stdin and FIFOs included, is
// bounded again as it is read (source.Want.MaxBytes).
func (l *limits) checkFiles(paths []string) error {
	for _, p := range paths {
		if p == "-" {
			continue
		}
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || (path != p && !dumpFileName(path)) {
				return nil // -f itself reports what it cannot read
			}
			info, err := os.Stat(path)
			if err == nil && info.Mode().IsRegular() && info.Size() > l.fileBytes {
				return &source.TooLargeError{Input: "-f " + path, Limit: l.fileBytes, Flag: "--max-file-size"}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dumpFileName reports whether -f reads a file of this name in a directory
// (YAML or JSON, possibly compressed).
func dumpFileName(path string) bool {
	ext := strings.ToLower(strings.TrimSuffix(path, ".gz"))
	return strings.HasSuffix(ext, ".yaml") || strings.HasSuffix(ext, ".yml") || strings.HasSuffix(ext, ".json")
}
