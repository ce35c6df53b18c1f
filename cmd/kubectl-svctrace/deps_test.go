package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoFakeClientset: traces read an indexed Store or informer
// caches, never client-go's fake clientset, so neither it nor the action
// recorder of k8s.io/client-go/testing is compiled into the command. The
// only package that still imports client-go/testing is client-go's own
// gentype (for its fake typed clients), whose fake code is not linked.
// Nor is any of the project's *test packages (kubeauthtest, netnstest, …).
func TestBinaryLinksNoFakeClientset(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		if strings.HasPrefix(pkg, "k8s.io/client-go/kubernetes/fake") {
			t.Errorf("the command depends on %s", pkg)
		}
		// The project's own fakes live in *test packages.
		if strings.HasPrefix(pkg, "github.com/svctrace/") && strings.HasSuffix(pkg, "test") {
			t.Errorf("the command links %s", pkg)
		}
		for _, imp := range strings.Fields(imports) {
			if imp == "k8s.io/client-go/testing" && pkg != "k8s.io/client-go/gentype" {
				t.Errorf("%s imports k8s.io/client-go/testing", pkg)
			}
		}
	}
}

// TestBinaryLinksNoTestPackages: the fakes and fixtures of the project's
// *test packages (dataplanetest, iptablestest, ipvstest, ...) serve tests
// only; the command links none of them.
func TestBinaryLinksNoTestPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/svctrace/kubectl-svctrace/"
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, module) && strings.HasSuffix(pkg, "test") {
			t.Errorf("the command depends on %s", pkg)
		}
	}
}
