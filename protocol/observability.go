package protocol

// spawn-go's own environment variables for reaching actors from outside
// and watching them; see docs/guide/11-observability.md.
const (
	// EnvActivatorAddr is where a spawn-go program serves the JSON
	// activator (host:port; a missing host means loopback). Unset, it
	// serves none.
	EnvActivatorAddr = "SPAWN_ACTIVATOR_ADDR"
)
