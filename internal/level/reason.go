package level

import (
	"strconv"
	"strings"
)

// Reasons are shown on the customer 360 page, in the API and in exports, so
// the level package words them itself (Simplified Chinese and English) rather
// than every caller rebuilding the sentence; tier names match the UI
// catalogue's level.* labels (a test checks).
var (
	tierNames = map[string][2]string{
		"standard": {"普通", "Standard"}, "gold": {"金卡", "Gold"}, "platinum": {"白金", "Platinum"},
		"diamond": {"钻石", "Diamond"}, "private": {"私行", "Private banking"},
	}
	criterionNames = map[string][2]string{
		CriterionAUM:          {"AUM", "AUM"},
		CriterionAUMAvg3M:     {"近3月月末平均AUM", "3-month average month-end AUM"},
		CriterionTransactions: {"近90天交易笔数", "90-day transactions"},
		CriterionContribution: {"年贡献度", "Annual contribution"},
	}
)

// TierName returns the display name of a level in lang ("zh-CN" or "en").
func TierName(level, lang string) string {
	if n, ok := tierNames[level]; ok {
		return n[langIndex(lang)]
	}
	return level
}

// CriterionName returns the display name of a criterion in lang.
func CriterionName(criterion, lang string) string {
	if n, ok := criterionNames[criterion]; ok {
		return n[langIndex(lang)]
	}
	return criterion
}

func langIndex(lang string) int {
	if strings.HasPrefix(lang, "en") {
		return 1
	}
	return 0
}

// Text words the reason in lang: "AUM ¥623,450.00 ≥ ¥500,000.00（白金）",
// "90-day transactions 12 < 30 (needed for Gold)".
func (r Reason) Text(lang string) string {
	en := langIndex(lang) == 1
	if r.Criterion == ReasonCorporate {
		if en {
			return "Corporate customers are not tiered by the retail level rule"
		}
		return "对公客户不参与零售客户等级评定"
	}
	value, threshold := FormatMoney(r.Value), FormatMoney(r.Threshold)
	if r.Criterion == CriterionTransactions {
		value, threshold = strconv.FormatInt(r.Value, 10), strconv.FormatInt(r.Threshold, 10)
	}
	name, tier := CriterionName(r.Criterion, lang), TierName(r.Tier, lang)
	switch {
	case r.Met && en:
		return name + " " + value + " ≥ " + threshold + " (" + tier + ")"
	case r.Met:
		return name + " " + value + " ≥ " + threshold + "（" + tier + "）"
	case en:
		return name + " " + value + " < " + threshold + " (needed for " + tier + ")"
	}
	return name + " " + value + " < " + threshold + "（升" + tier + "需达到）"
}

// FormatMoney shows fen as ¥1,234.56 with integer arithmetic.
func FormatMoney(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	yuan := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, c := range yuan {
		if i > 0 && (len(yuan)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	cents := fen % 100
	return sign + "¥" + b.String() + "." + string(rune('0'+cents/10)) + string(rune('0'+cents%10))
}
