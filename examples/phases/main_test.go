package main

import (
	"testing"

	"github.com/loopyring/loopyring/examples/internal/testrun"
)

func TestMain(m *testing.M) { testrun.Main(m) }

var scale = testrun.Scale
