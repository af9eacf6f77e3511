package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/interaction"
)

// InteractionStore implements interaction.Store.
type InteractionStore struct{ db *DB }

// Interactions returns the interaction store.
func (db *DB) Interactions() *InteractionStore { return &InteractionStore{db: db} }

// c360Marks returns "$from, $from+1, …" for n parameters of an IN list.
func c360Marks(from, n int) string {
	marks := make([]string, n)
	for i := range marks {
		marks[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(marks, ", ")
}

const productColumns = "p.id, p.code, p.name, p.name_en, p.type"

func scanProduct(r interface{ Scan(...any) error }) (interaction.Product, error) {
	var p interaction.Product
	err := r.Scan(&p.ID, &p.Code, &p.Name, &p.NameEN, &p.Type)
	return p, err
}

// ProductsByRef returns the products with the given codes or ids.
func (s *InteractionStore) ProductsByRef(ctx context.Context, codes []string, ids []int64) ([]interaction.Product, error) {
	var conds []string
	var args []any
	if len(codes) > 0 {
		conds = append(conds, "p.code IN ("+c360Marks(1, len(codes))+")")
		for _, c := range codes {
			args = append(args, c)
		}
	}
	if len(ids) > 0 {
		conds = append(conds, "p.id IN ("+c360Marks(len(args)+1, len(ids))+")")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if len(conds) == 0 {
		return nil, nil
	}
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+productColumns+" FROM products p WHERE "+
		strings.Join(conds, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("products by ref: %w", err)
	}
	return collect(rows, "products", func(r *sql.Rows) (interaction.Product, error) { return scanProduct(r) })
}

// Products returns every product on sale, by type and code.
func (s *InteractionStore) Products(ctx context.Context) ([]interaction.Product, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+productColumns+
		" FROM products p WHERE p.status = 'on_sale' ORDER BY p.type, p.code")
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	return collect(rows, "products", func(r *sql.Rows) (interaction.Product, error) { return scanProduct(r) })
}

// CreateInteraction inserts an interaction and its products. The first
// product also goes to interactions.product_id, so readers of the original
// one-product column still see something sensible.
func (s *InteractionStore) CreateInteraction(ctx context.Context, in interaction.Interaction) (int64, error) {
	var first sql.NullInt64
	if len(in.Products) > 0 {
		first = sql.NullInt64{Int64: in.Products[0].ID, Valid: true}
	}
	var id int64
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO interactions (customer_id, user_id, occurred_at, channel,
		purpose, product_id, response, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		in.CustomerID, in.UserID, in.OccurredAt, in.Channel, in.Purpose, first, in.Response, in.Note).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert interaction: %w", err)
	}
	for _, p := range in.Products {
		if _, err := s.db.writer(ctx).ExecContext(ctx,
			"INSERT INTO interaction_products (interaction_id, product_id) VALUES ($1, $2)", id, p.ID); err != nil {
			return 0, fmt.Errorf("insert interaction product: %w", err)
		}
	}
	return id, nil
}

// ListInteractions returns a customer's interactions newest first (by id,
// through interactions_customer_id), then their products in one query.
func (s *InteractionStore) ListInteractions(ctx context.Context, customerID, before int64, limit int) ([]interaction.Interaction, error) {
	q := `SELECT i.id, i.customer_id, i.user_id, COALESCE(u.display_name, ''), i.occurred_at, i.channel, i.purpose,
		i.response, i.note, i.product_id FROM interactions i LEFT JOIN users u ON u.id = i.user_id WHERE i.customer_id = $1`
	args := []any{customerID}
	if before > 0 {
		q += " AND i.id < $2"
		args = append(args, before)
	}
	q += " ORDER BY i.id DESC LIMIT $" + strconv.Itoa(len(args)+1)
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("interactions of %d: %w", customerID, err)
	}
	legacy := map[int64]int64{} // interaction id → its single product_id
	items, err := collect(rows, "interactions", func(r *sql.Rows) (interaction.Interaction, error) {
		var in interaction.Interaction
		var product sql.NullInt64
		err := r.Scan(&in.ID, &in.CustomerID, &in.UserID, &in.UserName, &in.OccurredAt, &in.Channel, &in.Purpose,
			&in.Response, &in.Note, &product)
		in.OccurredAt = in.OccurredAt.UTC()
		in.Products = []interaction.Product{}
		if product.Valid {
			legacy[in.ID] = product.Int64
		}
		return in, err
	})
	if err != nil || len(items) == 0 {
		return items, err
	}
	return items, s.attachProducts(ctx, items, legacy)
}

