package testkit

import (
	"kehu/internal/segment"
)

// SegmentService returns a segment service wired like `kehu serve`'s.
func (b *Bank) SegmentService() *segment.Service {
	return segment.NewService(segment.Deps{Store: b.DB.Segments(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB, Tags: segment.TagCatalogue{Tags: b.TagService()}})
}
