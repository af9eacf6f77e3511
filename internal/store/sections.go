package store

import "strings"

// engineSections keeps the parts of a migration meant for engine. A line
// "-- @sqlite" or "-- @postgres" starts text for that engine only (triggers
// and functions have no common syntax); "-- @all" returns to shared text.
// Text without markers is shared, so older migrations are unaffected.
func engineSections(engine, sql string) string {
	if !strings.Contains(sql, "-- @") {
		return sql
	}
	var b strings.Builder
	keep := true
	for line := range strings.Lines(sql) {
		switch strings.TrimSpace(line) {
		case "-- @all":
			keep = true
			continue
		case "-- @sqlite", "-- @postgres":
			keep = strings.TrimSpace(line) == "-- @"+engine
			continue
		}
		if keep {
			b.WriteString(line)
		}
	}
	return b.String()
}
