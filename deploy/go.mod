module github.com/spawn-go/spawn/deploy

go 1.26.0

// The SDK from this checkout, for the protocol's defaults that the
// deployment files must agree with.
replace github.com/spawn-go/spawn => ../

require (
	github.com/spawn-go/spawn v0.0.0-00010101000000-000000000000
	sigs.k8s.io/yaml v1.6.0
)

require (
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
