package httpapi

// RoutePermissions exposes the route table's permission per pattern ("" when
// any signed-in user may call it) to the decoder-limits walk.
func RoutePermissions() map[string]string {
	out := map[string]string{}
	for _, rt := range routes() {
		out[rt.pattern] = string(rt.perm)
	}
	return out
}
