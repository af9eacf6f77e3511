package importer

import (
	"slices"
	"strings"

	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// Kinds of file an import reads.
const (
	KindCustomers     = "customers"
	KindAccounts      = "accounts"
	KindHoldings      = "holdings"
	KindTransactions  = "transactions"
	KindRelationships = "relationships"
	KindEvents        = "events"
)

// Kinds lists every kind in the order a bank loads them: customers before
// what references them.
var Kinds = []string{KindCustomers, KindAccounts, KindHoldings, KindTransactions, KindRelationships, KindEvents}

// ValidKind reports whether k is a kind of import.
func ValidKind(k string) bool { return slices.Contains(Kinds, k) }

// Column is one canonical column of a kind: its name, the headers bank
// extracts commonly use for it, whether a row needs it, and how its value
// is masked when a reject or a preview shows it.
type Column struct {
	Name     string     `json:"name"`
	Aliases  []string   `json:"aliases"`
	Required bool       `json:"required"`
	Mask     vault.Rule `json:"-"`
}

// Columns per kind. The customer columns are the canonical list;
// the others follow the foundation schema. Aliases are matched after
// normalising the header (see headerKey), so 证件号码, "证件号码*" and
// "ID Number" all find id_number.
var columns = map[string][]Column{
	KindCustomers: {
		{Name: "source_system", Aliases: []string{"来源系统", "系统", "source"}},
		{Name: "source_id", Required: true, Aliases: []string{"客户号", "客户编号", "客户id", "核心客户号", "源系统客户号", "customer_no", "customer_id", "cif", "cif_no"}},
		{Name: "type", Aliases: []string{"客户类型", "客户类别", "类型", "对公对私", "customer_type"}},
		{Name: "name", Required: true, Aliases: []string{"姓名", "客户名称", "客户姓名", "名称", "户名", "企业名称", "单位名称", "full_name"}, Mask: vault.RuleName},
		{Name: "id_type", Aliases: []string{"证件类型", "证件种类", "document_type"}},
		{Name: "id_number", Required: true, Aliases: []string{"证件号码", "证件号", "身份证号", "身份证号码", "统一社会信用代码", "document_number", "id_no"}, Mask: vault.RuleIDNumber},
		{Name: "mobile", Aliases: []string{"手机号码", "手机号", "手机", "移动电话", "联系电话", "mobile_phone", "phone"}, Mask: vault.RuleMobile},
		{Name: "email", Aliases: []string{"电子邮箱", "邮箱", "电子邮件", "e-mail", "mail"}, Mask: vault.RuleEmail},
		{Name: "gender", Aliases: []string{"性别", "sex"}},
		{Name: "birth_date", Aliases: []string{"出生日期", "生日", "出生年月日", "birthday", "date_of_birth"}, Mask: vault.RuleWithhold},
		{Name: "address", Aliases: []string{"地址", "联系地址", "住址", "家庭住址", "通讯地址", "注册地址"}, Mask: vault.RuleAddress},
		{Name: "org_id", Required: true, Aliases: []string{"机构号", "机构", "机构代码", "所属机构", "开户机构", "归属机构", "网点", "网点号", "org", "org_code", "branch", "branch_code"}},
		{Name: "owner_id", Aliases: []string{"客户经理", "客户经理号", "客户经理工号", "管户经理", "管户客户经理", "rm", "owner", "relationship_manager"}},
		{Name: "risk_level", Aliases: []string{"风险等级", "风险承受能力", "风险评级", "风险测评等级", "risk"}},
		{Name: "risk_assessed_at", Aliases: []string{"风险测评日期", "测评日期", "风险评估日期", "评估日期", "risk_assessed_on", "risk_date"}},
		{Name: "industry", Aliases: []string{"行业", "所属行业", "行业类别"}},
		{Name: "registered_capital", Aliases: []string{"注册资本", "注册资金"}},
		{Name: "updated_at", Aliases: []string{"更新时间", "最后更新时间", "最后修改时间", "修改时间", "last_modified", "as_of"}},
	},
	KindAccounts: {
		{Name: "source_system", Aliases: []string{"来源系统", "系统", "source"}},
		{Name: "account_no", Required: true, Aliases: []string{"账号", "帐号", "账户号", "账户", "卡号", "account", "account_number", "card_no"}, Mask: vault.RuleAccountNo},
		{Name: "customer_source_id", Aliases: []string{"客户号", "客户编号", "核心客户号", "customer_no", "cif", "cif_no"}},
		{Name: "customer_source_system", Aliases: []string{"客户来源系统", "客户号所属系统"}},
		{Name: "customer_id_type", Aliases: []string{"证件类型", "客户证件类型"}},
		{Name: "customer_id_number", Aliases: []string{"证件号码", "客户证件号码", "身份证号", "统一社会信用代码"}, Mask: vault.RuleIDNumber},
		{Name: "product_code", Required: true, Aliases: []string{"产品代码", "产品号", "产品编号", "product"}},
		{Name: "currency", Aliases: []string{"币种", "币别", "ccy"}},
		{Name: "balance", Aliases: []string{"余额", "账户余额", "当前余额"}},
		{Name: "credit_limit", Aliases: []string{"授信额度", "信用额度", "额度", "limit"}},
		{Name: "status", Aliases: []string{"状态", "账户状态"}},
		{Name: "org_id", Aliases: []string{"开户机构", "机构号", "机构", "网点", "org", "branch"}},
		{Name: "opened_on", Required: true, Aliases: []string{"开户日期", "开户日", "opened", "open_date"}},
		{Name: "matures_on", Aliases: []string{"到期日", "到期日期", "maturity", "maturity_date"}},
	},
	KindHoldings: {
		{Name: "source_system", Aliases: []string{"来源系统", "系统", "source"}},
		{Name: "holding_id", Aliases: []string{"持仓编号", "持仓号", "份额编号", "position_id"}},
		{Name: "account_no", Required: true, Aliases: []string{"账号", "帐号", "资金账号", "理财账号", "account"}, Mask: vault.RuleAccountNo},
		{Name: "product_code", Required: true, Aliases: []string{"产品代码", "产品号", "产品编号", "product"}},
		{Name: "amount", Required: true, Aliases: []string{"市值", "持仓市值", "参考市值", "金额", "market_value", "value"}},
		{Name: "cost", Aliases: []string{"成本", "持仓成本", "购买金额", "本金"}},
		{Name: "acquired_on", Required: true, Aliases: []string{"购买日期", "买入日期", "起息日", "acquired", "purchase_date"}},
		{Name: "matures_on", Aliases: []string{"到期日", "到期日期", "maturity", "maturity_date"}},
	},
	KindTransactions: {
		{Name: "source_system", Aliases: []string{"来源系统", "系统", "source"}},
		{Name: "reference", Aliases: []string{"流水号", "交易流水号", "交易序号", "交易编号", "txn_id", "transaction_id", "serial_no"}},
		{Name: "account_no", Required: true, Aliases: []string{"账号", "帐号", "卡号", "account"}, Mask: vault.RuleAccountNo},
		{Name: "occurred_at", Required: true, Aliases: []string{"交易时间", "交易日期", "记账时间", "发生时间", "time", "date"}},
		{Name: "amount", Required: true, Aliases: []string{"交易金额", "发生额", "金额"}},
		{Name: "direction", Aliases: []string{"借贷标志", "借贷方向", "收支", "收付标志", "dc", "debit_credit"}},
		{Name: "balance_after", Aliases: []string{"余额", "交易后余额", "账户余额", "balance"}},
		{Name: "kind", Aliases: []string{"交易类型", "交易种类", "摘要代码", "type"}},
		{Name: "channel", Aliases: []string{"交易渠道", "渠道"}},
		{Name: "counterparty", Aliases: []string{"对方户名", "对手方", "交易对手", "对方名称"}, Mask: vault.RuleName},
		{Name: "description", Aliases: []string{"摘要", "附言", "备注", "用途", "memo", "remark"}},
	},
	KindRelationships: {
		{Name: "source_system", Aliases: []string{"来源系统", "系统", "source"}},
		{Name: "customer_source_system", Aliases: []string{"客户来源系统", "客户号所属系统"}},
		{Name: "from_source_id", Aliases: []string{"客户号", "客户编号", "关系人客户号"}},
		{Name: "from_id_type", Aliases: []string{"证件类型", "关系人证件类型"}},
		{Name: "from_id_number", Aliases: []string{"证件号码", "关系人证件号码"}, Mask: vault.RuleIDNumber},
		{Name: "to_source_id", Aliases: []string{"关联客户号", "关联客户编号", "对方客户号"}},
		{Name: "to_id_type", Aliases: []string{"关联客户证件类型", "对方证件类型"}},
		{Name: "to_id_number", Aliases: []string{"关联客户证件号码", "对方证件号码"}, Mask: vault.RuleIDNumber},
		{Name: "kind", Required: true, Aliases: []string{"关系", "关系类型", "relationship", "relation"}},
		{Name: "share", Aliases: []string{"持股比例", "出资比例", "share_percent", "shareholding"}},
	},
	KindEvents: {
		{Name: "source_system", Aliases: []string{"来源系统", "系统", "source"}},
		{Name: "event_id", Aliases: []string{"事件编号", "事件id", "流水号", "id"}},
		{Name: "customer_source_id", Aliases: []string{"客户号", "客户编号", "customer_no", "cif"}},
		{Name: "customer_source_system", Aliases: []string{"客户来源系统", "客户号所属系统"}},
		{Name: "customer_id_type", Aliases: []string{"证件类型"}},
		{Name: "customer_id_number", Aliases: []string{"证件号码", "身份证号"}, Mask: vault.RuleIDNumber},
		{Name: "occurred_at", Required: true, Aliases: []string{"发生时间", "事件时间", "时间", "time"}},
		{Name: "channel", Required: true, Aliases: []string{"渠道", "触点"}},
		{Name: "kind", Required: true, Aliases: []string{"事件类型", "行为", "类型", "event", "type", "event_type"}},
		{Name: "product_code", Aliases: []string{"产品代码", "产品编号", "product"}},
		{Name: "detail", Aliases: []string{"详情", "明细", "内容", "details"}},
	},
}

// ColumnsOf returns the canonical columns of a kind (nil for an unknown kind).
func ColumnsOf(kind string) []Column { return columns[kind] }

// headerKey normalises a header for alias matching: cleaned, lower case,
// without spaces, underscores, hyphens, required-markers (*) and a trailing
// parenthesised note ("余额(元)", "出生日期（YYYY-MM-DD）").
func headerKey(h string) string {
	h = strings.ToLower(Clean(h))
	if i := strings.IndexAny(h, "(（"); i > 0 {
		h = h[:i]
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '*', ':', '：', '.':
			return -1
		}
		return r
	}, h)
}

