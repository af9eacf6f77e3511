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

// campaignResultsXLSX answers the results workbook (resultsXLSX);
// ?members=none leaves the member list out.
func (a *api) campaignResultsXLSX(w http.ResponseWriter, r *http.Request) error {
	if a.d.CampaignReports == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "campaign results are not enabled on this server")
	}
	id, err := pathIDOf(r, "campaign")
	if err != nil {
		return err
	}
	return resultsXLSX(w, r, "members", "member list", "campaign-"+strconv.FormatInt(id, 10)+"-results.xlsx",
		func(lang string, none bool, buf *bytes.Buffer) error {
			_, err := a.d.CampaignReports.ExportWith(r.Context(), id, lang, buf, report.Options{NoMembers: none})
			return err
		})
}

// resultsXLSX is the answer the campaign and journey results workbooks
// share: the language (?lang=en or an English Accept-Language, else
// Chinese), ?<param>=all|none for the customer list, and the workbook
// built in memory by export first, so a refusal is still a problem
// document — a list above the bulk-export threshold without an approved
// request is 403 approval-required, refused whole and never cut silently
// (the aggregates, with <param>=none, name no customer).
func resultsXLSX(w http.ResponseWriter, r *http.Request, param, list, filename string,
	export func(lang string, none bool, buf *bytes.Buffer) error) error {
	lang := i18n.Chinese
	if l := r.URL.Query().Get("lang"); l == i18n.English || (l == "" && isEnglish(r.Header.Get("Accept-Language"))) {
		lang = i18n.English
	}
	none := false
	switch v := r.URL.Query().Get(param); v {
	case "", "all":
	case "none":
		none = true
	default:
		return newProblem(http.StatusUnprocessableEntity, ProblemValidation, "validation failed",
			FieldIssue{Field: param, Message: "must be all or none"})
	}
	var buf bytes.Buffer
	if err := export(lang, none, &buf); err != nil {
		var need *privacy.ApprovalRequiredError
		if errors.As(err, &need) {
			return &Problem{Type: ProblemApprovalRequired, Title: "Approval required", Status: http.StatusForbidden,
				Detail: "the " + list + ": " + need.Error() + "; " + param + "=none exports the results without it"}
		}
		return err
	}
	h := w.Header()
	h.Set("Content-Type", XLSXType)
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}

// isEnglish reports whether an Accept-Language header prefers English.
func isEnglish(header string) bool {
	return len(header) >= 2 && (header[:2] == "en" || header[:2] == "EN")
}
