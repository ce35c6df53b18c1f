package kubeauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/svctrace/kubectl-svctrace/proxy/kubeauth"
	"github.com/svctrace/kubectl-svctrace/proxy/kubeauth/kubeauthtest"
)

// endpoint answers 200 with the Authorization header it was given, so a
// test sees both that the request got through and what it carried.
var endpoint = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte("reached; authorization=" + r.Header.Get("Authorization")))
})

func TestGuardAuthenticatesAndAuthorizesAllButAlwaysAllowedPaths(t *testing.T) {
	tokens := kubeauthtest.Tokens{"alice-token": "alice", "bob-token": "bob"}
	grants := kubeauthtest.NewGrants(
		kubeauthtest.Grant{User: "alice", Verb: "get", Path: "/metrics"},
		kubeauthtest.Grant{User: "bob", Verb: "get", Path: "/debug/state"},
	)
	g, err := kubeauth.NewGuard(tokens, grants, kubeauth.DefaultAlwaysAllowPaths)
	if err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(endpoint)
	for _, tt := range []struct {
		method, path, token string
		code                int
	}{
		{"GET", "/metrics", "", http.StatusUnauthorized},
		{"GET", "/metrics", "stolen-token", http.StatusUnauthorized},
		{"GET", "/metrics", "bob-token", http.StatusForbidden},
		{"GET", "/metrics", "alice-token", http.StatusOK},
		{"HEAD", "/metrics", "alice-token", http.StatusOK},
		{"POST", "/metrics", "alice-token", http.StatusForbidden}, // verb create
		{"GET", "/debug/state", "alice-token", http.StatusForbidden},
		{"GET", "/debug/state", "bob-token", http.StatusOK},
		{"GET", "/proxyMode", "", http.StatusUnauthorized},
		{"GET", "/healthz", "", http.StatusOK},
		{"GET", "/livez", "", http.StatusOK},
		{"GET", "/readyz", "stolen-token", http.StatusOK},
		{"GET", "/healthz/extra", "", http.StatusUnauthorized}, // exact paths only
	} {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		reached := strings.HasPrefix(body, "reached")
		if rec.Code != tt.code || reached != (tt.code == http.StatusOK) {
			t.Errorf("%s %s with token %q: %d %q; want %d", tt.method, tt.path, tt.token, rec.Code, body, tt.code)
		}
		if reached && strings.Contains(body, "Bearer") {
			t.Errorf("%s %s: the endpoint was handed the bearer token: %q", tt.method, tt.path, body)
		}
	}
	// The authorizer was asked with the verb from the method and the path.
	want := kubeauthtest.Grant{User: "alice", Verb: "create", Path: "/metrics"}
	if !slices.Contains(grants.Asked, want) {
		t.Errorf("the authorizer was asked %v; want among them %v", grants.Asked, want)
	}
	// An always-allowed path is served without asking anyone.
	for _, a := range grants.Asked {
		if slices.Contains(kubeauth.DefaultAlwaysAllowPaths, a.Path) {
			t.Errorf("the authorizer was asked about always-allowed %s", a.Path)
		}
	}
}

func TestGuardAlwaysAllowPrefixesAndErrors(t *testing.T) {
	failing := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionNoOpinion, "", errors.New("subjectaccessreviews: connection refused")
	})
	g, err := kubeauth.NewGuard(kubeauthtest.Tokens{"t": "alice"}, failing, []string{"/debug/*"})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(endpoint)
	for _, tt := range []struct {
		path, token string
		code        int
	}{
		{"/debug/state", "", http.StatusOK},
		{"/healthz", "", http.StatusUnauthorized}, // not in this list
		{"/metrics", "t", http.StatusInternalServerError},
	} {
		req := httptest.NewRequest("GET", tt.path, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.code {
			t.Errorf("GET %s: %d %q; want %d", tt.path, rec.Code, rec.Body, tt.code)
		}
	}
}

func TestNewGuardRefusesBadAlwaysAllowedPaths(t *testing.T) {
	for _, paths := range [][]string{{"/a*b"}, {"healthz"}} {
		if _, err := kubeauth.NewGuard(kubeauthtest.Tokens{}, kubeauthtest.NewGrants(), paths); err == nil {
			t.Errorf("NewGuard accepted always-allowed paths %q", paths)
		}
	}
}
