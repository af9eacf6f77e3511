package demo

// product is one entry of the demo catalogue; its id is its position + 1.
type product struct {
	id                   int64
	code, name, nameEN   string
	kind                 string // products.type
	risk, termDays, rate int    // risk R1-R5 (0 unrated), term, rate in basis points
}

// Product types, as in the products table.
const (
	currentDeposit = "current_deposit"
	timeDeposit    = "time_deposit"
	wealthProduct  = "wealth"
	fundProduct    = "fund"
	insurance      = "insurance"
	loanProduct    = "loan"
	creditCard     = "credit_card"
)

// catalogue is the demo bank's products with names, terms and rates as a
// Chinese retail bank publishes them (rates of 2025).
func catalogue() []product {
	ps := []product{
		{code: "DEP-CUR-P", name: "个人活期储蓄", nameEN: "Personal current deposit", kind: currentDeposit, rate: 5},
		{code: "DEP-CUR-C", name: "单位活期存款", nameEN: "Corporate current deposit", kind: currentDeposit, rate: 5},
		{code: "DEP-TD-3M", name: "整存整取三个月", nameEN: "Time deposit 3 months", kind: timeDeposit, termDays: 91, rate: 65},
		{code: "DEP-TD-6M", name: "整存整取六个月", nameEN: "Time deposit 6 months", kind: timeDeposit, termDays: 182, rate: 85},
		{code: "DEP-TD-1Y", name: "整存整取一年", nameEN: "Time deposit 1 year", kind: timeDeposit, termDays: 365, rate: 95},
		{code: "DEP-TD-2Y", name: "整存整取二年", nameEN: "Time deposit 2 years", kind: timeDeposit, termDays: 730, rate: 105},
		{code: "DEP-TD-3Y", name: "整存整取三年", nameEN: "Time deposit 3 years", kind: timeDeposit, termDays: 1095, rate: 125},
		{code: "DEP-LCD-3Y", name: "大额存单三年期", nameEN: "Large certificate of deposit 3 years", kind: timeDeposit, termDays: 1095, rate: 155},
		{code: "DEP-TD-C1Y", name: "单位定期存款一年", nameEN: "Corporate time deposit 1 year", kind: timeDeposit, termDays: 365, rate: 100},
		{code: "WM-R1-CASH", name: "稳盈现金管理1号", nameEN: "Steady cash management No.1", kind: wealthProduct, risk: 1, rate: 165},
		{code: "WM-R2-90D", name: "稳享90天持有期理财", nameEN: "Steady 90-day holding", kind: wealthProduct, risk: 2, termDays: 90, rate: 240},
		{code: "WM-R2-1Y", name: "安鑫一年定开理财", nameEN: "Anxin one-year open-end", kind: wealthProduct, risk: 2, termDays: 365, rate: 280},
		{code: "WM-R3-FI", name: "睿远固收增强", nameEN: "Ruiyuan enhanced fixed income", kind: wealthProduct, risk: 3, termDays: 180, rate: 330},
		{code: "WM-R4-MIX", name: "锐进混合策略", nameEN: "Ruijin mixed strategy", kind: wealthProduct, risk: 4, termDays: 365, rate: 450},
		{code: "WM-R5-EQ", name: "进取权益精选", nameEN: "Enterprising equity select", kind: wealthProduct, risk: 5, termDays: 730, rate: 600},
		{code: "FD-MMF-A", name: "天天利货币市场基金A", nameEN: "Daily money market fund A", kind: fundProduct, risk: 1, rate: 150},
		{code: "FD-BOND", name: "纯债债券基金", nameEN: "Pure bond fund", kind: fundProduct, risk: 2, rate: 300},
		{code: "FD-BAL", name: "稳健平衡混合基金", nameEN: "Balanced mixed fund", kind: fundProduct, risk: 3},
		{code: "FD-CSI300", name: "沪深300指数基金", nameEN: "CSI 300 index fund", kind: fundProduct, risk: 4},
		{code: "FD-NEV", name: "新能源主题混合基金", nameEN: "New energy theme fund", kind: fundProduct, risk: 5},
		{code: "FD-CONS", name: "消费升级股票基金", nameEN: "Consumption upgrade equity fund", kind: fundProduct, risk: 5},
		{code: "INS-ANN", name: "金福年金保险", nameEN: "Jinfu annuity insurance", kind: insurance, risk: 1, termDays: 3650, rate: 250},
		{code: "INS-WL", name: "安康终身寿险", nameEN: "Ankang whole life insurance", kind: insurance, risk: 1, rate: 250},
		{code: "INS-PAR", name: "鑫享分红型两全保险", nameEN: "Xinxiang participating endowment", kind: insurance, risk: 2, termDays: 3650, rate: 300},
		{code: "LN-MORT", name: "个人住房贷款", nameEN: "Residential mortgage", kind: loanProduct, termDays: 10950, rate: 310},
		{code: "LN-CONS", name: "个人消费贷款", nameEN: "Personal consumer loan", kind: loanProduct, termDays: 1095, rate: 350},
		{code: "LN-BIZ", name: "普惠小微经营贷款", nameEN: "Small business loan", kind: loanProduct, termDays: 1095, rate: 380},
		{code: "CC-STD", name: "标准信用卡", nameEN: "Standard credit card", kind: creditCard},
		{code: "CC-PLT", name: "白金信用卡", nameEN: "Platinum credit card", kind: creditCard},
	}
	for i := range ps {
		ps[i].id = int64(i + 1)
	}
	return ps
}

// productIndex finds a catalogue entry by code; the catalogue is a code
// constant, so a miss is a programming error.
func productIndex(ps []product, code string) int {
	for i, p := range ps {
		if p.code == code {
			return i
		}
	}
	panic("demo: no product " + code)
}
