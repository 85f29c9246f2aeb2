// Package transport carries the Spawn protocol over HTTP, and is the only
// package of the module that imports echo.
//
// Most programs never import it: the spawn package uses it to serve actors
// and to reach the proxy. It is for the programs that need a piece of that
// on its own:
//
//   - a host that already runs an HTTP server, with routes and probes of its
//     own: NewHostHandler is the host endpoint, POST /api/v1/actors/actions,
//     as an http.Handler to mount beside them. NewHostServer is the same
//     endpoint as a server of its own, with a health route;
//   - a program that only calls actors: ProxyClient speaks a Spawn proxy's
//     HTTP API, the real sidecar's or spawn-go's;
//   - a proxy, such as `spawn proxy`: NewProxyServer serves the proxy's HTTP
//     API in front of a ProxyAPI (the runtime engine), and HostClient calls
//     hosts the way the proxy does.
//
// Bodies are protobuf messages of package protocol; docs/protocol.md §2
// describes the routes. This package moves the bodies, checks content types
// and sizes, and turns HTTP failures into Go errors; the packages above it
// decide what the messages mean.
package transport
