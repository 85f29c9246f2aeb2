package protocol

// spawn-go's own environment variable for the development dashboard; see
// docs/guide/12-dashboard.md.
const (
	// EnvDashboardAddr is where a spawn-go program on the embedded
	// runtime, or spawn proxy, serves the development dashboard
	// (host:port on loopback; a missing host means 127.0.0.1). Unset, it
	// serves none.
	EnvDashboardAddr = "SPAWN_DASHBOARD_ADDR"
)
