package kubeauthtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// APIServer answers TokenReviews and SubjectAccessReviews over HTTP, as
// the API server does, from the tokens and grants it holds now, and counts
// the reviews. The delegating authenticator and authorizer call the
// clientset's REST client directly, which a fake clientset lacks.
type APIServer struct {
	mu     sync.Mutex
	tokens Tokens
	grants map[Grant]bool
	// TokenReviews and SubjectAccessReviews count the reviews asked.
	TokenReviews, SubjectAccessReviews int
}

// NewAPIServer serves until the test ends and returns a real clientset
// for it.
func NewAPIServer(t testing.TB, tokens Tokens, grants ...Grant) (*APIServer, kubernetes.Interface) {
	t.Helper()
	s := &APIServer{}
	s.Set(tokens, grants...)
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	c, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// Set replaces the tokens and grants, as deleting a token or a binding
// does.
func (s *APIServer) Set(tokens Tokens, grants ...Grant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens, s.grants = tokens, map[Grant]bool{}
	for _, g := range grants {
		s.grants[g] = true
	}
}

// Counts returns the number of TokenReviews and SubjectAccessReviews.
func (s *APIServer) Counts() (tokenReviews, subjectAccessReviews int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.TokenReviews, s.SubjectAccessReviews
}

func (s *APIServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out any
	switch r.URL.Path {
	case "/apis/authentication.k8s.io/v1/tokenreviews":
		s.TokenReviews++
		var tr authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		name, ok := s.tokens[tr.Spec.Token]
		tr.Status = authenticationv1.TokenReviewStatus{Authenticated: ok}
		if ok {
			tr.Status.User = authenticationv1.UserInfo{Username: name}
		}
		out = &tr
	case "/apis/authorization.k8s.io/v1/subjectaccessreviews":
		s.SubjectAccessReviews++
		var sar authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&sar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		nr := sar.Spec.NonResourceAttributes
		ok := nr != nil && sar.Spec.ResourceAttributes == nil && s.grants[Grant{User: sar.Spec.User, Verb: nr.Verb, Path: nr.Path}]
		sar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: ok}
		out = &sar
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(out)
}
