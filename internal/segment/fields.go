package segment

import (
	"slices"

	"kehu/internal/governance"
	"kehu/internal/ingest"
)

// Type is what a field's values are; it decides the operators a condition
// may use and how its value is read.
type Type string

const (
	TypeInteger Type = "integer"
	// TypeMoney values are yuan in rules (the "≥ ¥100,000" is
	// 100000) with at most two decimals; inside Kehu money is fen, and the
	// plan holds fen.
	TypeMoney Type = "money"
	TypeEnum  Type = "enum"
	TypeText  Type = "text"
	TypeBool  Type = "boolean"
	// TypeDate values are "YYYY-MM-DD", calendar days in Asia/Shanghai.
	TypeDate Type = "date"
	// TypeID values are row ids (an organisation, a user, a tag).
	TypeID Type = "id"
)

// Op is a comparison operator of a condition.
type Op string

const (
	OpEq         Op = "="
	OpNe         Op = "!="
	OpLt         Op = "<"
	OpLe         Op = "<="
	OpGt         Op = ">"
	OpGe         Op = ">="
	OpIn         Op = "in"
	OpNotIn      Op = "not_in"
	OpBetween    Op = "between"
	OpContains   Op = "contains"
	OpStartsWith Op = "starts_with"
	OpIsNull     Op = "is_null"
	OpIsNotNull  Op = "is_not_null"
)

// AllOps are the operators of the rule language, in the order the builder
// offers them.
var AllOps = []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpIn, OpNotIn, OpBetween, OpContains, OpStartsWith,
	OpIsNull, OpIsNotNull}

// Categories group the field picker.
const (
	CatCustomer     = "customer"
	CatRisk         = "risk"
	CatValue        = "value"
	CatHoldings     = "holdings"
	CatTransactions = "transactions"
	CatEvents       = "events"
	CatTags         = "tags"
	CatContact      = "contact"
)

// Categories in picker order.
var Categories = []string{CatCustomer, CatRisk, CatValue, CatHoldings, CatTransactions, CatEvents, CatTags, CatContact}

// Option is one allowed value of an enum field (or of a parameter).
type Option struct {
	Value   string `json:"value"`
	LabelZH string `json:"label_zh"`
	LabelEN string `json:"label_en"`
}

// Param is an extra member of a condition on a field that needs one (the
// event kind of event_count).
type Param struct {
	Name     string   `json:"name"`
	LabelZH  string   `json:"label_zh"`
	LabelEN  string   `json:"label_en"`
	Required bool     `json:"required"`
	Options  []Option `json:"options"`
}

// DictRef points at the governed data dictionary's entry the field is read
// from (internal/governance), for its definition and sensitivity.
type DictRef struct {
	Table  string `json:"table"`
	Column string `json:"column"`
}

// Field is one entry of the catalogue a rule may name.
type Field struct {
	Name     string `json:"name"`
	Category string `json:"category"`
	LabelZH  string `json:"label_zh"`
	LabelEN  string `json:"label_en"`
	Type     Type   `json:"type"`
	Ops      []Op   `json:"ops"`
	// Enum lists the values of an enum field (and labels the levels of
	// risk_level).
	Enum []Option `json:"enum,omitempty"`
	// Unit: "yuan", "years", "count", "days" or "".
	Unit string `json:"unit,omitempty"`
	// Min and Max bound integer values.
	Min *int64 `json:"min,omitempty"`
	Max *int64 `json:"max,omitempty"`
	// Window: the condition must say window_days, the number of days back
	// from the moment of evaluation the aggregate covers.
	Window bool    `json:"window"`
	Params []Param `json:"params,omitempty"`
	// Set: the customer has any number of values (products held, tags,
	// consents). A positive operator (=, in, <, …) holds when some value
	// satisfies it; != and not_in hold when none does; is_null holds when
	// there are no values at all.
	Set bool `json:"set"`
	// Nullable: the value may be unknown for a customer (see the package
	// comment for how unknown values compare).
	Nullable bool     `json:"nullable"`
	Dict     *DictRef `json:"dictionary,omitempty"`
}

// The catalogue's field names.
const (
	FCustomerType    = "customer_type"
	FGender          = "gender"
	FAge             = "age"
	FRegion          = "region"
	FIndustry        = "industry"
	FStatus          = "status"
	FCreatedOn       = "created_on"
	FOrg             = "org"
	FOwner           = "owner"
	FRiskLevel       = "risk_level"
	FRiskValid       = "risk_valid"
	FLevel           = "level"
	FAUM             = "aum"
	FHoldsType       = "holds_product_type"
	FHoldsCode       = "holds_product_code"
	FHoldsRisk       = "holds_product_risk"
	FInflowSum       = "inflow_sum"
	FOutflowSum      = "outflow_sum"
	FTxnCount        = "txn_count"
	FEventCount      = "event_count"
	FHasTag          = "has_tag"
	FConsent         = "consent"
	FDoNotCall       = "do_not_call"
	MaxWindowDays    = 400 // a little over a year: "the last 12 months" and then some
	maxListValues    = 100
	maxTextValue     = 100
	maxMoneyYuan     = 1_000_000_000_000 // ¥1 trillion
	maxCountValue    = 1_000_000_000
	ParamEvent       = "event"
	ParamChannel     = "channel"
	riskValidityYear = 1 // as c360.RiskValidityYears: an assessment holds a year
)

