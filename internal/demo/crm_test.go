package demo_test

import (
	"slices"
	"testing"

	"kehu/internal/interaction"
	"kehu/internal/search"
	"kehu/internal/tag"
)

// checkEmployers checks every employer pays the employee's salary under
// its own name: the relationship and the payslips tell the same story.
func checkEmployers(t *testing.T, db testDB) {
	t.Helper()
	var n, paid int
	err := db.raw.QueryRow(`SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM transactions x
		WHERE x.customer_id = r.to_customer_id AND x.kind = 'salary' AND x.counterparty = e.name))
		FROM relationships r JOIN customers e ON e.id = r.from_customer_id WHERE r.kind = 'employer'`).Scan(&n, &paid)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || paid != n {
		t.Errorf("%d employer relationships, %d with salaries paid under the employer's name", n, paid)
	}
}

// checkInteractions checks contacts were made by staff of the customer's
// outlet, with valid channels, purposes and responses, products on the
// product answers, and a sale only of a product the customer holds.
func checkInteractions(t *testing.T, db testDB) {
	t.Helper()
	rows, err := db.raw.Query(`SELECT i.id, i.channel, i.purpose, i.response, i.product_id, u.org_id = c.org_id,
		i.occurred_at >= c.created_at, (SELECT count(*) FROM interaction_products p WHERE p.interaction_id = i.id),
		CASE WHEN i.response = 'bought' THEN (SELECT count(*) FROM holdings h WHERE h.customer_id = i.customer_id
			AND h.product_id = i.product_id) ELSE 1 END, i.note
		FROM interactions i JOIN customers c ON c.id = i.customer_id JOIN users u ON u.id = i.user_id ORDER BY i.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	responses := map[string]int{}
	for rows.Next() {
		var id int64
		var channel, purpose, response, note string
		var product *int64
		var sameOrg, afterJoining bool
		var products, held int
		if err := rows.Scan(&id, &channel, &purpose, &response, &product, &sameOrg, &afterJoining, &products, &held, &note); err != nil {
			t.Fatal(err)
		}
		responses[response]++
		in := interaction.New{Channel: channel, Purpose: purpose, Response: response, Note: note}
		for range products {
			in.Products = append(in.Products, "p")
		}
		if err := in.Validate(); err != nil {
			t.Errorf("interaction %d: %v", id, err)
		}
		if !sameOrg || !afterJoining || (product == nil) != (products == 0) || held == 0 {
			t.Errorf("interaction %d: staff of the outlet %v, after joining %v, product %v with %d rows, held %d",
				id, sameOrg, afterJoining, product, products, held)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range interaction.Responses {
		if responses[r] == 0 {
			t.Errorf("no interaction answered %s: %v", r, responses)
		}
	}
}

// checkTags checks the catalogue holds the built-in defaults by code and
// that customers carry manual and emotion tags, emotions with an expiry.
func checkTags(t *testing.T, db testDB) {
	t.Helper()
	for _, d := range tag.Defaults {
		var n int
		if err := db.raw.QueryRow("SELECT count(*) FROM tags WHERE code = $1 AND name = $2 AND kind = $3", d.Code, d.Name, d.Kind).Scan(&n); err != nil || n != 1 {
			t.Errorf("default tag %s: %d rows (%v)", d.Code, n, err)
		}
	}
	rows, err := db.raw.Query(`SELECT t.kind, count(*), count(ct.expires_at), count(ct.created_by), min(length(ct.reason))
		FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id GROUP BY t.kind`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	kinds := map[string]int{}
	for rows.Next() {
		var kind string
		var n, expiring, by, reason int
		if err := rows.Scan(&kind, &n, &expiring, &by, &reason); err != nil {
			t.Fatal(err)
		}
		kinds[kind] = n
		if kind == tag.Emotion && expiring != n || kind == tag.Manual && expiring != 0 || by != n || reason < 2 {
			t.Errorf("%d %s tags: %d expiring, %d with author, shortest reason %d", n, kind, expiring, by, reason)
		}
	}
	if kinds[tag.Manual] == 0 || kinds[tag.Emotion] == 0 {
		t.Errorf("customer tags by kind %v: want manual and emotion tags", kinds)
	}
}

// checkSearchKeys checks every customer has the pinyin key of its name and
// every company the two-character pieces of its name.
func checkSearchKeys(t *testing.T, db testDB) {
	t.Helper()
	rows, err := db.raw.Query(`SELECT c.id, c.name, c.name_key, c.type,
		(SELECT count(*) FROM customer_name_grams g WHERE g.customer_id = c.id) FROM customers c ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name, typ string
		var key *string
		var grams int
		if err := rows.Scan(&id, &name, &key, &typ, &grams); err != nil {
			t.Fatal(err)
		}
		if key == nil || *key != search.NameKey(name) {
			t.Errorf("customer %d %s: name_key %v, want %q", id, name, key, search.NameKey(name))
		}
		if (typ == "corporate") != (grams > 0) || slices.Contains([]int{1, 2}, grams) {
			t.Errorf("customer %d (%s) %s has %d name pieces", id, typ, name, grams)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
