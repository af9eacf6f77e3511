package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// auditExport streams the records matching the page's filter as CSV. The
// rows come straight from audit.Log.Export, which checks audit.read, caps the
// size (audit.MaxExport) and records the export with its row count, so the
// UI cannot export more, or more quietly, than the API.
func (s *server) auditExport(w http.ResponseWriter, r *http.Request) {
	_, f, invalid := s.auditFilter(r.URL.Query())
	if len(invalid) > 0 {
		// A bad link is refused rather than widened to "everything".
		s.fail(w, r, kehu.Errorf(kehu.EINVALID, "invalid audit filter"))
		return
	}
	lang := stateOf(r).lang
	t := func(key string) string { return s.i18n.T(lang, key) }
	label := func(prefix, code string) string {
		if m, ok := s.i18n.Lookup(lang, prefix+code); ok {
			return m
		}
		return code
	}
	var cw *csv.Writer
	start := func() {
		// Headers wait for the first row (or the end), so a refusal can
		// still be the 403 page instead of a half-written file.
		name := "kehu-audit-" + s.Clock.Now().In(s.loc).Format("20060102-150405") + ".csv"
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.WriteHeader(http.StatusOK)
		// A BOM, so spreadsheet programs used in Chinese offices read UTF-8.
		_, _ = w.Write([]byte("\ufeff"))
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{t("audit.col.id"), t("audit.col.time"), t("audit.col.actor"), t("audit.col.role"),
			t("audit.col.org"), t("audit.col.action"), t("audit.col.action_code"), t("audit.col.customer"),
			t("audit.col.object"), t("audit.col.changes"), t("audit.col.reason"), t("audit.col.count"),
			t("audit.col.outcome"), t("audit.col.ip")})
	}
	err := s.Audit.Export(r.Context(), f, func(rec audit.Record) error {
		if cw == nil {
			start()
		}
		outcome := rec.Outcome
		if outcome == "" {
			outcome = "ok"
		}
		return cw.Write(cells(strconv.FormatInt(rec.ID, 10), rec.At.In(s.loc).Format("2006-01-02 15:04:05"),
			rec.Username, label("role.", rec.Role), idText(rec.OrgID), label("audit.action.", rec.Action), rec.Action,
			idText(rec.CustomerID), rec.Object, changesText(rec.Changes), rec.Reason, strconv.Itoa(rec.Count),
			label("audit.outcome.", outcome), rec.IP))
	})
	if cw == nil {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		start() // nothing matched: the header row alone
	}
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		// The status line is gone; the log has the cause, and the missing
		// audit.export record shows the file is incomplete.
		s.Logger.ErrorContext(r.Context(), "audit export failed", "path", kehu.LogPath(r.URL.Path), "err", err)
	}
}

// cells neutralises spreadsheet formulas: usernames of failed sign-ins and
// reasons are typed by anyone, and a cell starting with = + - @ would run as
// a formula when an auditor opens the file.
func cells(vals ...string) []string {
	for i, v := range vals {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			vals[i] = "'" + v
		}
	}
	return vals
}

// idText is an id column, empty for "none".
func idText(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// changesText is "field: old → new" per change, as the page shows them.
func changesText(cs []audit.Change) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Field+": "+c.Old+" → "+c.New)
	}
	return strings.Join(parts, "; ")
}
