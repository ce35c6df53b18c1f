package harness

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// kubelet plays the node agent and, on the first node, the scheduler: it
// binds unscheduled pods to its node, gives each pod of the node a network namespace and a running
// pod server, reports status from real readiness probes, and finishes
// deletions as a kubelet does once the pod's processes have stopped.
type kubelet struct {
	c      *Cluster
	node   *Node
	queue  workqueue.TypedRateLimitingInterface[string]
	store  cache.Store
	ipam   *ipam
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	pods map[string]*podRuntime // by namespace/name
}

// startKubelet starts the kubelet of node; with schedule it also binds the
// pods that name no node to it.
func startKubelet(ctx context.Context, c *Cluster, node *Node, schedule bool) (*kubelet, error) {
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k := &kubelet{
		c:      c,
		node:   node,
		queue:  workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		ipam:   newIPAM(node.PodCIDR),
		ctx:    kctx,
		cancel: cancel,
		pods:   map[string]*podRuntime{},
	}
	mine := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithTweakListOptions(
		func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName=" + k.node.Name }))
	podInformer := mine.Core().V1().Pods().Informer()
	k.store = podInformer.GetStore()
	if _, err := podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    k.enqueue,
		UpdateFunc: func(_, obj any) { k.enqueue(obj) },
		DeleteFunc: k.enqueue,
	}); err != nil {
		cancel()
		return nil, fmt.Errorf("watch pods of node %s: %w", k.node.Name, err)
	}
	if schedule {
		unscheduled := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithTweakListOptions(
			func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName=" }))
		if _, err := unscheduled.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    k.bind,
			UpdateFunc: func(_, obj any) { k.bind(obj) },
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("watch unscheduled pods: %w", err)
		}
		unscheduled.Start(kctx.Done())
	}
	mine.Start(kctx.Done())
	mine.WaitForCacheSync(kctx.Done())
	for range 2 {
		k.wg.Go(k.work)
	}
	return k, nil
}

func (k *kubelet) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		k.queue.Add(key)
	}
}

// bind schedules a pod that names no node onto this one. Always the first
// node, where a scheduler would spread pods: tests place pods on other nodes
// by naming them.
func (k *kubelet) bind(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil ||
		(pod.Spec.SchedulerName != "" && pod.Spec.SchedulerName != corev1.DefaultSchedulerName) {
		return
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: k.node.Name},
	}
	if err := k.c.Client.CoreV1().Pods(pod.Namespace).Bind(k.ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		k.c.cfg.Logf("kubelet: bind pod %s/%s to %s: %v", pod.Namespace, pod.Name, k.node.Name, err)
	}
}

func (k *kubelet) work() {
	for {
		key, quit := k.queue.Get()
		if quit {
			return
		}
		if err := k.sync(key); err != nil {
			k.c.cfg.Logf("kubelet: pod %s: %v (retrying)", key, err)
			k.queue.AddRateLimited(key)
		} else {
			k.queue.Forget(key)
		}
		k.queue.Done(key)
	}
}

// sync makes the node match the API's view of one pod.
func (k *kubelet) sync(key string) error {
	obj, exists, err := k.store.GetByKey(key)
	if err != nil {
		return err
	}
	k.mu.Lock()
	rt := k.pods[key]
	k.mu.Unlock()
	var pod *corev1.Pod
	if exists {
		pod = obj.(*corev1.Pod)
	}
	if rt != nil && (pod == nil || pod.UID != rt.uid) {
		// Gone from the API, or replaced by a pod of the same name.
		k.forget(key, rt)
		rt = nil
	}
	switch {
	case pod == nil:
		return nil
	case pod.DeletionTimestamp != nil:
		return k.finishDeletion(key, pod, rt)
	case rt != nil && len(pod.Spec.EphemeralContainers) > 0:
		k.startEphemeral(k.ctx, pod, rt)
	case rt == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
		rt, err := k.startPod(k.ctx, pod)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithCancel(k.ctx)
		rt.cancel = cancel
		k.mu.Lock()
		k.pods[key] = rt
		k.mu.Unlock()
		if rt.command {
			k.wg.Go(func() { rt.waitCommand(pctx, k, pod) })
		} else {
			k.wg.Go(func() { rt.probeLoop(pctx, k, pod) })
		}
	}
	return nil
}

// finishDeletion stops the pod's processes, waiting first for the
// svctrace.dev/terminate-delay annotation (bounded by the grace period) so
// tests can observe terminating endpoints, then removes the object with
// grace period 0 as a kubelet does after its containers stopped.
func (k *kubelet) finishDeletion(key string, pod *corev1.Pod, rt *podRuntime) error {
	if rt != nil {
		if !rt.beginTermination() {
			return nil
		}
		delay := terminateDelay(pod)
		k.wg.Go(func() {
			select {
			case <-time.After(delay):
			case <-k.ctx.Done():
				return
			}
			k.forget(key, rt)
			k.queue.Add(key)
		})
		return nil
	}
	zero := int64(0)
	err := k.c.Client.CoreV1().Pods(pod.Namespace).Delete(k.ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("finish deletion: %w", err)
	}
	return nil
}

// forget stops a pod runtime and drops it.
func (k *kubelet) forget(key string, rt *podRuntime) {
	k.mu.Lock()
	if k.pods[key] == rt {
		delete(k.pods, key)
	}
	k.mu.Unlock()
	if err := rt.stop(context.WithoutCancel(k.ctx), k); err != nil {
		k.c.cfg.Logf("kubelet: stop pod %s: %v", key, err)
	}
}

func (k *kubelet) runtime(namespace, name string) *podRuntime {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pods[namespace+"/"+name]
}

// stop ends the watches and probes, then every pod, before the node goes.
func (k *kubelet) stop() {
	k.cancel()
	k.queue.ShutDown()
	k.wg.Wait()
	k.mu.Lock()
	pods := k.pods
	k.pods = map[string]*podRuntime{}
	k.mu.Unlock()
	for key, rt := range pods {
		if err := rt.stop(context.Background(), k); err != nil {
			k.c.cfg.Logf("kubelet: stop pod %s: %v", key, err)
		}
	}
}
