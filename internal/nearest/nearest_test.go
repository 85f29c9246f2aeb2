package nearest

import "testing"

func TestName(t *testing.T) {
	keys := []string{"name", "kind", "stateful", "channel", "timer", "snapshot", "deactivate"}
	tests := []struct{ word, want string }{
		{"nmae", "name"},
		{"statefull", "stateful"},
		{"chanel", "channel"},
		{"Timer", "timer"},
		{"zzzzzz", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := Name(tt.word, keys); got != tt.want {
			t.Errorf("Name(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
