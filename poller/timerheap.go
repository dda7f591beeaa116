package poller

// timerHeap is a binary min-heap of pending timers ordered by (when, seq), each
// timer knowing its index so that Stop removes it in O(log n). Hand-written
// rather than container/heap: the owner goroutine calls it on every timer
// operation and the interface calls and any-boxing buy nothing here.
type timerHeap []*Timer

func (h timerHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) push(t *Timer) {
	t.index = len(*h)
	*h = append(*h, t)
	h.up(t.index)
}

// remove takes the timer at index i out of the heap and marks it not pending.
func (h *timerHeap) remove(i int) {
	s := *h
	last := len(s) - 1
	t := s[i]
	if i != last {
		s.swap(i, last)
	}
	s[last] = nil
	*h = s[:last]
	t.index = -1
	if i != last {
		// The moved timer may belong above or below its new place.
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h timerHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down sifts the timer at i towards the leaves and reports whether it moved.
func (h timerHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		child := 2*i + 1
		if child >= n {
			break
		}
		if r := child + 1; r < n && h.less(r, child) {
			child = r
		}
		if !h.less(child, i) {
			break
		}
		h.swap(i, child)
		i = child
	}
	return i > start
}
