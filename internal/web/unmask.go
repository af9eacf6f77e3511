package web

import (
	"net/http"
	"slices"
	"strconv"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// accountNoField is the unmask field of an account number on the customer
// page; the account is named by the account parameter.
const accountNoField = "account_no"

// unmaskView is the reason form of one masked field and, once shown, its
// clear value.
type unmaskView struct {
	ID      int64
	Field   string
	Account int64 // the account of an account_no field, else 0
	Reason  string
	Invalid bool
	Shown   bool
	Value   string
}

// Key names the field's elements on the customer page: #f-<key> holds the
// value and #u-<key> the reason form (one per account for account numbers).
func (uv unmaskView) Key() string {
	if uv.Field == accountNoField {
		return accountNoField + "-" + strconv.FormatInt(uv.Account, 10)
	}
	return uv.Field
}

// Label is the catalogue key naming the field.
func (uv unmaskView) Label() string {
	if uv.Field == accountNoField {
		return "account.col.no"
	}
	return "customer.field." + uv.Field
}

// unmaskTarget reads the customer id, the field and, for an account number,
// the account of an unmask request; an unknown field or a malformed id is a
// 404 like an unknown customer.
func unmaskTarget(r *http.Request) (unmaskView, error) {
	notFound := kehu.Errorf(kehu.ENOTFOUND, "no such customer")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	uv := unmaskView{ID: id, Field: r.FormValue("field")}
	if err != nil || id <= 0 {
		return unmaskView{}, notFound
	}
	if uv.Field == accountNoField {
		uv.Account, err = strconv.ParseInt(r.FormValue("account"), 10, 64)
		if err != nil || uv.Account <= 0 {
			return unmaskView{}, notFound
		}
		return uv, nil
	}
	if !slices.Contains(customer.UnmaskFields(), uv.Field) {
		return unmaskView{}, notFound
	}
	return uv, nil
}

// unmaskForm asks for the reason. htmx swaps the form into the field's slot
// on the customer page; without JavaScript it is a page of its own.
func (s *server) unmaskForm(w http.ResponseWriter, r *http.Request) {
	uv, err := unmaskTarget(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ok, err := s.Customers.MayUnmask(r.Context(), uv.ID); err != nil || !ok {
		if err == nil {
			err = kehu.Errorf(kehu.EFORBIDDEN, "your role may not see masked values")
		}
		s.fail(w, r, err)
		return
	}
	if r.FormValue("cancel") != "" {
		// 取消: htmx empties the form's slot, which brings the 显示 link
		// back (CSS hides it while the slot holds a form); without
		// JavaScript, back to the customer page.
		if r.Header.Get("HX-Request") == "true" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Redirect(w, r, "/customers/"+strconv.FormatInt(uv.ID, 10), http.StatusSeeOther)
		return
	}
	s.renderUnmask(w, r, http.StatusOK, "unmask-form", uv)
}

// unmask shows the clear value after the service has checked the
// permission, the scope and the reason and recorded the audit entry.
func (s *server) unmask(w http.ResponseWriter, r *http.Request) {
	uv, err := unmaskTarget(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	uv.Reason = r.FormValue("reason")
	if uv.Field == accountNoField {
		uv.Value, err = s.Accounts.UnmaskAccountNo(r.Context(), uv.ID, uv.Account, uv.Reason)
	} else {
		var values map[string]string
		values, err = s.Customers.Unmask(r.Context(), uv.ID, []string{uv.Field}, uv.Reason)
		uv.Value = values[uv.Field]
	}
	if kehu.ErrorCode(err) == kehu.EINVALID {
		uv.Invalid, uv.Value = true, ""
		// The form sits in the field's slot; a success replaces the whole
		// field, a refusal only the form.
		w.Header().Set("HX-Retarget", "#u-"+uv.Key())
		w.Header().Set("HX-Reswap", "innerHTML")
		s.renderUnmask(w, r, http.StatusUnprocessableEntity, "unmask-form", uv)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	uv.Shown = true
	s.renderUnmask(w, r, http.StatusOK, "unmask-value", uv)
}

// renderUnmask renders block for htmx or the whole page otherwise.
func (s *server) renderUnmask(w http.ResponseWriter, r *http.Request, status int, block string, uv unmaskView) {
	if r.Header.Get("HX-Request") != "true" {
		block = "layout.html"
	}
	s.render(w, r, status, "unmask", block, s.newView(w, r, "vault.title", "customers", uv))
}
