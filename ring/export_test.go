package ring

// WithStart starts a ring's sequences at start instead of 0, so that tests run
// near the top of the sequence space.
var WithStart = withStart
