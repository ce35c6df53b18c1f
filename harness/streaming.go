package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// streamIdleTimeout ends an exec session nobody writes to or reads from,
// as the kubelet's streaming-connection-idle-timeout does (default 4h; a
// test cluster needs less).
const streamIdleTimeout = 10 * time.Minute

// exec serves `kubectl exec` as the kubelet does, through the kubelet's
// own streaming code (k8s.io/cri-streaming): the API server upgrades the
// connection to SPDY or WebSocket and the command's standard streams travel
// over it. The command runs on this machine's file system in the pod's
// network namespace (the node's for host-network pods), so it sees the pod's
// address, routes and resolv.conf; kubectl-svctrace is the build under
// test. There is no terminal: a TTY request gets plain pipes.
func (k *kubelet) exec(w http.ResponseWriter, r *http.Request) {
	ns, name, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	rt := k.streamTarget(w, ns, name, container)
	if rt == nil {
		return
	}
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 {
		http.Error(w, "no command to run (query parameter command)", http.StatusBadRequest)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ex := &podExecutor{netns: rt.network(k.node), plugin: k.c.bins.Plugin, env: []string{"NODE_NAME=" + k.node.Name, "HOSTNAME=" + name}}
	remotecommand.ServeExec(w, r, ex, ns+"/"+name, string(rt.uid), container, cmd, opts,
		streamIdleTimeout, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// streamTarget is the runtime of a pod of this node that declares
// container; otherwise it answers 404 and returns nil.
func (k *kubelet) streamTarget(w http.ResponseWriter, ns, name, container string) *podRuntime {
	obj, ok, _ := k.store.GetByKey(ns + "/" + name)
	rt := k.runtime(ns, name)
	if !ok || rt == nil {
		http.Error(w, "pod "+ns+"/"+name+" does not run on node "+k.node.Name, http.StatusNotFound)
		return nil
	}
	if pod := obj.(*corev1.Pod); !hasContainer(pod, container) {
		http.Error(w, "pod "+ns+"/"+name+" has no container "+container, http.StatusNotFound)
		return nil
	}
	return rt
}

// hasContainer reports whether pod declares a container or ephemeral
// container called name.
func hasContainer(pod *corev1.Pod, name string) bool {
	if slices.ContainsFunc(pod.Spec.Containers, func(c corev1.Container) bool { return c.Name == name }) {
		return true
	}
	return slices.ContainsFunc(pod.Spec.EphemeralContainers, func(c corev1.EphemeralContainer) bool { return c.Name == name })
}

// podExecutor runs exec'd commands in one pod's network namespace.
type podExecutor struct {
	netns  string
	plugin string // kubectl-svctrace, when built
	env    []string
}

// ExecInContainer runs cmd to completion with the session's streams; a
// non-zero exit becomes the exit code kubectl returns.
func (e *podExecutor) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader, out, errOut io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize, _ time.Duration) error {
	argv := slices.Clone(cmd)
	if path.Base(argv[0]) == "kubectl-svctrace" && e.plugin != "" {
		argv[0] = e.plugin
	}
	c := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", e.netns}, argv...)...)
	c.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, e.env...)
	c.Stdin, c.Stdout, c.Stderr = in, out, errOut
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("%s: %w", argv[0], err), Code: ee.ExitCode()}
	}
	return err
}

// attach serves `kubectl attach` and `kubectl debug -i` through the same
// streaming code: the container's output from its start (the log so far,
// then what follows) until its process exits or the client goes. A pod
// process has no standard input to attach to.
func (k *kubelet) attach(w http.ResponseWriter, r *http.Request) {
	ns, name, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	rt := k.streamTarget(w, ns, name, container)
	if rt == nil {
		return
	}
	proc := rt.containerProcess(container)
	if proc == nil {
		http.Error(w, "container "+container+" of pod "+ns+"/"+name+" runs no process on node "+k.node.Name, http.StatusNotFound)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	remotecommand.ServeAttach(w, r, &logFollower{proc: proc, stop: k.ctx.Done()}, ns+"/"+name, string(rt.uid), container, opts,
		streamIdleTimeout, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// containerProcess is the process of the pod's ephemeral container name,
// else the pod's own process (its one container's).
func (rt *podRuntime) containerProcess(name string) *process {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if p := rt.ephemeral[name]; p != nil {
		return p
	}
	return rt.proc
}

// logFollower streams a process's log as it grows.
type logFollower struct {
	proc *process
	stop <-chan struct{} // the kubelet stopping
}

// AttachContainer copies the log to out until the process has exited and
// everything it wrote was sent, the client goes (a write fails), or the
// kubelet stops.
func (f *logFollower) AttachContainer(ctx context.Context, _, _, _ string, _ io.Reader, out, _ io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize) error {
	if out == nil {
		return nil
	}
	log, err := os.Open(f.proc.log)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	defer log.Close()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		exited := false
		select {
		case <-f.proc.done:
			exited = true
		default:
		}
		if _, err := io.Copy(out, log); err != nil {
			return nil // the client went away
		}
		if exited {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.stop:
			return nil
		case <-tick.C:
		}
	}
}

// portForward serves `kubectl port-forward` through the kubelet's streaming
// code: each forwarded connection is dialled to 127.0.0.1:PORT inside the
// pod's network namespace (the node's for host-network pods), as container
// runtimes do.
func (k *kubelet) portForward(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("pod")
	rt := k.runtime(ns, name)
	if rt == nil {
		http.Error(w, "pod "+ns+"/"+name+" does not run on node "+k.node.Name, http.StatusNotFound)
		return
	}
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, podPorts(rt.network(k.node)), ns+"/"+name, string(rt.uid), opts,
		streamIdleTimeout, remotecommand.DefaultStreamCreationTimeout, portforward.SupportedProtocols)
}

// podPorts forwards to ports of a network namespace's loopback.
type podPorts string

// PortForward copies between stream and one TCP connection to the port
// until either side closes.
func (netns podPorts) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	conn, err := dialIn(ctx, string(netns), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("forward to port %d: %w", port, err)
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(conn, stream)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(stream, conn)
		done <- struct{}{}
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}
