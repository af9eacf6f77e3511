package httpapi

import "kehu/internal/access"

// governanceRoutes are the customer level (its versioned rule, recompute
// runs, a customer's level and reasons), the data dictionary and the
// data-quality results (docs/GOVERNANCE.md). Reading rules and the
// dictionary needs only customer.read (drafts are shown to rule managers
// only); changing them needs level.manage or governance.manage; quality
// results need quality.read and are limited to the caller's subtree.
func governanceRoutes() []route {
	return []route{
		{"GET /api/v1/level-rules", signedIn, access.CustomerRead, (*api).listLevelRules},
		{"POST /api/v1/level-rules", signedIn, access.LevelManage, (*api).createLevelRule},
		{"GET /api/v1/level-rules/{version}", signedIn, access.CustomerRead, (*api).getLevelRule},
		{"PUT /api/v1/level-rules/{version}", signedIn, access.LevelManage, (*api).updateLevelRule},
		{"POST /api/v1/level-rules/{version}/preview", signedIn, access.LevelManage, (*api).previewLevelRule},
		{"POST /api/v1/level-rules/{version}/activate", signedIn, access.LevelManage, (*api).activateLevelRule},
		{"GET /api/v1/level-runs", signedIn, access.LevelManage, (*api).listLevelRuns},
		{"POST /api/v1/level-runs", signedIn, access.LevelManage, (*api).startLevelRun},
		{"GET /api/v1/level-runs/{id}", signedIn, access.LevelManage, (*api).getLevelRun},
		{"GET /api/v1/customers/{id}/level", signedIn, access.CustomerRead, (*api).customerLevel},

		{"GET /api/v1/dictionary", signedIn, access.CustomerRead, (*api).listDictionary},
		{"GET /api/v1/dictionary/{table}/{column}", signedIn, access.CustomerRead, (*api).getDictionaryEntry},
		{"PUT /api/v1/dictionary/{table}/{column}", signedIn, access.GovernanceManage, (*api).updateDictionaryEntry},

		{"GET /api/v1/data-quality", signedIn, access.QualityRead, (*api).dataQuality},
		{"GET /api/v1/data-quality/runs", signedIn, access.QualityRead, (*api).listQualityRuns},
		{"POST /api/v1/data-quality/runs", signedIn, access.GovernanceManage, (*api).startQualityRun},
	}
}
