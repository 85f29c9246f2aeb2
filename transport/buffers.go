package transport

import (
	"errors"
	"io"
	"sync"
)

// Bodies, read or encoded, go into buffers taken from a pool and given
// back once the call is answered, so that a call does not allocate its
// bodies anew. Protobuf decoding copies what it keeps (strings, bytes), so
// nothing decoded from a buffer refers to it afterwards.
//
// A buffer that had to grow past maxPooledBuffer is dropped instead of
// kept: a few large bodies must not pin their memory in the pool.
const (
	maxPooledBuffer = 32 << 10
	newBufferSize   = 4 << 10
)

var bufferPool = sync.Pool{New: func() any {
	b := make([]byte, 0, newBufferSize)
	return &b
}}

// getBuffer returns an empty buffer with room for at least n bytes.
func getBuffer(n int) *[]byte {
	if n > maxPooledBuffer {
		b := make([]byte, 0, n)
		return &b
	}
	p := bufferPool.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, 0, n)
	}
	*p = (*p)[:0]
	return p
}

// putBuffer gives p back to the pool. Nothing may use the bytes of p once
// it has been given back. A nil p is ignored.
func putBuffer(p *[]byte) {
	if p == nil || cap(*p) > maxPooledBuffer {
		return
	}
	*p = (*p)[:0]
	bufferPool.Put(p)
}

// errTooLarge is readInto's error for a body past its limit.
var errTooLarge = errors.New("body too large")

// readInto reads r to its end into *p, growing it as needed, and stops with
// errTooLarge once more than limit bytes came. Reading to the end, and not
// only to a known length, matters: net/http puts a client connection back
// in its pool only when the answer's body was read up to io.EOF.
func readInto(r io.Reader, p *[]byte, limit int64) error {
	b := *p
	for {
		if len(b) == cap(b) {
			// Room for one more read; append picks the growth.
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			*p = b
			return errTooLarge
		}
		if err == io.EOF {
			*p = b
			return nil
		}
		if err != nil {
			*p = b
			return err
		}
	}
}

// sizeHint is the buffer to ask for a body of announced length n (-1 when
// unknown), bounded by limit: one byte more than the body, so that the read
// that reports its end needs no growth.
func sizeHint(n, limit int64) int {
	switch {
	case n < 0:
		return 0
	case n > limit:
		return int(limit) + 1
	}
	return int(n) + 1
}
