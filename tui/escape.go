package tui

import (
	"context"
	"errors"

	"github.com/svctrace/kubectl-svctrace/termsafe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// escaped makes every trace the UI receives, first and reloaded, safe to
// draw: most of its strings come from the cluster or a dump, and a control
// sequence in one must be shown, not obeyed. A reload error can quote what
// the API server said, so it is escaped too. The UI's own styling is added
// later, when the screens are drawn.
func escaped(cfg Config) Config {
	if cfg.Trace != nil {
		cfg.Trace = termsafe.Copy(cfg.Trace)
	}
	if f := cfg.Fleet; f != nil {
		safe := &Fleet{Service: termsafe.String(f.Service), Rows: termsafe.Copy(f.Rows), Shown: termsafe.String(f.Shown), Traces: map[string]*trace.Trace{}}
		for node, t := range f.Traces {
			safe.Traces[termsafe.String(node)] = termsafe.Copy(t)
		}
		cfg.Fleet = safe
	}
	if reload := cfg.Reload; reload != nil {
		cfg.Reload = func(ctx context.Context) (*trace.Trace, error) {
			t, err := reload(ctx)
			if err != nil {
				return nil, errors.New(termsafe.String(err.Error()))
			}
			if t != nil {
				t = termsafe.Copy(t)
			}
			return t, nil
		}
	}
	return cfg
}
