package store_test

import (
	"context"
	"testing"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

func TestMigrateIsIdempotent(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		applied, err := db.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, %v", applied, err)
		}
		v, err := db.SchemaVersion(ctx)
		if err != nil || v < 1 {
			t.Fatalf("schema version %d, %v", v, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOrgTreeAndConflicts(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		ho, err := db.Orgs().CreateOrg(ctx, org.Org{Code: "HO", Name: "总行", Level: org.HeadOffice, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		br, err := db.Orgs().CreateOrg(ctx, org.Org{ParentID: &ho.ID, Code: "SH", Name: "上海分行", Level: org.ProvinceBranch, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if ho.Path != "/1/" || br.Path != "/1/2/" || !ho.Contains(br) || br.Contains(ho) {
			t.Errorf("paths %q %q", ho.Path, br.Path)
		}
		if _, err := db.Orgs().CreateOrg(ctx, org.Org{Code: "SH", Name: "dup", Level: org.HeadOffice, CreatedAt: now}); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("duplicate code: %v", err)
		}
		missing := int64(99)
		if _, err := db.Orgs().CreateOrg(ctx, org.Org{ParentID: &missing, Code: "X", Name: "x", Level: org.SubBranch, CreatedAt: now}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("missing parent: %v", err)
		}
		got, err := db.Orgs().GetOrg(ctx, br.ID)
		if err != nil || got.Name != "上海分行" || *got.ParentID != ho.ID || !got.CreatedAt.Equal(now) {
			t.Errorf("GetOrg = %+v, %v", got, err)
		}
		if _, err := db.Orgs().GetOrg(ctx, 404); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("GetOrg(404): %v", err)
		}
		if n, err := db.Orgs().CountOrgs(ctx); n != 2 || err != nil {
			t.Errorf("CountOrgs = %d, %v", n, err)
		}
	})
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "mysql://x", "sqlite:", "sqlite::memory:", "sqlite:a.db?mode=ro"} {
		if _, err := store.Open(context.Background(), u); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("Open(%q) = %v, want invalid", u, err)
		}
	}
}
