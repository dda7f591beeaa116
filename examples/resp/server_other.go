//go:build !(linux || darwin || freebsd)

package main

import (
	"errors"
	"fmt"
)

func startGraph(config) (server, error) {
	return nil, fmt.Errorf("resp: graph mode needs non-blocking sockets and poll(2): %w", errors.ErrUnsupported)
}
