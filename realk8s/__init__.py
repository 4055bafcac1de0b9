"""realk8s: a real Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler,
kwok as node ``minikube``) built from the Go modules, for the real-backend tests."""

from realk8s.build import BuildError, bin_dir, build
from realk8s.cluster import ClusterStartError, RealCluster

__all__ = ["BuildError", "ClusterStartError", "RealCluster", "bin_dir", "build"]
