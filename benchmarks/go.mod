module github.com/loopyring/loopyring/benchmarks

go 1.27

toolchain go1.27.3

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	github.com/loopyring/loopyring v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.50.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

// Development: the library from this checkout. A user of the benchmarks outside it drops this
// line and requires a released version instead.
replace github.com/loopyring/loopyring => ../
