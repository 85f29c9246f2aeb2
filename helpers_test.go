package spawn_test

import (
	"github.com/spawn-go/spawn"
	"github.com/spawn-go/spawn/state"
)

func stateKey(name string) state.Key {
	return state.Key{System: spawn.DefaultSystem, Name: name}
}
