//go:build race

package jetstream_test

// Under the race detector the embedded server runs instrumented too, several times slower.
func init() { scaleOutRecords = 20_000 }
