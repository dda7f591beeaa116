//go:build race

package jetstream_test

// raceEnabled: under the race detector the embedded server runs instrumented too, several
// times slower, and the scale-out tests run fewer records.
const raceEnabled = true
