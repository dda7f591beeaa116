package ring

// The barrier answers one question for a reader: below which sequence is
// everything readable? A reader without upstreams asks the publishers; a
// downstream phase asks its upstream readers, which only ever release what
// they could read, so it never needs to consult the publishers as well.

// refresh recomputes the reader's barrier and caches it in r.avail. TryRead
// calls it only once the cached range is used up, so a reader going through a
// large available range touches shared cache lines once per batch, not once per
// entry.
func (r *Reader) refresh() int64 {
	var hi int64
	switch {
	case len(r.upstream) > 0:
		hi = r.upstream[0].seq.v.Load()
		for _, up := range r.upstream[1:] {
			hi = min(hi, up.seq.v.Load())
		}
	case r.c.multi:
		// Scan no further than one batch: what lies beyond would be
		// rescanned after the next Release anyway. The scan needs no bound
		// from the claim cursor: a slot holds s only once s is committed,
		// and within one capacity of r.next no two sequences share a slot.
		// Not loading the claim cursor keeps its line with the claimers.
		hi = r.c.scanAvail(r.next, r.next+r.maxBatch)
	default:
		hi = r.c.cursor.v.Load()
	}
	r.avail = hi
	return hi
}
