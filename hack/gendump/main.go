// Command gendump writes a deterministic cluster dump shaped like
// `kubectl get svc,endpointslices,pods,nodes,events -A -o yaml` (or -o json)
// on a real cluster, for measuring offline traces at scale:
//
//	go run ./hack/gendump -services 10000 -o dump.yaml.gz
//
// The format follows the file name: .json or .yaml, .gz compressed.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/svctrace/kubectl-svctrace/internal/gendump"
)

func main() {
	var o gendump.Options
	flag.IntVar(&o.Services, "services", 1000, "Services in the dump")
	flag.IntVar(&o.PodsPerService, "pods", 10, "pods per Service")
	flag.IntVar(&o.Namespaces, "namespaces", 0, "namespaces the Services spread over (default: one per 100 Services)")
	out := flag.String("o", "", "the file to write: NAME.yaml, NAME.json, optionally .gz")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gendump -services N -o FILE.yaml|FILE.json[.gz]")
		os.Exit(2)
	}
	name := strings.TrimSuffix(*out, ".gz")
	f := gendump.Format{JSON: strings.HasSuffix(name, ".json"), Gzip: name != *out}
	if err := write(*out, o, f); err != nil {
		fmt.Fprintln(os.Stderr, "gendump:", err)
		os.Exit(1)
	}
}

func write(path string, o gendump.Options, f gendump.Format) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gendump.Write(file, o, f); err != nil {
		file.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return file.Close()
}
