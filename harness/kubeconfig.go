package harness

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Users of the cluster. The admin is in system:masters; the viewer starts
// without any rights so RBAC tests can grant exactly what they check.
const (
	AdminUser  = "admin"
	ViewerUser = "viewer"
)

// contextName is the only context of every kubeconfig the harness writes.
const contextName = "svctrace"

// writeTokens writes the --token-auth-file: token,user,uid[,"group1,group2"].
func writeTokens(path, adminToken, viewerToken string) error {
	data := fmt.Sprintf("%s,%s,%s,system:masters\n%s,%s,%s\n",
		adminToken, AdminUser, AdminUser, viewerToken, ViewerUser, ViewerUser)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	return nil
}

// writeKubeconfig writes a kubeconfig for one token user of server.
func writeKubeconfig(path, server string, caPEM []byte, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = contextName
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

// restConfig is what writeKubeconfig writes, for in-process clients.
func restConfig(server string, caPEM []byte, token string) *rest.Config {
	return &rest.Config{
		Host:            server,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM},
		QPS:             50,
		Burst:           100,
	}
}
