package spawn

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/spawn-go/spawn/internal/enginehook"
	"github.com/spawn-go/spawn/protocol"
	"github.com/spawn-go/spawn/runtime"
	"github.com/spawn-go/spawn/state"
)

// Running on the embedded runtime: the engine plays the proxy in this
// process and calls the host by plain function calls.

func init() {
	enginehook.Option = func(h enginehook.Hook) any {
		return optionFunc(func(c *config) { c.engineHooks = append(c.engineHooks, h) })
	}
	enginehook.Target = func(sys any, actor string, opts any) (*protocol.ActorId, error) {
		return sys.(*System).revisionTarget(enginehookOp, actor, nil, opts.([]RouteOption))
	}
}

func (s *System) startEmbedded(ctx context.Context, reg *protocol.RegistrationRequest) error {
	if s.cfg.memory {
		s.store = state.NewMemory()
	} else {
		dir := s.cfg.dataDir
		if dir == "" {
			dir = state.DefaultDir()
		}
		key, err := state.KeyFromEnv()
		if err != nil {
			return err
		}
		opts := []state.Option{state.WithKeepRevisions(s.cfg.keepRevisions)}
		if key != nil {
			opts = append(opts, state.WithKey(key))
		}
		st, err := state.Open(dir, opts...)
		if err != nil {
			return fmt.Errorf("spawn: opening the state store: %w", err)
		}
		for _, w := range st.Warnings() {
			s.log.Warn("spawn: " + w)
		}
		s.store = st
	}
	// The runtime's info lines repeat what Start logs itself; its
	// warnings and errors are the program's to see.
	opts := runtime.Options{System: s.cfg.system, Host: s.host, Store: s.store, Logger: s.log.WithOptions(zap.IncreaseLevel(zap.WarnLevel)),
		MaxMailbox: s.cfg.maxMailbox, MaxAsyncBytes: s.cfg.maxAsyncBytes,
		Observer: s.tel().Observer()}
	for _, h := range s.cfg.engineHooks {
		if h.Configure != nil {
			h.Configure(&opts)
		}
	}
	if opts.Clock != nil {
		// Delays are counted on the runtime's clock, which may be a
		// test's fake one.
		s.now = opts.Clock.Now
	}
	eng, err := runtime.New(opts)
	if err != nil {
		_ = s.store.Close()
		return err
	}
	s.engine = eng
	s.back = engineBackend{eng}
	if s.stopMetrics, err = s.tel().ObserveEngine(eng); err != nil {
		s.log.Warn("spawn: spawn.mailbox.depth is not recorded", zap.Error(err))
	}
	for _, h := range s.cfg.engineHooks {
		if h.Started != nil {
			h.Started(eng)
		}
	}
	if _, err := eng.Register(ctx, reg); err != nil {
		_ = eng.Close(context.Background())
		_ = s.store.Close()
		return fmt.Errorf("spawn: registering with the embedded runtime: %w", err)
	}
	return nil
}
