package kubeauth

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/path"
	"k8s.io/klog/v2"
)

// DefaultAlwaysAllowPaths are served without authentication or
// authorization, as kube-scheduler's --authorization-always-allow-paths:
// the health paths a load balancer, a liveness probe or kube-proxy's
// health check client reads without a token.
var DefaultAlwaysAllowPaths = []string{"/healthz", "/readyz", "/livez"}

// Guard decides who may read an endpoint.
type Guard struct {
	// Authenticator reads the request's credentials: a bearer token, for
	// Delegating's. Anonymous requests are not authenticated.
	Authenticator authenticator.Request
	// Authorizer decides whether the user may use the HTTP verb on the
	// path.
	Authorizer authorizer.UnconditionalAuthorizer
	// alwaysAllow matches the paths served to anyone.
	alwaysAllow authorizer.Authorizer
}

// NewGuard checks the always-allowed paths: exact paths, or prefixes
// ending in "*" ("/debug/*"), as kube components take them.
func NewGuard(authn authenticator.Request, authz authorizer.UnconditionalAuthorizer, alwaysAllow []string) (*Guard, error) {
	allow, err := CheckPaths(alwaysAllow)
	if err != nil {
		return nil, err
	}
	return &Guard{Authenticator: authn, Authorizer: authz, alwaysAllow: allow}, nil
}

// CheckPaths parses always-allowed paths, for flag validation.
func CheckPaths(paths []string) (authorizer.Authorizer, error) {
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("always-allowed path %q does not start with /", p)
		}
	}
	a, err := path.NewAuthorizer(paths)
	if err != nil {
		return nil, fmt.Errorf("always-allowed paths: %w", err)
	}
	return a, nil
}

// Wrap serves next to requests for an always-allowed path, and otherwise
// only to authenticated (401 if not) and authorized (403 if not) ones.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attrs := authorizer.AttributesRecord{Verb: verb(r.Method), Path: r.URL.Path}
		if ok, _, _ := g.alwaysAllow.Authorize(r.Context(), attrs); ok == authorizer.DecisionAllow {
			r.Header.Del("Authorization")
			next.ServeHTTP(w, r)
			return
		}
		resp, ok, err := g.Authenticator.AuthenticateRequest(r)
		if err != nil || !ok {
			if err != nil {
				klog.V(2).InfoS("Unauthenticated request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			}
			http.Error(w, "Unauthorized: send a bearer token the cluster accepts (e.g. a ServiceAccount token)", http.StatusUnauthorized)
			return
		}
		attrs.User = resp.User
		decision, reason, err := g.Authorizer.Authorize(r.Context(), attrs)
		switch {
		case decision == authorizer.DecisionAllow:
			// The endpoints need not see the token, as the API server hides it.
			r.Header.Del("Authorization")
			next.ServeHTTP(w, r)
		case err != nil:
			klog.ErrorS(err, "Authorization failed", "user", resp.User.GetName(), "path", r.URL.Path)
			http.Error(w, "Internal Server Error: authorization failed; see the server's log", http.StatusInternalServerError)
		default:
			klog.V(2).InfoS("Forbidden request", "user", resp.User.GetName(), "verb", attrs.Verb, "path", r.URL.Path, "reason", reason)
			msg := fmt.Sprintf("Forbidden: user %q cannot %s path %q", resp.User.GetName(), attrs.Verb, r.URL.Path)
			if reason != "" {
				msg += ": " + reason
			}
			http.Error(w, msg, http.StatusForbidden)
		}
	})
}

// verb maps the HTTP method to the verb of a non-resource request, as the
// kubelet and kube-rbac-proxy do: a ClusterRole grants
// `nonResourceURLs: ["/metrics"], verbs: ["get"]`.
func verb(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(method)
}
