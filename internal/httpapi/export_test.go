package httpapi

// RoutePatterns exposes the route table's patterns to the contract test.
func RoutePatterns() []string {
	var out []string
	for _, rt := range routes() {
		out = append(out, rt.pattern)
	}
	return out
}
