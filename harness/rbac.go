package harness

import (
	"context"
	"fmt"
	"os"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// CreateClusterRole creates (or replaces) the ClusterRole in the YAML file
// at path, e.g. deploy/clusterrole.yaml, and returns its name.
func (c *Cluster) CreateClusterRole(ctx context.Context, path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read cluster role: %w", err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(data, &role); err != nil {
		return "", fmt.Errorf("parse cluster role %s: %w", path, err)
	}
	if role.Kind != "ClusterRole" || role.Name == "" {
		return "", fmt.Errorf("%s: want one named ClusterRole, got kind %q name %q", path, role.Kind, role.Name)
	}
	roles := c.Client.RbacV1().ClusterRoles()
	_, err = roles.Create(ctx, &role, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var cur *rbacv1.ClusterRole
		if cur, err = roles.Get(ctx, role.Name, metav1.GetOptions{}); err == nil {
			role.ResourceVersion = cur.ResourceVersion
			_, err = roles.Update(ctx, &role, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return "", fmt.Errorf("create cluster role %s from %s: %w", role.Name, path, err)
	}
	return role.Name, nil
}

// Grant binds clusterRole to user (e.g. ViewerUser) cluster-wide.
func (c *Cluster) Grant(ctx context.Context, user, clusterRole string) error {
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user + "-" + clusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("bind cluster role %s to %s: %w", clusterRole, user, err)
	}
	return nil
}
