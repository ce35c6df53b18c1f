// Package kubeauthtest has an authenticator and an authorizer kept in
// memory, for tests of handlers that kubeauth guards. It is never linked
// into the plugin.
package kubeauthtest

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Tokens authenticates the bearer tokens it holds (token to user name);
// any other token, and a request without one, is not authenticated.
type Tokens map[string]string

var _ authenticator.Request = Tokens(nil)

// AuthenticateRequest implements authenticator.Request.
func (t Tokens) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	name, known := t[token]
	if !ok || !known {
		return nil, false, nil
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: name, Groups: []string{user.AllAuthenticated}}}, true, nil
}

// Grant is one allowed verb on one path for one user.
type Grant struct{ User, Verb, Path string }

// Grants allows exactly the grants it holds and denies the rest.
type Grants struct {
	mu     sync.Mutex
	grants map[Grant]bool
	// Asked lists every request it was asked about, in order.
	Asked []Grant
}

var _ authorizer.UnconditionalAuthorizer = (*Grants)(nil)

// NewGrants allows the grants.
func NewGrants(grants ...Grant) *Grants {
	g := &Grants{grants: map[Grant]bool{}}
	for _, x := range grants {
		g.grants[x] = true
	}
	return g
}

// Authorize implements authorizer.UnconditionalAuthorizer.
func (g *Grants) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	asked := Grant{User: a.GetUser().GetName(), Verb: a.GetVerb(), Path: a.GetPath()}
	g.Asked = append(g.Asked, asked)
	if a.IsResourceRequest() || !g.grants[asked] {
		return authorizer.DecisionNoOpinion, "no grant", nil
	}
	return authorizer.DecisionAllow, "", nil
}
