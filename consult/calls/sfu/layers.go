package sfu

// maxLayers is how many simulcast layers the SFU distinguishes.
const maxLayers = 3

// layerRank maps a simulcast RID to its layer, low to high. Browsers use
// q/h/f (quarter, half, full) or l/m/h; unknown RIDs are ranked by the
// caller. A non-simulcast stream ("") is layer 0.
func layerRank(rid string) (int, bool) {
	switch rid {
	case "", "q", "l", "low", "0":
		return 0, true
	case "h", "m", "mid", "1":
		return 1, true
	case "f", "hi", "high", "2":
		return 2, true
	}
	return 0, false
}

// Loss thresholds (fraction of packets a receiver reports lost) and how
// many calm intervals a receiver needs before it is offered a higher layer.
const (
	lossDown     = 0.08 // at or above: one layer down
	lossPause    = 0.25 // at or above on the lowest layer: video paused, audio kept
	lossUp       = 0.02 // below, for upAfterTicks intervals: one layer up
	upAfterTicks = 4
)

// chooseLayer decides which layer a receiver should get next, from the
// layer it is decided on now (cur; -1 paused, -2 not yet decided), the
// layers available (bit i set: layer i is arriving), each layer's measured
// bitrate, the receiver's video budget in bit/s (0: unknown) and its
// reported loss. calm counts the consecutive calm intervals; chooseLayer
// updates it. It returns -1 to pause video (audio always flows).
func chooseLayer(cur int, avail uint8, rates [maxLayers]float64, budget, loss float64, calm *int) int {
	lowest, highest := -1, -1
	for i := range maxLayers {
		if avail&(1<<i) != 0 {
			if lowest < 0 {
				lowest = i
			}
			highest = i
		}
	}
	if highest < 0 {
		return -1
	}
	below := func(l int) int { // next available layer under l, or -1
		for i := l - 1; i >= 0; i-- {
			if avail&(1<<i) != 0 {
				return i
			}
		}
		return -1
	}
	above := func(l int) int { // next available layer over l, or l
		for i := l + 1; i < maxLayers; i++ {
			if avail&(1<<i) != 0 {
				return i
			}
		}
		return l
	}
	switch {
	case cur == -2:
		cur = highest
	case cur >= 0 && avail&(1<<cur) == 0:
		if b := below(cur); b >= 0 {
			cur = b
		} else {
			cur = lowest
		}
	}
	next := cur
	switch {
	case loss >= lossPause:
		*calm = 0
		if cur <= lowest {
			next = -1
		} else {
			next = below(cur)
		}
	case loss >= lossDown:
		*calm = 0
		if cur > lowest {
			next = below(cur)
		}
	case loss < lossUp:
		*calm++
		if *calm >= upAfterTicks {
			*calm = 0
			if cur < 0 {
				next = lowest
			} else {
				next = above(cur)
			}
		}
	default:
		*calm = 0
	}
	if budget > 0 {
		for next >= 0 && rates[next] > budget {
			next = below(next)
		}
	}
	return next
}
