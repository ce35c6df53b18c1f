// Package kubeauth guards --serve's HTTP endpoints when they are bound off
// the node's loopback, as kube-rbac-proxy and kube-scheduler guard theirs:
// HTTPS, a bearer token that the API server accepts (TokenReview), and a
// request the API server authorizes (SubjectAccessReview on the request's
// path, a non-resource URL). Paths every load balancer and probe must
// reach, /healthz by default, are served without either.
//
// The guard takes k8s.io/apiserver's authenticator and authorizer
// interfaces; Delegating builds the real ones from a clientset, and
// kubeauthtest has in-memory ones for tests.
package kubeauth