func i64(v int64) *int64 { return &v }

var (
	numOps      = []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpIn, OpNotIn, OpBetween}
	enumOps     = []Op{OpEq, OpNe, OpIn, OpNotIn}
	textOps     = []Op{OpEq, OpNe, OpIn, OpNotIn, OpContains, OpStartsWith}
	boolOps     = []Op{OpEq, OpNe}
	nullOps     = []Op{OpIsNull, OpIsNotNull}
	withNull    = func(ops []Op) []Op { return slices.Concat(ops, nullOps) }
	productType = []Option{
		{"current_deposit", "活期存款", "Current deposit"}, {"time_deposit", "定期存款", "Time deposit"},
		{"wealth", "理财", "Wealth management"}, {"fund", "基金", "Fund"}, {"insurance", "保险", "Insurance"},
		{"loan", "贷款", "Loan"}, {"credit_card", "信用卡", "Credit card"},
	}
	riskLevels = []Option{{"1", "C1 保守型", "C1 conservative"}, {"2", "C2 稳健型", "C2 cautious"},
		{"3", "C3 平衡型", "C3 balanced"}, {"4", "C4 成长型", "C4 growth"}, {"5", "C5 进取型", "C5 aggressive"}}
	productRisk = []Option{{"1", "R1 谨慎型", "R1 low"}, {"2", "R2 稳健型", "R2 moderately low"},
		{"3", "R3 平衡型", "R3 moderate"}, {"4", "R4 进取型", "R4 moderately high"}, {"5", "R5 激进型", "R5 high"}}
	consentChannels = []Option{{"sms", "短信", "SMS"}, {"app_push", "App 推送", "App push"}, {"email", "电子邮件", "E-mail"},
		{"wechat", "微信", "WeChat"}, {"phone", "电话", "Phone"}, {"rm_visit", "客户经理拜访", "RM visit"}}
)

