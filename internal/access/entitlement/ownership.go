package entitlement

import (
	"strings"
	"time"

	"kehu/internal/kehu"
)

// Home is where a customer sits, read without scope so the access rules can
// decide about it: who may approve, transfer or break glass.
type Home struct {
	CustomerID int64
	Name       string
	OrgID      int64
	OrgPath    string
	OwnerID    *int64
}

// UserRef is a user as the ownership rules see them.
type UserRef struct {
	ID       int64
	Username string
	Role     string
	OrgPath  string
	Disabled bool
}

// Owners is who looks after a customer: the primary RM, the secondary RMs
// and every past change of primary RM, newest first.
type Owners struct {
	CustomerID  int64
	Primary     *UserRef
	Secondaries []UserRef
	History     []Transfer
}

// Transfer is one change of primary RM.
type Transfer struct {
	ID              int64
	CustomerID      int64
	FromOwnerID     *int64
	FromOwnerName   string
	ToOwnerID       int64
	ToOwnerName     string
	Reason          string
	TransferredBy   int64
	TransferredName string
	TransferredAt   time.Time
}

// TransferInput moves one or more customers to a new primary RM.
type TransferInput struct {
	CustomerIDs []int64
	OwnerID     int64
	Reason      string
}

// maxBatch bounds one transfer so a batch stays one short transaction.
const maxBatch = 500

// Validate names every invalid field at once.
func (t *TransferInput) Validate() error {
	var v kehu.Validation
	t.Reason = strings.TrimSpace(t.Reason)
	switch {
	case len(t.CustomerIDs) == 0:
		v.Add("customer_ids", "is required")
	case len(t.CustomerIDs) > maxBatch:
		v.Add("customer_ids", "must list at most 500 customers")
	}
	if t.OwnerID <= 0 {
		v.Add("owner_id", "is required")
	}
	checkText(&v, "reason", t.Reason, maxTextRunes, true)
	return v.Err()
}

// inSubtree reports whether path lies under (or is) root; an empty path (an
// unknown customer) lies nowhere.
func inSubtree(path, root string) bool {
	return path != "" && root != "" && strings.HasPrefix(path, root)
}
