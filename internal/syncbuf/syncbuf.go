// Package syncbuf provides a bytes.Buffer that is safe for concurrent use: a log or stream
// destination that tests read while the code under test still writes to it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is a concurrency-safe bytes.Buffer; the zero value is ready for use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
