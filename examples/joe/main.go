// Joe is the getting-started example: an actor that learns programming
// languages and keeps them, as durable state, across runs of the program.
//
// Usage:
//
//	go run ./examples/joe [language]
//	go run ./examples/joe -serve
//
// The first form starts Joe on the embedded runtime (or registers it with
// the Spawn proxy named by PROXY_HTTP_HOST/PROXY_HTTP_PORT), teaches it
// the language (default "go"), prints what it knows and stops. Run it
// again with another language and the list grows: the embedded runtime
// keeps state on disk, in SPAWN_DATA_DIR or ~/.local/state/spawn.
//
// With -serve it serves Joe until stopped (Ctrl-C), as a service does;
// with a proxy, other programs (examples/client) can then call it. It
// prints one line first, naming the proxy it serves Joe through.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/examples/domain"
	"github.com/spawn-go/spawn/protocol"
)

func main() {
	serve := flag.Bool("serve", false, "serve Joe until stopped (Ctrl-C), for programs that call it through a proxy")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: joe [language]\n       joe -serve")
		flag.PrintDefaults()
	}
	flag.Parse()
	// spawn logs at info level by default; the examples keep to warnings,
	// so that their own output reads clearly. SPAWN_LOG=info shows it all.
	if os.Getenv("SPAWN_LOG") == "" {
		os.Setenv("SPAWN_LOG", "warn")
	}

	if *serve {
		// spawn's own lines are below SPAWN_LOG=warn: say what serving does.
		fmt.Println(serving(os.Getenv))
		// guide:start serve
		// Run serves Joe until the program is stopped (Ctrl-C, or SIGTERM),
		// then stops cleanly and saves the state.
		if err := spawn.Run(&Joe{}); err != nil {
			log.Fatal(err)
		}
		// guide:end serve
		return
	}

	language := "go"
	if flag.NArg() > 0 {
		language = flag.Arg(0)
	}
	if err := teach(context.Background(), os.Stdout, language); err != nil {
		fmt.Fprintln(os.Stderr, "joe:", err)
		os.Exit(1)
	}
}

// serving says where -serve serves Joe, from the environment that
// spawn.Run reads: through the proxy it names, or on the embedded runtime.
func serving(getenv func(string) string) string {
	host := getenv(protocol.EnvProxyHost)
	if host == "" {
		host = getenv(protocol.EnvOperatorProxyHost)
	}
	port := getenv(protocol.EnvProxyPort)
	if port == "" {
		port = getenv(protocol.EnvOperatorProxyPort)
	}
	if host == "" && port == "" {
		msg := "joe: serving Joe on the embedded runtime, in this process (no proxy is named)"
		// spawn logs where these listen at info level, below this
		// example's default; say it here.
		if addr := getenv("SPAWN_DASHBOARD_ADDR"); addr != "" {
			msg += "; dashboard at http://" + loopback(addr) + "/"
		}
		if addr := getenv("SPAWN_ACTIVATOR_ADDR"); addr != "" {
			msg += "; JSON activator at http://" + loopback(addr) + "/v1/actors/"
		}
		return msg + "; Ctrl-C stops"
	}
	if port == "" {
		port = strconv.Itoa(protocol.DefaultProxyPort)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // as spawn.Run reads it: this machine
	}
	return "joe: serving Joe through the Spawn proxy at " + net.JoinHostPort(host, port) + "; Ctrl-C stops"
}

// loopback gives an address without a host, such as ":9090", the host
// spawn gives it: 127.0.0.1.
func loopback(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return addr
}

// guide:start teach
// teach starts Joe, teaches it a language, prints what it knows and stops.
func teach(ctx context.Context, out io.Writer, language string) (err error) {
	sys, err := spawn.Start(ctx, &Joe{})
	if err != nil {
		return err
	}
	// Stop saves Joe's state, so its error counts too.
	defer func() { err = errors.Join(err, sys.Stop(ctx)) }()

	// The compiler checks the action's input and reply types.
	reply, err := spawn.Call(ctx, sys, (*Joe).SetLanguage, &domain.Request{Language: language})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "joe:", reply.Response)

	// State reads an actor's state, without an action of its own.
	var st domain.JoeState
	if err := sys.State(ctx, "joe", &st); err != nil {
		return err
	}
	fmt.Fprintln(out, "joe knows:", strings.Join(st.Languages, ", "))
	return nil
}

// guide:end teach
