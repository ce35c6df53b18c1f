package proxy

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
)

// Load reads Kubernetes objects from files and directories; the caller
// passes source.LoadPaths, so this package depends on one function of the
// trace's file reader and not on its internals.
type Load func(paths []string) ([]runtime.Object, error)

// Files is a Source reading -f files and directories, re-read when any
// file's size or modification time changes (polled: it must work in
// minimal VMs and on bind-mounted files where inotify misses updates).
type Files struct {
	Paths    []string
	Node     string
	Selector labels.Selector
	Load     Load
	// Poll is the interval between checks; zero means one second.
	Poll time.Duration

	mu   sync.Mutex
	objs Objects
	sum  [32]byte
}

// Start implements Source.
func (f *Files) Start(ctx context.Context, changed func(Kind)) error {
	if _, err := f.reload(); err != nil {
		return err
	}
	poll := f.Poll
	if poll == 0 {
		poll = time.Second
	}
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				ok, err := f.reload()
				if err != nil {
					klog.ErrorS(err, "Re-reading the object files failed; keeping the previous objects", "paths", f.Paths)
				} else if ok {
					changed(ServiceChanged)
				}
			}
		}
	}()
	return nil
}

// Objects implements Source.
func (f *Files) Objects() Objects {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objs
}

// reload re-reads the files when their fingerprint changed and reports
// whether it did.
func (f *Files) reload() (bool, error) {
	sum, err := fingerprint(f.Paths)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	same := sum == f.sum && f.objs.Services != nil
	f.mu.Unlock()
	if same {
		return false, nil
	}
	raw, err := f.Load(f.Paths)
	if err != nil {
		return false, err
	}
	objs := Filter(raw, f.Node, f.Selector)
	f.mu.Lock()
	f.objs, f.sum = objs, sum
	f.mu.Unlock()
	return true, nil
}

// Filter keeps the Services and EndpointSlices the selector selects (a
// slice is also judged by its own labels, as kube-proxy's informer does),
// the named Node and the ServiceCIDRs.
func Filter(raw []runtime.Object, node string, sel labels.Selector) Objects {
	out := Objects{Services: []*corev1.Service{}}
	var cidrs []*networkingv1.ServiceCIDR
	for _, o := range raw {
		switch v := o.(type) {
		case *corev1.Service:
			if sel.Matches(labels.Set(v.Labels)) {
				out.Services = append(out.Services, v)
			}
		case *discoveryv1.EndpointSlice:
			if sel.Matches(labels.Set(v.Labels)) {
				out.Slices = append(out.Slices, v)
			}
		case *corev1.Node:
			if v.Name == node {
				out.Node = v
			}
		case *networkingv1.ServiceCIDR:
			cidrs = append(cidrs, v)
		}
	}
	out.ServiceCIDRs = ServiceCIDRsOf(cidrs)
	return out
}

func fingerprint(paths []string) ([32]byte, error) {
	h := sha256.New()
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			st, err := os.Stat(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d %d\n", path, st.Size(), st.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			return [32]byte{}, fmt.Errorf("-f %s: %w", p, err)
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
