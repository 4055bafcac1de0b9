//go:build tools

// Package tools pins the kwok command in this module's go.mod; build it with
// `go build sigs.k8s.io/kwok/cmd/kwok`.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
