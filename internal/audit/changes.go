package audit

// Changes collects a record's field changes (Entry.Changes): Add keeps a
// field only when its value changed, so a diff lists what changed and nothing
// else.
type Changes []Change

// Add appends field old → new when the two differ.
func (c *Changes) Add(field, old, new string) {
	if old != new {
		*c = append(*c, Change{Field: field, Old: old, New: new})
	}
}
