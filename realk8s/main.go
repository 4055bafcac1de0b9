// Command realk8s-control-plane is a multi-call binary (like the old hyperkube): its first
// argument names the component to run, and the Python side (realk8s/cluster.py) starts it once per
// component, so each runs in a process of its own. The components must not share a process:
// apiserver.SetupSignalContext panics when called twice, and feature gates, metrics registries and
// klog are process globals.
package main

import (
	"fmt"
	"os"
	_ "time/tzdata" // CronJob time zones, as in kube-apiserver's own main

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // the JSON log format, as upstream mains
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream mains
	_ "k8s.io/component-base/metrics/prometheus/version"  // the version metric, as upstream mains
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// components maps a component name to the cobra command upstream's own main would run.
var components = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler": func() *cobra.Command {
		return scheduler.NewSchedulerCommand()
	},
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: realk8s-control-plane pki DIR | etcd|kube-apiserver|kube-controller-manager|kube-scheduler [flags]")
		os.Exit(2)
	}
	name, args := os.Args[1], os.Args[2:]
	if name == "pki" && len(args) == 1 {
		if err := writePKI(args[0]); err != nil {
			fmt.Fprintf(os.Stderr, "realk8s-control-plane pki: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if name == "etcd" {
		// etcdmain.Main parses args[1:], as etcd's own main passes os.Args.
		etcdmain.Main(append([]string{"etcd"}, args...))
		return
	}
	newCommand, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "realk8s-control-plane: unknown component %q\n", name)
		os.Exit(2)
	}
	command := newCommand()
	command.SetArgs(args)
	os.Exit(cli.Run(command))
}
