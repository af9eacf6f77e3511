// Package org models the bank's organisation tree: head office, provincial
// branches, city branches and sub-branches/outlets. Customers and users are
// homed at a node; data scopes are subtrees of it.
package org

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Levels of the organisation tree, from the root down.
const (
	HeadOffice     = "head_office"
	ProvinceBranch = "province_branch"
	CityBranch     = "city_branch"
	SubBranch      = "sub_branch"
)

// Levels lists the tree levels from the root down.
var Levels = []string{HeadOffice, ProvinceBranch, CityBranch, SubBranch}

// Org is one node of the tree. Path is the materialised path of ids from the
// root ("/1/3/17/") so a subtree is a prefix match, cheap on both engines.
type Org struct {
	ID         int64     `json:"id"`
	ParentID   *int64    `json:"parent_id"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	NameEN     string    `json:"name_en"`
	Level      string    `json:"level"`
	RegionCode string    `json:"region_code"`
	City       string    `json:"city"`
	Path       string    `json:"path"`
	CreatedAt  time.Time `json:"created_at"`
}

// Contains reports whether other lies in o's subtree (o itself included).
func (o Org) Contains(other Org) bool { return strings.HasPrefix(other.Path, o.Path) }

// ChildPath returns the path a child with id would have under parentPath.
func ChildPath(parentPath string, id int64) string {
	if parentPath == "" {
		parentPath = "/"
	}
	return fmt.Sprintf("%s%d/", parentPath, id)
}

// Store is what the org service needs from storage.
type Store interface {
	ListOrgs(ctx context.Context) ([]Org, error)
	GetOrg(ctx context.Context, id int64) (Org, error)
}