// Mapping assigns file columns (by position) to canonical columns.
type Mapping struct {
	// Columns[i] is the canonical column of file column i, "" to ignore it.
	Columns []string
}

// SuggestMapping maps each header to a canonical column of kind by name or
// alias; a canonical column is taken by its first header only. override,
// from the user's mapping step, maps a header (as written) to a canonical
// column or to "" to ignore it; an override naming an unknown column is an
// error.
func SuggestMapping(kind string, header []string, override map[string]string) (Mapping, error) {
	cols := columns[kind]
	if cols == nil {
		return Mapping{}, kehu.Errorf(kehu.EINVALID, "unknown kind %q: use one of %s", kind, strings.Join(Kinds, ", "))
	}
	byKey := map[string]string{}
	for _, c := range cols {
		byKey[headerKey(c.Name)] = c.Name
		for _, a := range c.Aliases {
			if _, dup := byKey[headerKey(a)]; !dup {
				byKey[headerKey(a)] = c.Name
			}
		}
	}
	var v kehu.Validation
	m := Mapping{Columns: make([]string, len(header))}
	taken := map[string]bool{}
	for i, h := range header {
		target, ok := override[h]
		if ok && target != "" && !slices.ContainsFunc(cols, func(c Column) bool { return c.Name == target }) {
			v.Add("mapping", "column "+quoted(h)+" is mapped to "+quoted(target)+", which is not a "+kind+" column")
			continue
		}
		if !ok {
			target = byKey[headerKey(h)]
		}
		if target == "" || taken[target] {
			continue
		}
		taken[target] = true
		m.Columns[i] = target
	}
	return m, v.Err()
}

// Missing returns the required columns of kind the mapping does not cover,
// given that some (source_system) may come from the job instead of a column.
func (m Mapping) Missing(kind string, provided ...string) []string {
	var out []string
	for _, c := range columns[kind] {
		if c.Required && !slices.Contains(m.Columns, c.Name) && !slices.Contains(provided, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

// Has reports whether a canonical column is mapped.
func (m Mapping) Has(col string) bool { return slices.Contains(m.Columns, col) }

// record is a row's cells by canonical column, cleaned.
type record map[string]string

// apply turns a row's cells into a record. Cells beyond the mapping (a
// ragged row) are ignored here; the caller reports the raggedness.
func (m Mapping) apply(cells []string) record {
	r := make(record, len(m.Columns))
	for i, col := range m.Columns {
		if col == "" || i >= len(cells) {
			continue
		}
		r[col] = Clean(cells[i])
	}
	return r
}

// maskFor returns the masking rule of a canonical column of kind.
func maskFor(kind, col string) vault.Rule {
	for _, c := range columns[kind] {
		if c.Name == col {
			return c.Mask
		}
	}
	return vault.RuleNone
}
