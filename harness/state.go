package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// manifestFile is the name, inside a state directory, of the record of
// everything a cluster created. It is written before each resource is made,
// so a crashed run still leaves enough behind for Teardown.
const manifestFile = "manifest.json"

// procRecord identifies a process across PID reuse: the start time (in clock
// ticks since boot, /proc/PID/stat field 22) must match before it is signalled.
type procRecord struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// manifest lists what a cluster made, in creation order, and the process
// that owns it: once the owner is gone, nobody tears the rest down but a
// sweep.
type manifest struct {
	mu        sync.Mutex
	path      string
	Owner     procRecord   `json:"owner"`
	Processes []procRecord `json:"processes"`
	NetNS     []string     `json:"netns"`
	Links     []string     `json:"links"`
}

func newManifest(stateDir string) *manifest {
	return &manifest{path: filepath.Join(stateDir, manifestFile)}
}

// empty reports whether nothing is left to tear down.
func (m *manifest) empty() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.Processes) == 0 && len(m.NetNS) == 0 && len(m.Links) == 0
}

func loadManifest(stateDir string) (*manifest, error) {
	m := newManifest(stateDir)
	data, err := os.ReadFile(m.path)
	if err != nil {
		return nil, fmt.Errorf("read cluster manifest: %w (is %s a cluster state directory?)", err, stateDir)
	}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("parse cluster manifest %s: %w", m.path, err)
	}
	return m, nil
}

func (m *manifest) addProcess(r procRecord) error {
	return m.update(func() { m.Processes = append(m.Processes, r) })
}

func (m *manifest) addNetNS(name string) error {
	return m.update(func() { m.NetNS = append(m.NetNS, name) })
}

func (m *manifest) addLink(name string) error {
	return m.update(func() { m.Links = append(m.Links, name) })
}

// forgetNetNS drops a namespace that was already removed (a deleted pod).
func (m *manifest) forgetNetNS(name string) error {
	return m.update(func() {
		m.NetNS = slices.DeleteFunc(m.NetNS, func(n string) bool { return n == name })
	})
}

func (m *manifest) forgetProcess(pid int) error {
	return m.update(func() {
		m.Processes = slices.DeleteFunc(m.Processes, func(r procRecord) bool { return r.PID == pid })
	})
}

func (m *manifest) update(change func()) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	change()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cluster manifest: %w", err)
	}
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write cluster manifest: %w", err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		return fmt.Errorf("write cluster manifest: %w", err)
	}
	return nil
}

// snapshot copies the lists so teardown does not hold the lock while waiting.
func (m *manifest) snapshot() (procs []procRecord, netns, links []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.Processes), slices.Clone(m.NetNS), slices.Clone(m.Links)
}

// Teardown removes everything recorded in the manifest of stateDir:
// processes (newest first, SIGTERM then SIGKILL to their process groups),
// then network namespaces, then host links. It keeps going after errors and
// returns them all. The state directory itself is left for its logs.
func Teardown(ctx context.Context, stateDir string) error {
	m, err := loadManifest(stateDir)
	if err != nil {
		return err
	}
	return m.teardown(ctx)
}

func (m *manifest) teardown(ctx context.Context) error {
	procs, netns, links := m.snapshot()
	var errs []error
	slices.Reverse(procs)
	// Nothing of a test cluster needs a graceful exit, and kube-apiserver
	// drains requests for up to a minute; two seconds is plenty for the rest.
	errs = append(errs, stopProcesses(procs, 2*time.Second)...)
	slices.Reverse(netns)
	for _, ns := range netns {
		if err := deleteNetNS(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range links {
		if err := deleteLink(ctx, l); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		_ = m.update(func() { m.Processes, m.NetNS, m.Links = nil, nil, nil })
	}
	return errors.Join(errs...)
}

// stopProcesses sends SIGTERM to every still-running process group, waits up
// to grace for all of them, then SIGKILLs what is left.
func stopProcesses(procs []procRecord, grace time.Duration) []error {
	var live []procRecord
	for _, p := range procs {
		if alive(p) {
			_ = syscall.Kill(-p.PID, syscall.SIGTERM)
			_ = syscall.Kill(p.PID, syscall.SIGTERM)
			live = append(live, p)
		}
	}
	deadline := time.Now().Add(grace)
	for len(live) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		live = slices.DeleteFunc(live, func(p procRecord) bool { return !alive(p) })
	}
	var errs []error
	for _, p := range live {
		_ = syscall.Kill(-p.PID, syscall.SIGKILL)
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	}
	for _, p := range live {
		if !waitGone(p, 5*time.Second) {
			errs = append(errs, fmt.Errorf("process %s (pid %d) survived SIGKILL", p.Name, p.PID))
		}
	}
	return errs
}

func waitGone(p procRecord, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !alive(p) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return !alive(p)
}

// SweepStale tears down clusters in os.TempDir() whose owning process died
// without stopping them (a test killed by -timeout, a crash). Clusters of
// live processes, other people's included, are left alone. It returns the
// state directories it cleaned.
func SweepStale(ctx context.Context) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), "svctrace-cluster-*"))
	if err != nil {
		return nil, fmt.Errorf("list stale clusters: %w", err)
	}
	var swept []string
	var errs []error
	for _, dir := range dirs {
		m, err := loadManifest(dir)
		if err != nil || m.Owner.PID == 0 || alive(m.Owner) || m.empty() {
			continue
		}
		if err := m.teardown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", dir, err))
			continue
		}
		swept = append(swept, dir)
	}
	return swept, errors.Join(errs...)
}
