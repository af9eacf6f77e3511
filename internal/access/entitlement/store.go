package entitlement

import (
	"context"
	"time"
)

// Store is the storage of requests, grants and ownership. Implementations
// read homes and users without any data scope: the Service applies the rules.
type Store interface {
	CreateRequest(ctx context.Context, r Request) (Request, error)
	// GetRequest returns ENOTFOUND for an unknown id.
	GetRequest(ctx context.Context, id int64) (Request, error)
	ListRequests(ctx context.Context, f RequestFilter) ([]Request, error)
	// DecideRequest moves a request from one status to the next; it returns
	// ECONFLICT when the request is no longer in status from.
	DecideRequest(ctx context.Context, id int64, from, to string, by int64, at time.Time, comment string) error

	CreateGrant(ctx context.Context, g Grant) (Grant, error)
	// RevokeRequestGrants ends the grants an approved request created.
	RevokeRequestGrants(ctx context.Context, requestID, by int64, at time.Time) error
	GetGrant(ctx context.Context, id int64) (Grant, error)
	ListBreakGlass(ctx context.Context, f BreakGlassFilter) ([]Grant, error)
	// ReviewGrant records a review; ECONFLICT if the grant was reviewed.
	ReviewGrant(ctx context.Context, id, by int64, at time.Time, comment string) error
	// ActiveGrant returns the id of an unrevoked grant of scope that user
	// holds for customer and that expires after now; 0 when there is none.
	ActiveGrant(ctx context.Context, userID, customerID int64, scope string, now time.Time) (int64, error)

	// CustomerHome returns ENOTFOUND for an unknown customer.
	CustomerHome(ctx context.Context, customerID int64) (Home, error)
	// User returns ENOTFOUND for an unknown user.
	User(ctx context.Context, id int64) (UserRef, error)
	Owners(ctx context.Context, customerID int64) (Owners, error)
	// SetOwner changes the primary RM and appends t to the history.
	SetOwner(ctx context.Context, t Transfer) error
	AddSecondary(ctx context.Context, customerID, userID, by int64, at time.Time) error
	// ActiveRMs lists the active relationship managers homed under
	// orgPath, for a manager's pick list.
	ActiveRMs(ctx context.Context, orgPath string) ([]UserRef, error)
	// RemoveSecondary returns ENOTFOUND when the user is no secondary RM.
	RemoveSecondary(ctx context.Context, customerID, userID int64) error
}
