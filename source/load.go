package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// ErrNoObjects is returned when the input holds no object.
var ErrNoObjects = errors.New("no Kubernetes objects")

// Want names what one trace reads, so that loading skips the rest of a
// dump after a scan of its lines.
type Want struct {
	Namespace, Service string
	// FromPod is "namespace/name" of the pod traced from, if any.
	FromPod string
	// MaxBytes bounds each input, a file or stdin, as it is read
	// (DefaultMaxFileBytes when 0): a FIFO, a device or stdin has no size
	// to check before reading, and an endless one must still end.
	MaxBytes int64
}

// Load reads the objects the trace of want needs from files, directories
// (bundles) and "-" (stdin), YAML or JSON, optionally gzip-compressed,
// into a Store. Namespaced objects without a namespace go to defaultNS, as
// kubectl apply puts them. Malformed objects the trace needs fail with
// file:line; an object given twice differently is an error naming both.
func Load(ctx context.Context, paths []string, stdin io.Reader, defaultNS string, want Want) (*Store, error) {
	l := newLoader(defaultNS, &want, want.MaxBytes)
	if err := l.read(ctx, paths, stdin); err != nil {
		return nil, err
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	if l.items == 0 {
		return nil, noObjects(paths)
	}
	return Offline(l.objs), nil
}

// LoadPaths reads every object of the files as Load does, for tests and
// tools that want them all, each input bounded by DefaultMaxFileBytes.
func LoadPaths(paths []string, stdin io.Reader, defaultNS string) ([]runtime.Object, error) {
	return LoadPathsWithin(paths, stdin, defaultNS, 0)
}

// LoadPathsWithin is LoadPaths with each input bounded by maxBytes
// (DefaultMaxFileBytes when 0), for --serve -f and --max-file-size.
func LoadPathsWithin(paths []string, stdin io.Reader, defaultNS string, maxBytes int64) ([]runtime.Object, error) {
	l := newLoader(defaultNS, nil, maxBytes)
	if err := l.read(context.Background(), paths, stdin); err != nil {
		return nil, err
	}
	if len(l.objs) == 0 {
		return nil, noObjects(paths)
	}
	return l.objs, nil
}

func noObjects(paths []string) error {
	return fmt.Errorf("-f %s: %w; expected the output of kubectl get svc,endpointslices,pods,nodes,events -A -o yaml", strings.Join(paths, ","), ErrNoObjects)
}

func (l *loader) read(ctx context.Context, paths []string, stdin io.Reader) error {
	for _, p := range paths {
		if p == "-" {
			if err := l.stream(ctx, "<stdin>", "-", stdin); err != nil {
				return err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := l.file(ctx, f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *loader) file(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read -f %s: %w", path, err)
	}
	defer f.Close()
	return l.stream(ctx, path, path, f)
}

// bound limits one input to l.maxBytes, whatever kind of file it is.
func (l *loader) bound(r io.Reader, input string) io.Reader {
	max := l.maxBytes
	if max <= 0 {
		max = DefaultMaxFileBytes
	}
	return Bounded(r, input, max, "--max-file-size")
}

// stream reads one input (path as -f names it, name in messages),
// decompressing it (a few chunks ahead, on its own goroutine) when it
// starts as gzip does. Both what is read and what it inflates to are
// bounded, so neither an endless pipe nor a small gzip bomb fills memory.
func (l *loader) stream(ctx context.Context, name, path string, r io.Reader) error {
	br := bufio.NewReaderSize(l.bound(r, "-f "+path), 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		defer zr.Close()
		ra := readAhead(l.bound(zr, "-f "+path+" (decompressed)"))
		defer ra.Close()
		r = ra
	} else {
		r = br
	}
	n := 0
	err := batches(func(emit func(item) error) error {
		return (&splitter{name: name, emit: emit}).split(r)
	}, func(it item) error {
		if n++; n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		return l.add(name, it)
	})
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read %s: %w; is the file complete?", name, err)
	}
	return err
}

// inputExts are the files a directory bundle is read for.
var inputExts = []string{".yaml", ".yml", ".json"}

func isInput(path string) bool {
	p := strings.ToLower(strings.TrimSuffix(strings.ToLower(path), ".gz"))
	for _, ext := range inputExts {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
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
		if !d.IsDir() && isInput(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read -f %s: %w", p, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("read -f %s: directory holds no .yaml, .yml or .json file (nor one of them .gz)", p)
	}
	sort.Strings(files)
	return files, nil
}
