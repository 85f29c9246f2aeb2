package spawn

import (
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		opts      []Option
		mode      mode
		system    string
		hostAddr  string
		proxyAddr string
		err       string
	}{
		{name: "nothing set: embedded, no host endpoint", mode: modeAuto, system: "spawn-system", hostAddr: ""},
		{name: "system and host", env: map[string]string{"PROXY_ACTOR_SYSTEM_NAME": "shop", "USER_FUNCTION_HOST": "127.0.0.1", "USER_FUNCTION_PORT": "9000"},
			mode: modeAuto, system: "shop", hostAddr: "127.0.0.1:9000"},
		{name: "node and python SDK variables", env: map[string]string{"PROXY_HTTP_HOST": "10.0.0.1", "PROXY_HTTP_PORT": "9100"},
			mode: modeProxy, system: "spawn-system", hostAddr: "0.0.0.0:8090", proxyAddr: "10.0.0.1:9100"},
		{name: "operator variables, bind-all means this machine: the host listens on loopback", env: map[string]string{"SPAWN_PROXY_INTERFACE": "0.0.0.0", "SPAWN_PROXY_PORT": "9001"},
			mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8090", proxyAddr: "127.0.0.1:9001"},
		{name: "port alone", env: map[string]string{"PROXY_HTTP_PORT": "9002"}, mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8090", proxyAddr: "127.0.0.1:9002"},
		{name: "localhost proxy", env: map[string]string{"PROXY_HTTP_HOST": "localhost", "USER_FUNCTION_PORT": "8095"}, mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8095", proxyAddr: "localhost:9001"},
		{name: "explicit host wins", env: map[string]string{"PROXY_HTTP_HOST": "::1", "USER_FUNCTION_HOST": "0.0.0.0"}, mode: modeProxy, system: "spawn-system", hostAddr: "0.0.0.0:8090", proxyAddr: "[::1]:9001"},
		{name: "host alone", env: map[string]string{"PROXY_HTTP_HOST": "proxy"}, mode: modeProxy, system: "spawn-system", hostAddr: "0.0.0.0:8090", proxyAddr: "proxy:9001"},
		{name: "options win", env: map[string]string{"PROXY_HTTP_PORT": "9002", "PROXY_ACTOR_SYSTEM_NAME": "env"},
			opts: []Option{WithEmbedded(), WithSystem("opt"), WithHostAddress("127.0.0.1:0")}, mode: modeEmbedded, system: "opt", hostAddr: "127.0.0.1:0", proxyAddr: "127.0.0.1:9002"},
		{name: "WithProxy", opts: []Option{WithProxy("p:1")}, mode: modeProxy, system: "spawn-system", hostAddr: "0.0.0.0:8090", proxyAddr: "p:1"},
		{name: "bad host port", env: map[string]string{"USER_FUNCTION_PORT": "http"}, err: `USER_FUNCTION_PORT="http" is not a port number`},
		{name: "bad proxy port", env: map[string]string{"PROXY_HTTP_PORT": "99999"}, err: `proxy port "99999"`},
		{name: "empty system", opts: []Option{WithSystem("")}, err: "WithSystem needs a name"},
		{name: "proxy address with a scheme", opts: []Option{WithProxy("http://p:1")}, err: `WithProxy("http://p:1"): proxy address "http://p:1" is not host:port: drop the scheme`},
		{name: "proxy address with a bad port", opts: []Option{WithProxy("p:http")}, err: `WithProxy("p:http"): proxy port "http" is not a port number`},
		{name: "proxy address not an address", opts: []Option{WithProxy("a:b:c")}, err: `proxy address "a:b:c" is not host:port`},
		{name: "bad proxy address, embedded anyway", opts: []Option{WithProxy("p:x"), WithEmbedded()}, mode: modeEmbedded, system: "spawn-system", hostAddr: "", proxyAddr: "p:x"},
		// WithProxy takes what the environment variables take.
		{name: "WithProxy, port alone", opts: []Option{WithProxy(":9001")}, mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8090", proxyAddr: "127.0.0.1:9001"},
		{name: "WithProxy, bind-all means this machine", opts: []Option{WithProxy("0.0.0.0:9001")}, mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8090", proxyAddr: "127.0.0.1:9001"},
		{name: "WithProxy, IPv6 bind-all", opts: []Option{WithProxy("[::]:9005")}, mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8090", proxyAddr: "127.0.0.1:9005"},
		{name: "WithProxy, host alone", opts: []Option{WithProxy("proxy")}, mode: modeProxy, system: "spawn-system", hostAddr: "0.0.0.0:8090", proxyAddr: "proxy:9001"},
		{name: "WithProxy, IPv6 host alone", opts: []Option{WithProxy("::1")}, mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8090", proxyAddr: "[::1]:9001"},
		{name: "WithProxy wins over the environment", env: map[string]string{"PROXY_HTTP_HOST": "10.0.0.1"}, opts: []Option{WithProxy(":9003")},
			mode: modeProxy, system: "spawn-system", hostAddr: "127.0.0.1:8090", proxyAddr: "127.0.0.1:9003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) string { return tt.env[k] }
			c, err := loadConfig(env, append(tt.opts, WithLogger(nil)))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.mode != tt.mode || c.system != tt.system || c.hostAddr != tt.hostAddr || c.proxyAddr != tt.proxyAddr {
				t.Fatalf("got mode %d system %q host %q proxy %q", c.mode, c.system, c.hostAddr, c.proxyAddr)
			}
			if c.logger == nil {
				t.Fatal("no logger")
			}
		})
	}
}

func TestActivatorAddressFromTheEnvironment(t *testing.T) {
	env := func(k string) string { return map[string]string{"SPAWN_ACTIVATOR_ADDR": ":8091"}[k] }
	c, err := loadConfig(env, []Option{WithLogger(nil)})
	if err != nil || c.activatorAddr != ":8091" {
		t.Fatalf("activator %q, %v; want :8091 from SPAWN_ACTIVATOR_ADDR", c.activatorAddr, err)
	}
	c, err = loadConfig(env, []Option{WithLogger(nil), WithActivator("")})
	if err != nil || c.activatorAddr != "" {
		t.Fatalf("activator %q, %v; want WithActivator(\"\") to turn it off", c.activatorAddr, err)
	}
}
