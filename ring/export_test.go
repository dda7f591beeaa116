package ring

import "time"

// WithStart starts a ring's sequences at start instead of 0, so that tests run
// near the top of the sequence space.
var WithStart = withStart

// LingerOf reports the pause a reader's Wait takes before a short range.
func LingerOf(r *Reader) time.Duration { return r.lingerFor }
