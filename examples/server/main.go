// Server is a host program meant to be deployed: it serves two actors,
// greeter and visits, until it gets SIGINT or SIGTERM.
//
// Usage:
//
//	server             serve the actors
//	server greet NAME  ask greeter, through the proxy, to greet NAME
//
// With a Spawn proxy named in the environment (PROXY_HTTP_HOST and
// PROXY_HTTP_PORT, or SPAWN_PROXY_INTERFACE and SPAWN_PROXY_PORT, which
// the Spawn operator sets), it registers the actors with that proxy and
// listens for it on USER_FUNCTION_HOST:USER_FUNCTION_PORT. Without
// USER_FUNCTION_HOST, that is loopback when the proxy is on this machine
// or in this pod, and every interface when it is elsewhere; the port
// defaults to 8090. With no proxy named, it runs the actors on the
// embedded runtime. The code is the same in both places; deploy/ builds
// it into an image and runs it with docker compose or on Kubernetes.
//
// "server greet NAME" is for checking a deployment: run inside the host's
// container, it reaches the proxy the host uses, with the same environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
)

const usage = `usage:
  server             serve the actors greeter and visits until SIGINT or SIGTERM
  server greet NAME  ask greeter, through the Spawn proxy, to greet NAME`

func main() {
	args := os.Args[1:]
	switch {
	// guide:start serve
	case len(args) == 0:
		fmt.Println(describe(os.Getenv))
		if err := spawn.Run(&Greeter{}, &Visits{}); err != nil {
			log.Fatal(err)
		}
	// guide:end serve
	case len(args) == 2 && args[0] == "greet":
		if err := greet(os.Stdout, args[1]); err != nil {
			fmt.Fprintln(os.Stderr, "server greet:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}

// proxyVars are the variables that name a Spawn proxy. spawn.Run
// registers with a proxy when any of them is set.
var proxyVars = []string{"PROXY_HTTP_HOST", "PROXY_HTTP_PORT", "SPAWN_PROXY_INTERFACE", "SPAWN_PROXY_PORT"}

// describe says in plain words what serving will do, from the
// environment that spawn.Run reads.
func describe(getenv func(string) string) string {
	system := or(getenv("PROXY_ACTOR_SYSTEM_NAME"), spawn.DefaultSystem)
	var named []string
	for _, v := range proxyVars {
		if getenv(v) != "" {
			named = append(named, v+"="+getenv(v))
		}
	}
	where := "runs them on the embedded runtime, in this process, with state on local disk (no Spawn proxy is named in the environment)"
	if len(named) > 0 {
		proxyHost := or(getenv("PROXY_HTTP_HOST"), getenv("SPAWN_PROXY_INTERFACE"))
		listen := net.JoinHostPort(or(getenv("USER_FUNCTION_HOST"), listenHost(proxyHost)), or(getenv("USER_FUNCTION_PORT"), "8090"))
		where = "registers them with the Spawn proxy named by " + strings.Join(named, ", ") +
			" and listens for it on " + listen
	}
	return "spawn-go example server: serves the actors greeter and visits of the actor system " + system + ";\n" +
		where + ";\nstops on SIGINT (Ctrl-C) or SIGTERM."
}

// listenHost is where spawn.Run listens for the proxy at proxyHost when
// USER_FUNCTION_HOST is not set. The host endpoint runs whatever it is
// sent, so it listens on loopback when the proxy is on this machine: an
// empty or bind-all proxy address means this machine, and on Kubernetes
// the operator names the sidecar 0.0.0.0, which shares the pod's
// loopback. Only a proxy elsewhere needs every interface.
func listenHost(proxyHost string) string {
	switch proxyHost {
	case "", "0.0.0.0", "::", "localhost":
		return "127.0.0.1"
	}
	if ip := net.ParseIP(proxyHost); ip != nil && ip.IsLoopback() {
		return "127.0.0.1"
	}
	return "0.0.0.0"
}

// greet calls greeter through the proxy named in the environment and
// prints its answer.
func greet(out io.Writer, name string) (err error) {
	// Checked before Start, which would otherwise open the embedded
	// runtime's store, and find no greeter there.
	if !slices.ContainsFunc(proxyVars, func(v string) bool { return os.Getenv(v) != "" }) {
		return errors.New("no Spawn proxy is named in the environment: set PROXY_HTTP_HOST and PROXY_HTTP_PORT (or SPAWN_PROXY_INTERFACE and SPAWN_PROXY_PORT), as a deployment does")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// No actors: this System only calls actors served elsewhere. Its own
	// log lines would only say so, hence the quiet logger.
	sys, err := spawn.Start(ctx, spawn.WithLogger(zap.NewNop()))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sys.Stop(context.WithoutCancel(ctx))) }()
	// guide:start greet
	g, err := spawn.Call(ctx, sys, (*Greeter).Greet, &domain.Hello{Name: name})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, g.Text)
	// guide:end greet
	return err
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
