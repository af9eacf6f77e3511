package kehu

import "regexp"

// longDigits matches digit runs as long as a mobile (11), an ID number (18,
// possibly ending in X) or a card number (16–19). Customer ids are far shorter.
var longDigits = regexp.MustCompile(`\d{11,}[Xx]?`)

// LogPath returns a request path fit for a log line: anyone can type a mobile,
// ID or card number into a URL, and logs must never hold personal data in
// clear, so long digit runs are replaced by "*". It lives here, not in the
// HTTP API, because the JSON API and the UI both log paths and must mask them
// the same way.
func LogPath(p string) string { return longDigits.ReplaceAllString(p, "*") }
