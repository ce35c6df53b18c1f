package kubeauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/proxy/kubeauth"
	"github.com/svctrace/kubectl-svctrace/proxy/kubeauth/kubeauthtest"
)

const prometheus = "system:serviceaccount:monitoring:prometheus"

var (
	saTokens    = kubeauthtest.Tokens{"sa-token": prometheus}
	metricsRead = kubeauthtest.Grant{User: prometheus, Verb: "get", Path: "/metrics"}
)

func get(t *testing.T, h http.Handler, token string) int {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// guarded is the endpoint behind the real delegating authenticator and
// authorizer, asking an API server that knows sa-token and lets it read
// /metrics.
func guarded(t *testing.T, ttl time.Duration) (*kubeauthtest.APIServer, http.Handler) {
	t.Helper()
	api, client := kubeauthtest.NewAPIServer(t, saTokens, metricsRead)
	authn, authz, err := kubeauth.Delegating(client, ttl)
	if err != nil {
		t.Fatal(err)
	}
	g, err := kubeauth.NewGuard(authn, authz, kubeauth.DefaultAlwaysAllowPaths)
	if err != nil {
		t.Fatal(err)
	}
	return api, g.Wrap(endpoint)
}

// TestDelegatingAsksTheAPIServerAndCaches checks the real delegating
// authenticator and authorizer send a TokenReview and a non-resource
// SubjectAccessReview (get /metrics) and reuse the answers.
func TestDelegatingAsksTheAPIServerAndCaches(t *testing.T) {
	api, h := guarded(t, time.Hour)
	for i := 0; i < 3; i++ {
		if code := get(t, h, "sa-token"); code != http.StatusOK {
			t.Fatalf("request %d: %d; want 200", i, code)
		}
	}
	if tr, sar := api.Counts(); tr != 1 || sar != 1 {
		t.Errorf("3 requests sent %d TokenReviews and %d SubjectAccessReviews; want 1 each (cached)", tr, sar)
	}
	if code := get(t, h, "other-token"); code != http.StatusUnauthorized {
		t.Errorf("a token the API server does not know: %d; want 401", code)
	}
}

// TestDelegatingCacheEndsWithItsTTL checks a revoked token, and a revoked
// grant, stop working once the cache TTL has passed since the API server
// changed its answer.
func TestDelegatingCacheEndsWithItsTTL(t *testing.T) {
	const ttl = 300 * time.Millisecond
	for _, tt := range []struct {
		name   string
		tokens kubeauthtest.Tokens
		grants []kubeauthtest.Grant
		code   int
	}{
		{"token revoked", kubeauthtest.Tokens{}, []kubeauthtest.Grant{metricsRead}, http.StatusUnauthorized},
		{"grant revoked", saTokens, nil, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			api, h := guarded(t, ttl)
			if code := get(t, h, "sa-token"); code != http.StatusOK {
				t.Fatalf("before revoking: %d; want 200", code)
			}
			api.Set(tt.tokens, tt.grants...)
			time.Sleep(ttl + 100*time.Millisecond)
			if code := get(t, h, "sa-token"); code != tt.code {
				t.Errorf("%s after the %s cache TTL: %d; want %d", tt.name, ttl, code, tt.code)
			}
		})
	}
}