// catalogue is the list of fields, in picker order. Every field maps in
// internal/store/segment_sql.go to fixed SQL, and in eval.go to a Facts
// member; TestCatalogueComplete checks both.
var catalogue = []Field{
	{Name: FCustomerType, Category: CatCustomer, LabelZH: "客户类型", LabelEN: "Customer type", Type: TypeEnum, Ops: enumOps,
		Enum: []Option{{"individual", "个人", "Individual"}, {"corporate", "对公", "Corporate"}}, Dict: &DictRef{"customers", "type"}},
	{Name: FGender, Category: CatCustomer, LabelZH: "性别", LabelEN: "Gender", Type: TypeEnum, Ops: withNull(enumOps),
		Enum: []Option{{"M", "男", "Male"}, {"F", "女", "Female"}}, Nullable: true, Dict: &DictRef{"customers", "gender"}},
	{Name: FAge, Category: CatCustomer, LabelZH: "年龄", LabelEN: "Age", Type: TypeInteger, Ops: withNull(numOps), Unit: "years",
		Min: i64(0), Max: i64(150), Nullable: true, Dict: &DictRef{"customers", "birth_date"}},
	{Name: FRegion, Category: CatCustomer, LabelZH: "行政区划代码", LabelEN: "Region code", Type: TypeText,
		Ops: withNull(textOps), Nullable: true, Dict: &DictRef{"customers", "region_code"}},
	{Name: FIndustry, Category: CatCustomer, LabelZH: "行业", LabelEN: "Industry", Type: TypeText, Ops: withNull(textOps),
		Nullable: true, Dict: &DictRef{"customers", "industry"}},
	{Name: FStatus, Category: CatCustomer, LabelZH: "客户状态", LabelEN: "Status", Type: TypeEnum, Ops: enumOps,
		Enum: []Option{{"active", "正常", "Active"}, {"dormant", "睡眠", "Dormant"}, {"closed", "已销户", "Closed"},
			{"erased", "已删除", "Erased"}}, Dict: &DictRef{"customers", "status"}},
	{Name: FCreatedOn, Category: CatCustomer, LabelZH: "建档日期", LabelEN: "Customer since", Type: TypeDate,
		Ops: numOps, Dict: &DictRef{"customers", "created_at"}},
	{Name: FOrg, Category: CatCustomer, LabelZH: "归属机构（含下级）", LabelEN: "Home organisation (with its subtree)",
		Type: TypeID, Ops: enumOps, Dict: &DictRef{"customers", "org_id"}},
	{Name: FOwner, Category: CatCustomer, LabelZH: "主管客户经理", LabelEN: "Primary relationship manager", Type: TypeID,
		Ops: withNull(enumOps), Nullable: true, Dict: &DictRef{"customers", "owner_id"}},

	{Name: FRiskLevel, Category: CatRisk, LabelZH: "风险承受能力等级", LabelEN: "Risk tolerance", Type: TypeInteger,
		Ops: withNull(numOps), Enum: riskLevels, Min: i64(1), Max: i64(5), Nullable: true, Dict: &DictRef{"customers", "risk_level"}},
	{Name: FRiskValid, Category: CatRisk, LabelZH: "风险评估在有效期内", LabelEN: "Risk assessment valid", Type: TypeBool,
		Ops: boolOps, Dict: &DictRef{"customers", "risk_assessed_at"}},

	{Name: FLevel, Category: CatValue, LabelZH: "客户等级", LabelEN: "Customer level", Type: TypeEnum, Ops: enumOps,
		Enum: []Option{{"standard", "普通", "Standard"}, {"gold", "金卡", "Gold"}, {"platinum", "白金", "Platinum"},
			{"diamond", "钻石", "Diamond"}, {"private", "私人银行", "Private banking"}}, Dict: &DictRef{"customers", "level"}},
	{Name: FAUM, Category: CatValue, LabelZH: "管理资产（AUM）", LabelEN: "Assets under management", Type: TypeMoney,
		Ops: numOps, Unit: "yuan", Dict: &DictRef{"customers", "aum"}},

	{Name: FHoldsType, Category: CatHoldings, LabelZH: "持有产品类型", LabelEN: "Holds product type", Type: TypeEnum,
		Ops: withNull(enumOps), Enum: productType, Set: true, Dict: &DictRef{"accounts", "product_id"}},
	{Name: FHoldsCode, Category: CatHoldings, LabelZH: "持有产品代码", LabelEN: "Holds product code", Type: TypeText,
		Ops: withNull(textOps), Set: true, Dict: &DictRef{"holdings", "product_id"}},
	{Name: FHoldsRisk, Category: CatHoldings, LabelZH: "持有产品风险等级", LabelEN: "Holds product of risk level",
		Type: TypeInteger, Ops: withNull(numOps), Enum: productRisk, Min: i64(1), Max: i64(5), Set: true,
		Dict: &DictRef{"holdings", "product_id"}},

	{Name: FInflowSum, Category: CatTransactions, LabelZH: "近 N 天资金流入合计", LabelEN: "Inflow in the last N days",
		Type: TypeMoney, Ops: numOps, Unit: "yuan", Window: true, Dict: &DictRef{"transactions", "amount"}},
	{Name: FOutflowSum, Category: CatTransactions, LabelZH: "近 N 天资金流出合计", LabelEN: "Outflow in the last N days",
		Type: TypeMoney, Ops: numOps, Unit: "yuan", Window: true, Dict: &DictRef{"transactions", "amount"}},
	{Name: FTxnCount, Category: CatTransactions, LabelZH: "近 N 天交易笔数", LabelEN: "Transactions in the last N days",
		Type: TypeInteger, Ops: numOps, Unit: "count", Min: i64(0), Max: i64(maxCountValue), Window: true,
		Dict: &DictRef{"transactions", "occurred_at"}},

	{Name: FEventCount, Category: CatEvents, LabelZH: "近 N 天渠道行为次数", LabelEN: "Channel events in the last N days",
		Type: TypeInteger, Ops: numOps, Unit: "count", Min: i64(0), Max: i64(maxCountValue), Window: true,
		Params: []Param{
			{Name: ParamEvent, LabelZH: "行为", LabelEN: "Event", Required: true, Options: plainOptions(ingest.EventKinds)},
			{Name: ParamChannel, LabelZH: "渠道", LabelEN: "Channel", Options: plainOptions(ingest.Channels)},
		}, Dict: &DictRef{"channel_events", "kind"}},

	{Name: FHasTag, Category: CatTags, LabelZH: "带有标签", LabelEN: "Has tag", Type: TypeID, Ops: withNull(enumOps),
		Set: true},

	{Name: FConsent, Category: CatContact, LabelZH: "已同意营销渠道", LabelEN: "Marketing consent given for",
		Type: TypeEnum, Ops: withNull(enumOps), Enum: consentChannels, Set: true},
	{Name: FDoNotCall, Category: CatContact, LabelZH: "要求勿电话联系", LabelEN: "Asked not to be called", Type: TypeBool,
		Ops: boolOps},
}

func plainOptions(values []string) []Option {
	out := make([]Option, len(values))
	for i, v := range values {
		out[i] = Option{Value: v, LabelZH: v, LabelEN: v}
	}
	return out
}

// byName indexes the catalogue.
var byName = func() map[string]*Field {
	m := make(map[string]*Field, len(catalogue))
	for i := range catalogue {
		m[catalogue[i].Name] = &catalogue[i]
	}
	return m
}()

// Catalogue returns a copy of the field catalogue.
func Catalogue() []Field { return slices.Clone(catalogue) }

// Lookup returns the catalogue entry of a field name.
func Lookup(name string) (*Field, bool) {
	f, ok := byName[name]
	return f, ok
}

// Dictionary returns the governed dictionary entry of f, if there is one.
func (f Field) Dictionary() (governance.Entry, bool) {
	if f.Dict == nil {
		return governance.Entry{}, false
	}
	return governance.Lookup(f.Dict.Table, f.Dict.Column)
}

// allows reports whether op may be used on f.
func (f *Field) allows(op Op) bool { return slices.Contains(f.Ops, op) }
