package httpapi

import "kehu/internal/kehu"

// LogPath returns a request path fit for a log line, long digit runs (mobile,
// ID and card numbers) masked; see kehu.LogPath, which the UI shares.
func LogPath(p string) string { return kehu.LogPath(p) }
