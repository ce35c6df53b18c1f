package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	kconntrack "github.com/svctrace/kubectl-svctrace/kernel/conntrack"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

// NewNodeCollector reads the node this process runs on: commands through
// os/exec, kube-proxy's endpoints over HTTP, IPVS through netlink.
func NewNodeCollector(hostRoot, node, version string, f *Filter) *Collector {
	return &Collector{
		HostRoot: hostRoot,
		Run:      execRunner{},
		HTTP:     httpGetter{client: &http.Client{Timeout: 5 * time.Second}},
		IPVS:     readIPVS,
		Conntrack: func(ctx context.Context) ([]conntrack.Entry, error) {
			return kconntrack.Netlink{}.List(ctx)
		},
		Exists: func(p string) bool {
			_, err := os.Stat(p)
			return err == nil
		},
		LookPath:    exec.LookPath,
		Now:         time.Now,
		Node:        node,
		Version:     version,
		Filter:      f,
		MetricsAddr: "127.0.0.1:10249",
		HealthzAddr: "127.0.0.1:10256",
	}
}

type execRunner struct{}

func (execRunner) Run(ctx context.Context, argv []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		if msg != "" {
			return stdout.Bytes(), fmt.Errorf("%s: %w: %s", argv[0], err, msg)
		}
		return stdout.Bytes(), fmt.Errorf("%s: %w", argv[0], err)
	}
	return stdout.Bytes(), nil
}

type httpGetter struct{ client *http.Client }

func (g httpGetter) Get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return body, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return body, nil
}

func readIPVS(ctx context.Context) (ipvs.Table, error) {
	k, err := kipvs.NewNetlink(ctx)
	if err != nil {
		return ipvs.Table{}, err
	}
	if c, ok := any(k).(interface{ Close() }); ok {
		defer c.Close()
	}
	return kipvs.ReadTable(ctx, k)
}
