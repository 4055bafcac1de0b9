"""realk8s: a real Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler,
kwok as node ``minikube``) built from the Go modules, for the real-backend tests."""

from realk8s.build import BuildError, built_dir
from realk8s.cluster import ClusterStartError, RealCluster

__all__ = ["BuildError", "ClusterStartError", "RealCluster", "built_dir"]
