package importer_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/demo"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/search"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// sampleDir is the repository's testdata/ with the sample files of
// docs/IMPORT.md.
var sampleDir = filepath.Join("..", "..", "testdata")

// TestSampleFiles imports every sample file, in the order a bank loads
// them, into a small demo bank (whose outlets and staff the files name) and
// checks what each one does, including its deliberately bad rows.
func TestSampleFiles(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := demo.Generate(ctx, db, demo.Options{Customers: 30, Seed: 1, Password: testkit.Password,
			Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		clock := testkit.NewClock(time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC))
		trail := audit.NewLog(db.Audit(), db, clock)
		sealer, err := db.ImportSealer()
		if err != nil {
			t.Fatal(err)
		}
		levels := level.NewService(level.Deps{Store: db.Levels(), Clock: clock, Audit: trail, Tx: db})
		engine := importer.NewEngine(importer.EngineDeps{Store: db.Imports(), Tx: db, Audit: trail, Clock: clock,
			Identity: identity.NewService(identity.Deps{Store: db.Identity(), Tx: db, Audit: trail}), Sealer: sealer,
			NameKey: search.NameKey, Recompute: func(ctx context.Context, ids []int64) error {
				_, err := levels.RecomputeCustomers(ctx, ids)
				return err
			}})
		op := kehu.WithActor(ctx, kehu.Actor{Username: "cli:test", Role: "operator"})
		for _, c := range []struct {
			file, kind, source                         string
			created, updated, merged, rejected, suspct int64
			encoding                                   string
		}{
			{"customers.csv", importer.KindCustomers, "core_banking", 10, 0, 0, 4, 0, importer.EncodingUTF8},
			{"customers_gbk.csv", importer.KindCustomers, "crm_legacy", 2, 1, 2, 0, 1, importer.EncodingGB18030},
			{"accounts.xlsx", importer.KindAccounts, "core_banking", 8, 0, 0, 1, 0, importer.EncodingXLSX},
			{"holdings.csv", importer.KindHoldings, "wealth", 4, 0, 0, 1, 0, importer.EncodingUTF8},
			{"transactions.csv", importer.KindTransactions, "core_banking", 4, 0, 0, 1, 0, importer.EncodingUTF8},
			{"relationships.csv", importer.KindRelationships, "core_banking", 4, 0, 0, 1, 0, importer.EncodingUTF8},
			{"events.csv", importer.KindEvents, "crm_legacy", 5, 0, 0, 0, 0, importer.EncodingUTF8},
		} {
			path := filepath.Join(sampleDir, c.file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			j, err := db.Imports().CreateJob(op, importer.Job{Kind: c.kind, FileName: c.file, SHA256: sha(raw),
				FileSize: int64(len(raw)), FilePath: path, SourceSystem: c.source, Status: importer.StatusQueued,
				CreatedAt: clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			done, err := engine.Run(op, j, path, nil)
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			n := done.Counts
			if n.Created != c.created || n.Updated != c.updated || n.Merged != c.merged || n.Rejected != c.rejected ||
				n.Suspected != c.suspct || done.Encoding != c.encoding {
				var rejects []importer.Reject
				_ = db.Imports().Rejects(ctx, done.ID, func(r importer.Reject) error { rejects = append(rejects, r); return nil })
				t.Errorf("%s: %s %+v, rejects %+v", c.file, done.Encoding, n, rejects)
			}
		}
		// Every name the demo loader, the import's creates and its
		// source-priority updates wrote carries its search keys.
		checked := 0
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.Query("SELECT name, name_key, name_pinyin FROM customers")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var name string
				var key, py sql.NullString
				if err := rows.Scan(&name, &key, &py); err != nil {
					return err
				}
				if key.String != search.NameKey(name) || py.String != search.NamePinyin(name) {
					t.Errorf("%s: name_key %v, name_pinyin %v", name, key, py)
				}
				checked++
			}
			return rows.Err()
		})
		if err != nil || checked < 40 {
			t.Fatalf("search keys of %d customers: %v", checked, err)
		}
	})
}