// attachProducts fills each interaction's products from the join table, or
// from its single product_id when it predates the join table. The page's
// interactions are the customer's between its lowest and highest id, so one
// fixed statement (interactions_customer_id, then the join table's key)
// reads them whatever the page size.
func (s *InteractionStore) attachProducts(ctx context.Context, items []interaction.Interaction, legacy map[int64]int64) error {
	lo, hi := items[0].ID, items[0].ID
	for _, in := range items {
		lo, hi = min(lo, in.ID), max(hi, in.ID)
	}
	rows, err := s.db.hotReader(ctx).QueryContext(ctx, "SELECT ip.interaction_id, "+productColumns+
		` FROM interactions i JOIN interaction_products ip ON ip.interaction_id = i.id
		JOIN products p ON p.id = ip.product_id
		WHERE i.customer_id = $1 AND i.id >= $2 AND i.id <= $3 ORDER BY ip.interaction_id, p.code`,
		items[0].CustomerID, lo, hi)
	if err != nil {
		return fmt.Errorf("interaction products: %w", err)
	}
	byID := map[int64][]interaction.Product{}
	defer rows.Close()
	for rows.Next() {
		var iid int64
		var p interaction.Product
		if err := rows.Scan(&iid, &p.ID, &p.Code, &p.Name, &p.NameEN, &p.Type); err != nil {
			return fmt.Errorf("interaction products: %w", err)
		}
		byID[iid] = append(byID[iid], p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("interaction products: %w", err)
	}
	for i := range items {
		if ps, ok := byID[items[i].ID]; ok {
			items[i].Products = ps
		} else if pid, ok := legacy[items[i].ID]; ok {
			ps, err := s.ProductsByRef(ctx, nil, []int64{pid})
			if err != nil {
				return err
			}
			items[i].Products = ps
		}
	}
	return nil
}

// DeclinedSince returns the products each customer declined at or after
// since, newest first: interactions_customer (customer_id, occurred_at)
// bounds the scan to the quiet window. Pre-join-table rows count through
// their single product_id.
func (s *InteractionStore) DeclinedSince(ctx context.Context, customerIDs []int64, since time.Time) (map[int64][]interaction.Quiet, error) {
	out := map[int64][]interaction.Quiet{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	args := []any{since.UTC()}
	for _, id := range customerIDs {
		args = append(args, id)
	}
	in := c360Marks(2, len(customerIDs))
	q := s.db.reader(ctx)
	if len(customerIDs) == 1 { // the 360 of one customer: one fixed statement
		q = s.db.hotReader(ctx)
	}
	rows, err := q.QueryContext(ctx, `SELECT i.customer_id, i.occurred_at, `+productColumns+`
		FROM interactions i JOIN interaction_products ip ON ip.interaction_id = i.id JOIN products p ON p.id = ip.product_id
		WHERE i.customer_id IN (`+in+`) AND i.occurred_at >= $1 AND i.response = 'declined'
		UNION ALL
		SELECT i.customer_id, i.occurred_at, `+productColumns+`
		FROM interactions i JOIN products p ON p.id = i.product_id
		WHERE i.customer_id IN (`+in+`) AND i.occurred_at >= $1 AND i.response = 'declined'
		  AND NOT EXISTS (SELECT 1 FROM interaction_products x WHERE x.interaction_id = i.id)
		ORDER BY 2 DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("declined products: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var q interaction.Quiet
		if err := rows.Scan(&cid, &q.DeclinedAt, &q.Product.ID, &q.Product.Code, &q.Product.Name, &q.Product.NameEN,
			&q.Product.Type); err != nil {
			return nil, fmt.Errorf("declined products: %w", err)
		}
		q.DeclinedAt = q.DeclinedAt.UTC()
		out[cid] = append(out[cid], q)
	}
	return out, rows.Err()
}
