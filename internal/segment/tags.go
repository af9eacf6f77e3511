package segment

import (
	"context"
	"strconv"

	"kehu/internal/tag"
)

// TagCatalogue offers the active tags of the catalogue as the options of
// has_tag (the option value is the tag id, which the rule names).
type TagCatalogue struct{ Tags *tag.Service }

// Options implements Tags.
func (c TagCatalogue) Options(ctx context.Context) ([]Option, error) {
	ts, err := c.Tags.Catalogue(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]Option, 0, len(ts))
	for _, t := range ts {
		en := t.LabelEN
		if en == "" {
			en = t.Name
		}
		out = append(out, Option{Value: strconv.FormatInt(t.ID, 10), LabelZH: t.Name, LabelEN: en})
	}
	return out, nil
}
