package dispatch

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/spawn-go/spawn/bench/internal/loopback"
)

func TestDataSizes(t *testing.T) {
	for _, sz := range Sizes {
		if got := proto.Size(wrapperspb.Bytes(Data(sz.Bytes))); got != sz.Bytes {
			t.Errorf("%s: the input encodes to %d bytes", sz.Name, got)
		}
	}
}

func TestHandWrittenAnswersCorrectly(t *testing.T) {
	for _, sz := range Sizes {
		out, err := HandWritten(Invocation(sz.Bytes))
		if err == nil {
			err = CheckResponse(sz.Bytes, out)
		}
		if err != nil {
			t.Errorf("%s: %v", sz.Name, err)
		}
	}
}

// Every subject of the suite answers every size correctly, in memory and
// through HTTP, and the checks catch a wrong answer.
func TestSubjectsAnswerCorrectly(t *testing.T) {
	client := loopback.Client(2)
	defer client.CloseIdleConnections()
	for _, start := range []func() (Subject, error){HandWrittenSubject, BareSubject, SpawnGoSubject, DaprSubject} {
		s, err := start()
		if err != nil {
			t.Fatal(err)
		}
		for _, sz := range Sizes {
			if s.Handler != nil {
				if err := check(s, sz, newMemCaller(s, sz.Bytes).call); err != nil {
					t.Errorf("in memory: %v", err)
				}
			}
			if err := check(s, sz, newHTTPCaller(s, sz.Bytes, client).call); err != nil {
				t.Errorf("through HTTP: %v", err)
			}
			if err := s.Check(sz.Bytes, []byte("wrong")); err == nil {
				t.Errorf("%s: the check accepts a wrong answer", s.Name)
			}
		}
		s.Close()
	}
}
