"""Built-in controllers: what kube-controller-manager, the scheduler and the kubelet do.

Each controller is a ``reconcile(now)`` pass over the store, run under the store's lock by
``manager.ControllerManager`` whenever something changes or a scripted delay runs out.
"""
