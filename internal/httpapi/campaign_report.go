package httpapi

import (
	"bytes"
	"net/http"
	"strconv"

	"kehu/internal/i18n"
)

// XLSXType is the media type of an Excel workbook.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// campaignResultsXLSX answers the results workbook, in English for
// ?lang=en or an English Accept-Language, else in Chinese. The workbook is
// built in memory first, so a refusal is still a problem document.
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
	var buf bytes.Buffer
	if _, err := a.d.CampaignReports.Export(r.Context(), id, lang, &buf); err != nil {
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
