//go:build !race

package broker

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = false
