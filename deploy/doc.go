// Package deploy holds no code: its tests read the deployment files
// beside them (Dockerfile, docker-compose.yaml, k8s/) and check that they
// agree with each other, with the Spawn operator's custom resources and
// with the SDK's defaults, so that a typo fails CI instead of a rollout.
//
// It is a module of its own so that the YAML library the tests use never
// becomes a dependency of the SDK. Run the tests from this folder:
//
//	go test ./...
package deploy
