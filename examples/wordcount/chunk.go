package main

import (
	"errors"
	"fmt"
	"io"
)

// chunker cuts a text stream into chunks that never split a word: each chunk ends just after
// an ASCII byte that is not part of a word. Cutting only at ASCII bytes is what makes this
// safe for UTF-8: an ASCII byte never occurs inside a multi-byte rune, so a rune (and
// therefore a word) is never split, and lowercasing chunk by chunk equals lowercasing the
// whole text. Cutting at line ends only was rejected: one long line would be one chunk.
type chunker struct {
	r    io.Reader
	size int    // the target chunk size
	rest []byte // bytes read after the last cut, carried into the next chunk
	eof  bool
}

func newChunker(r io.Reader, size int) *chunker {
	return &chunker{r: r, size: max(size, 1)}
}

// next returns the next chunk, freshly allocated (it is handed to another goroutine and the
// chunker never touches it again), or io.EOF after the last one. A chunk holds at most size
// bytes, unless its first word alone is that long: then it holds at most twice that word and
// its separator, since the buffer grows by doubling until the word fits.
func (c *chunker) next() ([]byte, error) {
	if c.eof && len(c.rest) == 0 {
		return nil, io.EOF
	}
	size := c.size
	if len(c.rest) >= size { // the carried part of a word fills a chunk already
		size = 2 * len(c.rest)
	}
	buf := make([]byte, len(c.rest), size)
	copy(buf, c.rest)
	c.rest = nil
	for {
		if !c.eof {
			for len(buf) < cap(buf) {
				n, err := c.r.Read(buf[len(buf):cap(buf)])
				buf = buf[:len(buf)+n]
				if errors.Is(err, io.EOF) {
					c.eof = true
					break
				}
				if err != nil {
					return nil, fmt.Errorf("read text: %w", err)
				}
			}
		}
		if c.eof {
			if len(buf) == 0 {
				return nil, io.EOF
			}
			return buf[:len(buf):len(buf)], nil
		}
		if cut := lastSeparator(buf); cut >= 0 {
			c.rest = buf[cut+1:]
			return buf[: cut+1 : cut+1], nil
		}
		// One word fills the whole buffer: grow it and read on.
		bigger := make([]byte, len(buf), 2*cap(buf))
		copy(bigger, buf)
		buf = bigger
	}
}

// lastSeparator returns the index of the last ASCII byte of b that is not part of a word,
// or -1.
func lastSeparator(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if c := b[i]; c < 0x80 && !isASCIIWordByte(c) {
			return i
		}
	}
	return -1
}
