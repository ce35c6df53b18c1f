// Command kubectl-svctrace follows a Kubernetes Service the way a resolver
// and a packet do, and says what is broken on the way.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"

	"github.com/svctrace/kubectl-svctrace/termsafe"
)

func main() {
	// client-go logs through klog; a cancelled sibling request or a
	// deprecation warning would interleave with the one-line errors and the
	// trace this command prints, so its logs are dropped.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C cancels ctx; work that cannot see it (a read of
	// stdin) would hold on, so the handler goes and a second one kills.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}

// run executes the command line and maps its outcome to an exit code.
func run(ctx context.Context, args []string, streams genericiooptions.IOStreams) int {
	cmd := NewCmdSvctrace(streams, defaultDeps())
	cmd.SetArgs(args)
	return exitCode(cmd.ExecuteContext(ctx), streams.ErrOut)
}

// exitCode prints err (unless it only carries a code) and returns the
// process exit code for it. The message is escaped: it can quote a dump or
// what the API server said, which must not drive the terminal.
func exitCode(err error, errOut io.Writer) int {
	var ex *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ex):
		if ex.err != nil {
			fmt.Fprintf(errOut, "error: %s\n", termsafe.String(ex.err.Error()))
		}
		return ex.code
	default:
		fmt.Fprintf(errOut, "error: %s\n", termsafe.String(err.Error()))
		return ExitFailed
	}
}
