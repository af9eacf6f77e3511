// Package access defines who may do what: the bank's roles, the permissions
// each role holds, and the data scope (own customers, outlet, branch subtree,
// whole bank) that limits which customers a user can see at all. Every module's
// service consults it, so no handler, page or job can forget it.
package access

import "slices"

// Role keys are stable identifiers stored on users and used in config.
const (
	Teller            = "teller"
	LobbyManager      = "lobby_manager"
	RelationshipMgr   = "relationship_manager"
	CallCenterAgent   = "call_center_agent"
	BranchManager     = "branch_manager"
	MarketingOperator = "marketing_operator"
	ComplianceAuditor = "compliance_auditor"
	Admin             = "admin"
	// DataSteward is the data-governance office (数据管理部): it owns the data
	// dictionary and the quality rules, watches data quality, and keeps the
	// customer master clean by reviewing suspected duplicates.
	DataSteward = "data_steward"
	// Integration is a source system's service account (core banking,
	// cards, wealth …): it feeds Kehu through API tokens and browses nobody.
	Integration = "integration"
)

// Roles lists every role in the order the UI presents them.
var Roles = []string{Teller, LobbyManager, RelationshipMgr, CallCenterAgent, BranchManager,
	MarketingOperator, ComplianceAuditor, Admin, DataSteward, Integration}

// ValidRole reports whether r is a known role key.
func ValidRole(r string) bool { return slices.Contains(Roles, r) }

// Permission names one capability checked by services and used to build the
// navigation.
type Permission string

// Permissions known to the foundation; later modules add their own.
const (
	CustomerRead   Permission = "customer.read"
	CustomerWrite  Permission = "customer.write"
	OrgRead        Permission = "org.read"
	UserManage     Permission = "user.manage"
	AuditRead      Permission = "audit.read"
	MarketingWrite Permission = "marketing.write"
	// CustomerUnmask lets a user see a masked field in clear, one explicit
	// request with a reason at a time, each one audited (docs/SECURITY.md).
	CustomerUnmask Permission = "customer.unmask"
	// PrivacyManage lets a user handle data-subject requests under PIPL
	// (export, rectify, consent withdrawal, erasure) and approve bulk exports
	// (docs/PRIVACY.md).
	PrivacyManage Permission = "privacy.manage"
)

// Permissions of ownership and wider access (docs/SECURITY.md, "Access
// control and approvals").
const (
	// CustomerTransfer lets a manager change a customer's primary RM and
	// secondary RMs within their own branch.
	CustomerTransfer Permission = "customer.transfer"
	// AccessApprove lets a user decide requests for temporary access to
	// customers homed in their subtree.
	AccessApprove Permission = "access.approve"
	// BreakGlass lets a call-centre agent open a customer outside scope at
	// once, for BreakGlassDuration, on the record.
	BreakGlass Permission = "access.break_glass"
	// AccessReview lets compliance review every break-glass opening.
	AccessReview Permission = "access.review"
)

// Permissions of data integration (docs/INGEST.md).
const (
	// DataIngest lets a source system feed batches of events and records
	// through POST /api/v1/ingest/{kind}; it is meant for an API token
	// carrying only this scope, on a service account.
	DataIngest Permission = "data.ingest"
	// CustomerMerge lets a reviewer merge suspected duplicate customers in
	// scope, dismiss a suspicion, and undo a merge.
	CustomerMerge Permission = "customer.merge"
)

// TagManage lets a user edit the customer tag catalogue: manual, emotion and
// computed tags and their rules (internal/tag). Putting a tag on a customer
// needs only customer.read and the customer in scope.
const TagManage Permission = "tag.manage"

// Permissions of data governance and the customer level (docs/GOVERNANCE.md).
const (
	// LevelManage lets a user draft, preview and activate the customer-level
	// rule and start a recompute.
	LevelManage Permission = "level.manage"
	// GovernanceManage lets a data steward edit data-dictionary metadata
	// (definitions, owner, quality rules) and start a data-quality run.
	GovernanceManage Permission = "governance.manage"
	// QualityRead lets a user see the data-quality results of their subtree.
	QualityRead Permission = "quality.read"
)

// DataImport lets a user load files from the source systems (customers,
// accounts, holdings, transactions, relationships, events) into the
// customers of their data scope, and follow and roll back their imports
// (internal/importer, docs/IMPORT.md).
const DataImport Permission = "data.import"

