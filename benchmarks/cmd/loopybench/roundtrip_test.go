package main

import (
	"strings"
	"testing"
)

func TestMarkdownNamesRoundTrip(t *testing.T) {
	md := runTiny(t, "-topology", "^unicast$")
	if !strings.Contains(md, "cache line round trip between two spinning threads: ") {
		t.Fatalf("report lacks the round trip:\n%s", md)
	}
}
