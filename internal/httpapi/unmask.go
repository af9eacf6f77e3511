package httpapi

import "net/http"

// unmaskRequest is the body of POST /api/v1/customers/{id}/unmask.
type unmaskRequest struct {
	Fields []string `json:"fields"`
	Reason string   `json:"reason"`
}

// unmaskResult answers it: the clear values, which are never logged.
type unmaskResult struct {
	ID     int64             `json:"id"`
	Values map[string]string `json:"values"`
}

// unmaskCustomer returns clear values of masked fields. The service checks
// the permission, the scope and the reason and writes the audit record.
func (a *api) unmaskCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in unmaskRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	values, err := a.d.Customers.Unmask(r.Context(), id, in.Fields, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, unmaskResult{ID: id, Values: values})
	return nil
}
