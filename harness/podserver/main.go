// Command podserver is the process of a test pod, like serve_hostname: every
// HTTP request on its TCP ports and every datagram on its UDP ports is
// answered with the pod name. While the file named by -fail-file exists,
// HTTP requests get 503, which fails readiness probes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	name := flag.String("name", "", "pod name to answer with")
	listen := flag.String("listen", "9376/tcp", "comma-separated port/protocol list, e.g. 9376/tcp,53/udp")
	failFile := flag.String("fail-file", "", "while this file exists, HTTP answers 503")
	flag.Parse()
	if err := run(*name, *listen, *failFile); err != nil {
		log.Fatalf("podserver: %v", err)
	}
}

func run(name, listen, failFile string) error {
	if name == "" {
		return errors.New("-name is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 8)
	for _, spec := range strings.Split(listen, ",") {
		port, proto, err := parsePort(spec)
		if err != nil {
			return err
		}
		addr := net.JoinHostPort("", strconv.Itoa(port))
		switch proto {
		case "tcp":
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s/tcp: %w", addr, err)
			}
			srv := &http.Server{Handler: handler(name, failFile)}
			go func() { errc <- srv.Serve(ln) }()
		case "udp":
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s/udp: %w", addr, err)
			}
			go func() { errc <- serveUDP(pc, name) }()
		}
	}
	log.Printf("podserver %s listening on %s", name, listen)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

func parsePort(spec string) (int, string, error) {
	portStr, proto, found := strings.Cut(strings.TrimSpace(spec), "/")
	if !found {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 || (proto != "tcp" && proto != "udp") {
		return 0, "", fmt.Errorf("bad -listen entry %q: want PORT[/tcp|/udp]", spec)
	}
	return port, proto, nil
}

func handler(name, failFile string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failFile != "" {
			if _, err := os.Stat(failFile); err == nil {
				http.Error(w, name+" unhealthy", http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = fmt.Fprint(w, name)
	})
}

func serveUDP(pc net.PacketConn, name string) error {
	buf := make([]byte, 1500)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		_, _ = pc.WriteTo([]byte(name), from)
	}
}
