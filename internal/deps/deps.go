// Package deps pins the module's dependencies while the packages that use
// them are being written. It is deleted once they import them directly.
package deps

import (
	_ "github.com/labstack/echo/v4"
	_ "go.etcd.io/bbolt"
	_ "go.uber.org/goleak"
	_ "go.uber.org/zap"
	_ "google.golang.org/protobuf/proto"
)
