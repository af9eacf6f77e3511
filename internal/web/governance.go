package web

import "net/http"

// governanceRoutes adds the data-governance pages: 客户等级规则, 数据字典 and
// 数据质量 (docs/GOVERNANCE.md).
func (s *server) governanceRoutes(mux *http.ServeMux) {
	s.levelsRoutes(mux)
	s.dictionaryRoutes(mux)
	s.qualityRoutes(mux)
}
