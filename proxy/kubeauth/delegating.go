package kubeauth

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/client-go/kubernetes"
)

// DefaultCacheTTL is how long an answer of the API server is reused, as
// kube components cache TokenReview and SubjectAccessReview answers: a
// revoked token or role still works for at most this long.
const DefaultCacheTTL = 10 * time.Second

// Delegating returns the authenticator and authorizer that ask the API
// server: each bearer token by a TokenReview, each request by a
// SubjectAccessReview, every answer (allow or deny) kept for ttl. The
// client needs `create` on tokenreviews and subjectaccessreviews
// (deploy/serve.yaml). Anonymous requests are not authenticated.
func Delegating(client kubernetes.Interface, ttl time.Duration) (authenticator.Request, authorizer.UnconditionalAuthorizer, error) {
	// The API server's own webhook defaults (DefaultAuthWebhookRetryBackoff).
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	authn, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		TokenAccessReviewClient:  client.AuthenticationV1(),
		TokenAccessReviewTimeout: 10 * time.Second,
		WebhookRetryBackoff:      &backoff,
		CacheTTL:                 ttl,
	}.New()
	if err != nil {
		return nil, nil, fmt.Errorf("delegated authentication: %w", err)
	}
	authz, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: client.AuthorizationV1(),
		AllowCacheTTL:             ttl,
		DenyCacheTTL:              ttl,
		WebhookRetryBackoff:       &backoff,
	}.New()
	if err != nil {
		return nil, nil, fmt.Errorf("delegated authorization: %w", err)
	}
	return authn, authz, nil
}
