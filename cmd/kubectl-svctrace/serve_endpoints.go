package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/spf13/pflag"

	"github.com/svctrace/kubectl-svctrace/proxy"
	"github.com/svctrace/kubectl-svctrace/proxy/kubeauth"
)

// endpointFlags choose how --serve's HTTP endpoints are protected when
// bound off loopback; on loopback they stay plain HTTP, open to the node.
type endpointFlags struct {
	tlsCert, tlsKey string
	alwaysAllow     []string
}

func (e *endpointFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&e.tlsCert, "tls-cert-file", "", "with --serve: serving certificate (PEM, chain allowed) of endpoints bound off loopback, read again when it changes (default: a self-signed one made in memory at start)")
	f.StringVar(&e.tlsKey, "tls-private-key-file", "", "with --serve: private key (PEM) of --tls-cert-file")
	f.StringSliceVar(&e.alwaysAllow, "authorization-always-allow-paths", kubeauth.DefaultAlwaysAllowPaths, "with --serve: paths of endpoints bound off loopback served without authentication or authorization (exact, or a prefix ending in *)")
}

// endpoint is one HTTP server of --serve; an empty addr serves nothing.
type endpoint struct {
	flag, addr string
	handler    http.Handler
}

// check validates the flags; the endpoints carry the bind flags as given
// ("" is the default on loopback, "off" no server).
func (e *endpointFlags) check(binds []endpoint) error {
	offLoopback := false
	for _, b := range binds {
		if b.addr == "" || b.addr == "off" {
			continue
		}
		local, err := isLoopback(b.flag, b.addr)
		if err != nil {
			return err
		}
		offLoopback = offLoopback || !local
	}
	if (e.tlsCert == "") != (e.tlsKey == "") {
		return errors.New("give both --tls-cert-file and --tls-private-key-file, or neither for a self-signed certificate")
	}
	if e.tlsCert != "" && !offLoopback {
		return errors.New("--tls-cert-file serves endpoints bound off loopback, and every one is on loopback (plain HTTP): drop it or bind --metrics-bind-address or --healthz-bind-address to a node address")
	}
	if _, err := kubeauth.CheckPaths(e.alwaysAllow); err != nil {
		return fmt.Errorf("--authorization-always-allow-paths: %w; give paths such as /healthz or /debug/*", err)
	}
	return nil
}

// isLoopback reports whether a HOST:PORT bind address is on the node's
// loopback ("localhost" included).
func isLoopback(flag, addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("%s %q: %w; give HOST:PORT, e.g. 127.0.0.1:10249", flag, addr, err)
	}
	ip, err := netip.ParseAddr(host)
	return host == "localhost" || (err == nil && ip.IsLoopback()), nil
}

// serve starts the endpoints. One bound off loopback is served over HTTPS
// and only to requests the API server authenticates and authorizes
// (package kubeauth), through the plugin's own client: it needs `create`
// on tokenreviews and subjectaccessreviews.
func (e *endpointFlags) serve(ctx context.Context, o *options, endpoints []endpoint) error {
	var guard *kubeauth.Guard
	var tlsConfig *tls.Config
	for _, ep := range endpoints {
		if ep.addr == "" {
			continue
		}
		local, err := isLoopback(ep.flag, ep.addr)
		if err != nil {
			return err
		}
		if local {
			if err := proxy.Serve(ctx, ep.addr, ep.handler, nil); err != nil {
				return err
			}
			continue
		}
		if guard == nil {
			if guard, err = e.guard(o, ep); err != nil {
				return err
			}
			if tlsConfig, err = kubeauth.ServingTLS(e.tlsCert, e.tlsKey, o.node, bindIPs(endpoints)); err != nil {
				return err
			}
		}
		if err := proxy.Serve(ctx, ep.addr, guard.Wrap(ep.handler), tlsConfig); err != nil {
			return err
		}
	}
	return nil
}

func (e *endpointFlags) guard(o *options, ep endpoint) (*kubeauth.Guard, error) {
	client, err := o.deps.newClient(o.configFlags)
	if err != nil {
		return nil, fmt.Errorf("%s %s is off loopback, so the API server must authenticate its requests: %w", ep.flag, ep.addr, err)
	}
	authn, authz, err := kubeauth.Delegating(client, kubeauth.DefaultCacheTTL)
	if err != nil {
		return nil, err
	}
	return kubeauth.NewGuard(authn, authz, e.alwaysAllow)
}

// bindIPs are the specific addresses the endpoints bind, for the
// self-signed certificate's names.
func bindIPs(endpoints []endpoint) []net.IP {
	var ips []net.IP
	for _, ep := range endpoints {
		host, _, err := net.SplitHostPort(ep.addr)
		if ip := net.ParseIP(strings.Trim(host, "[]")); err == nil && ip != nil && !ip.IsUnspecified() {
			ips = append(ips, ip)
		}
	}
	return ips
}
