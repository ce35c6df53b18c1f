package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/svctrace/kubectl-svctrace/nodeagent"
)

// restExecer runs commands in containers through the API server's exec
// subresource, as kubectl exec does: WebSocket first, SPDY where the
// server does not upgrade to it.
type restExecer struct {
	config *rest.Config
	client kubernetes.Interface
}

func newRESTExecer(f *genericclioptions.ConfigFlags, c kubernetes.Interface) (nodeagent.Execer, error) {
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return restExecer{config: cfg, client: c}, nil
}

// Exec implements nodeagent.Execer.
func (e restExecer) Exec(ctx context.Context, namespace, pod, container string, argv []string) ([]byte, error) {
	req := e.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: argv, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	spdy, err := remotecommand.NewSPDYExecutor(e.config, "POST", req.URL())
	if err != nil {
		return nil, err
	}
	ws, err := remotecommand.NewWebSocketExecutor(e.config, "GET", req.URL().String())
	if err != nil {
		return nil, err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return nil, err
	}
	var out, errOut bytes.Buffer
	if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut}); err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			return out.Bytes(), fmt.Errorf("%w: %s", err, clipText(msg, 300))
		}
		return out.Bytes(), err
	}
	return out.Bytes(), nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
