package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"kehu/internal/campaign/report"
	"kehu/internal/i18n"
	"kehu/internal/privacy"
)

// XLSXType is the media type of an Excel workbook.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// campaignResultsXLSX answers the results workbook, in English for
// ?lang=en or an English Accept-Language, else in Chinese; ?members=none
// leaves the member list out. The workbook is built in memory first, so a
// refusal is still a problem document: a member list above the bulk-export
// threshold without an approved request is 403 approval-required.
func (a *api) campaignResultsXLSX(w http.ResponseWriter, r *http.Request) error {
	if a.d.CampaignReports == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "campaign results are not enabled on this server")
	}
	id, err := pathIDOf(r, "campaign")
	if err != nil {
		return err
	}
	lang := i18n.Chinese
	if l := r.URL.Query().Get("lang"); l == i18n.English || (l == "" && isEnglish(r.Header.Get("Accept-Language"))) {
		lang = i18n.English
	}
	var o report.Options
	switch m := r.URL.Query().Get("members"); m {
	case "", "all":
	case "none":
		o.NoMembers = true
	default:
		return newProblem(http.StatusUnprocessableEntity, ProblemValidation, "validation failed",
			FieldIssue{Field: "members", Message: "must be all or none"})
	}
	var buf bytes.Buffer
	if _, err := a.d.CampaignReports.ExportWith(r.Context(), id, lang, &buf, o); err != nil {
		var need *privacy.ApprovalRequiredError
		if errors.As(err, &need) {
			// The member list is a bulk export: refused whole, never cut
			// silently; the aggregates name no customer.
			return &Problem{Type: ProblemApprovalRequired, Title: "Approval required", Status: http.StatusForbidden,
				Detail: "the member list: " + need.Error() + "; members=none exports the results without it"}
		}
		return err
	}
	h := w.Header()
	h.Set("Content-Type", XLSXType)
	h.Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(id, 10)+`-results.xlsx"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}

// isEnglish reports whether an Accept-Language header prefers English.
func isEnglish(header string) bool {
	return len(header) >= 2 && (header[:2] == "en" || header[:2] == "EN")
}
