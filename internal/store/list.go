package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
)

// listWhere is the shape of the store's filtered lists: selectSQL (SELECT …
// FROM …, without WHERE) narrowed by w's conditions, ordered by order (the
// keyset the list pages down) and cut at limit rows, each row scanned; what
// names the list in errors. w's parameters come first, the limit last.
func listWhere[T any](ctx context.Context, q querier, what, selectSQL string, w where, order string, limit int,
	scan func(row interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	args := append(slices.Clip(w.args), limit)
	rows, err := q.QueryContext(ctx, selectSQL+w.sql()+" ORDER BY "+order+" LIMIT $"+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return collect(rows, what, func(r *sql.Rows) (T, error) { return scan(r) })
}
