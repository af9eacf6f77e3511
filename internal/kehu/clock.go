package kehu

import "time"

// Clock tells the time; services take one so tests can control it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, always in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Shanghai is the business time zone: display and business calendars use it,
// storage is UTC. Loaded once by the caller through LoadShanghai.
func LoadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// Machines without tzdata still get the correct fixed offset; China has
		// had no daylight saving time since 1991.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
