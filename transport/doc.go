// Package transport is machinery: the HTTP side of spawn-go, and the only
// package of the module that imports echo.
//
// It holds both ends of the two HTTP conversations of the Spawn protocol:
//
//   - host side: NewHostServer serves POST /api/v1/actors/actions for the
//     user's program, and HostClient calls that endpoint, as the proxy does;
//   - proxy side: NewProxyServer serves the proxy's HTTP API for the
//     standalone runtime (cmd/spawn), and ProxyClient calls that API, on a
//     real Spawn proxy or on ours.
//
// Bodies are protobuf messages of package protocol. The packages above this
// one decide what the messages mean; this one moves bytes, checks content
// types and sizes, and turns HTTP failures into Go errors. Its exported
// surface is kept to what the spawn package and cmd/spawn need.
package transport
