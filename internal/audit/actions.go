package audit

// Actions is every action any service records, grouped by area in the order
// the audit page's filter offers them. It is the one list of actions: the
// audit page's filter (internal/web) is this list, and each entry has a name
// in both catalogues ("audit.action.<action>").
//
// The services keep their own constants (level.ActionRead, policy.ActionCheck,
// ...), which this package cannot import: they import it. So the entries of
// other packages are written here as their values, and TestActionsComplete
// reads the source of every package and fails when an action recorded
// anywhere (a constant or literal in an Entry, or an Action*/Audit* string
// constant passed in) is missing here or lacks a name in either catalogue.
var Actions = []string{
	// Customer data
	CustomerList, CustomerRead, CustomerCreate, CustomerUpdate, CustomerUnmask, CustomerExport,
	CustomerTransfer, CustomerSecondary, "customer.preferences", "customer.provenance", "customer.level",
	"customer.suitability", "customer.contact_check", "customer.tag", "customer.untag",
	"interaction.record", "interaction.list",
	// Identity resolution
	"duplicate.list", "duplicate.read", "duplicate.dismiss", "customer.merge", "customer.unmerge", "merge.list",
	// Imports and feeds
	"import.submit", "import.finish", "import.cancel", "import.resume", "import.rollback", "import.rejects",
	"ingest.batch",
	// Wider access
	AccessRequest, AccessGrant, AccessDeny, AccessRevoke, AccessBreakGlass, AccessReview, AccessDenied,
	// Data-subject rights and bulk export
	PrivacyRequest, PrivacyRectify, PrivacyErase, ConsentRead, ConsentChange, BulkApproval, ComplianceAlert,
	// Marketing: segments, contact policy, templates, campaigns, journeys, delivery
	"segment.create", "segment.update", "segment.delete", "segment.snapshot", "segment.members",
	"contact_policy.update", "template.create", "template.update",
	"campaign.create", "campaign.update", "campaign.submit", "campaign.approve", "campaign.reject",
	"campaign.launch", "campaign.pause", "campaign.resume", "campaign.cancel", "campaign.run", "campaign.members",
	"campaign.export",
	"journey.create", "journey.update", "journey.pause", "journey.resume", "journey.firings", "journey.export",
	"outbox.list", "outbox.retry",
	// Sales and service
	"lead.create", "lead.list", "lead.update",
	"task.create", "task.list", "task.read", "task.claim", "task.complete", "task.cancel", "task.reassign",
	// Data governance and customer level
	"dictionary.update", "quality.run", "quality.read", "tag.catalogue",
	"level.rule_draft", "level.rule_preview", "level.rule_activate", "level.recompute",
	// Sign-in and user administration
	LoginOK, LoginFailed, Logout, UserCreate, UserPassword, UserDisable, UserEnable, UserTOTPReset,
	// The trail itself
	AuditSearch, AuditExport, AuditPurge,
}

// KnownAction reports whether action is one of Actions.
func KnownAction(action string) bool {
	for _, a := range Actions {
		if a == action {
			return true
		}
	}
	return false
}