// OutboxMonitor lets a user watch message delivery (发送监控): counts per
// channel and status, the failed messages of customers in their scope with
// the reasons, and queue a failed message again (internal/outbox,
// docs/DELIVERY.md). Message templates are edited under marketing.write.
const OutboxMonitor Permission = "outbox.monitor"

// Permissions of campaigns (营销活动, internal/campaign, docs/CAMPAIGNS.md):
// maker-checker. A marketing operator writes, submits, launches, pauses and
// cancels campaigns (campaign.manage); a different user holding
// campaign.approve — a branch manager or an administrator of the head
// office — approves or rejects a submitted one. Both read campaigns and
// their results.
const (
	CampaignManage  Permission = "campaign.manage"
	CampaignApprove Permission = "campaign.approve"
)

// rolePermissions is the default grant table. It is data, not code paths, so
// issue-level changes (a bank's own policy) stay in one place.
var rolePermissions = map[string][]Permission{
	Teller:            {CustomerRead, CustomerWrite, CustomerUnmask},
	LobbyManager:      {CustomerRead},
	RelationshipMgr:   {CustomerRead, CustomerWrite, CustomerUnmask},
	CallCenterAgent:   {CustomerRead, CustomerUnmask, BreakGlass},
	BranchManager:     {CustomerRead, CustomerWrite, OrgRead, CustomerUnmask, CustomerTransfer, AccessApprove, PrivacyManage, QualityRead, CustomerMerge, DataImport, CampaignApprove},
	MarketingOperator: {CustomerRead, OrgRead, MarketingWrite, TagManage, OutboxMonitor, CampaignManage},
	ComplianceAuditor: {CustomerRead, OrgRead, AuditRead, CustomerUnmask, AccessApprove, AccessReview, PrivacyManage, QualityRead},
	Admin:             {CustomerRead, CustomerWrite, OrgRead, UserManage, AuditRead, MarketingWrite, CustomerTransfer, PrivacyManage, TagManage, LevelManage, GovernanceManage, QualityRead, DataIngest, CustomerMerge, DataImport, OutboxMonitor, CampaignManage, CampaignApprove},
	// A data-governance office keeps the dictionary and quality rules
	// (governance.manage), measures quality (quality.read), resolves the
	// customer master's duplicates (customer.merge — which needs
	// customer.read: a steward compares the two records, masked like any
	// reader's) and loads or corrects source files (data.import). It does
	// not own business rules: the level rule belongs to the retail
	// business (level.manage stays with administrators) and the tag
	// catalogue to marketing (tag.manage); it edits no customer by hand
	// (no customer.write) and sees no value in clear (no customer.unmask).
	DataSteward: {CustomerRead, OrgRead, GovernanceManage, QualityRead, CustomerMerge, DataImport},
	// A source system's service account feeds events and records
	// (data.ingest) and may upload its nightly extract as a file
	// (data.import), the two ways source systems deliver; it never browses
	// or reads customers (no customer.read), so a leaked integration token
	// can add data but not take any out.
	Integration: {DataIngest, DataImport},
}

// Can reports whether role holds permission p.
func Can(role string, p Permission) bool {
	return slices.Contains(rolePermissions[role], p)
}

// Scope is how far a user's view of customers reaches.
type Scope string

// Data scopes, narrowest first.
const (
	ScopeOwn     Scope = "own"     // customers whose primary or a secondary RM is the user
	ScopeOutlet  Scope = "outlet"  // customers homed at the user's own organisation
	ScopeSubtree Scope = "subtree" // customers homed anywhere under the user's organisation
	ScopeBank    Scope = "bank"    // every customer
)

// DefaultScope is the scope a role gets unless policy says otherwise. An RM
// sees the customers they own; front-line staff their outlet; managers,
// marketing, compliance and data stewards their subtree (head-office users
// therefore the bank). A source system's integration account feeds the whole
// bank: its data.ingest and data.import reach every customer of its system,
// while it can read none (it holds no customer.read).
// A call-centre agent owns no customers, so "own" leaves them none: they
// reach the caller's record by break glass (15 minutes, audited, reviewed)
// or an approved access request, never by browsing the bank.
func DefaultScope(role string) Scope {
	switch role {
	case RelationshipMgr, CallCenterAgent:
		return ScopeOwn
	case Teller, LobbyManager:
		return ScopeOutlet
	case Admin, Integration:
		return ScopeBank
	default:
		return ScopeSubtree
	}
}
