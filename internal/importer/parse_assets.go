package importer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// CustomerRef names a customer the way a source file can: by the source's
// own customer number (in the job's source system) or by identity document.
type CustomerRef struct {
	SourceSystem string // whose customer number SourceID is (default: the job's source)
	SourceID     string
	IDType       string
	IDIndex      string // blind index of the document number
	// Display is how a reject names the reference (masked).
	Display string
	Column  string // the column a failed reference is reported against
}

// AccountRow is a validated accounts row.
type AccountRow struct {
	Line        int64
	Masked      string // the number as a reject shows it
	Sealed      string
	Index       string
	Customer    CustomerRef
	Product     ProductRef
	Currency    string
	Balance     int64
	HasBalance  bool
	CreditLimit int64
	HasLimit    bool
	Status      string
	HasStatus   bool
	OrgID       int64 // 0: the customer's home organisation
	OpenedOn    kehu.Date
	MaturesOn   kehu.Date
}

// HoldingRow is a validated holdings row.
type HoldingRow struct {
	Line         int64
	HoldingID    string // the source's position id, "" when the file has none
	AccountIndex string
	Masked       string
	Product      ProductRef
	Amount       int64
	Cost         int64
	AcquiredOn   kehu.Date
	MaturesOn    kehu.Date
}

// TxnRow is a validated transactions row.
type TxnRow struct {
	Line         int64
	Key          string // the source's reference, or a digest of the row
	AccountIndex string
	Masked       string
	OccurredAt   time.Time
	Amount       int64
	BalanceAfter int64
	Kind         string
	Channel      string
	Counterparty string
	Description  string
}

// RelRow is a validated relationships row.
type RelRow struct {
	Line     int64
	From, To CustomerRef
	Kind     string
	ShareBP  int
}

// EventRow is a validated events row.
type EventRow struct {
	Line       int64
	Key        string
	Customer   CustomerRef
	OccurredAt time.Time
	Channel    string
	Kind       string
	Product    *ProductRef
	Detail     string // a JSON object, "" for none
}

var (
	currencies = map[string]string{"cny": "CNY", "rmb": "CNY", "人民币": "CNY", "usd": "USD", "美元": "USD",
		"hkd": "HKD", "港币": "HKD", "港元": "HKD", "eur": "EUR", "欧元": "EUR", "jpy": "JPY", "日元": "JPY",
		"gbp": "GBP", "英镑": "GBP", "aud": "AUD", "澳元": "AUD", "cad": "CAD", "加元": "CAD", "sgd": "SGD", "新加坡元": "SGD"}
	accountStatuses = map[string]string{"active": "active", "正常": "active", "活跃": "active", "有效": "active",
		"dormant": "dormant", "睡眠": "dormant", "久悬": "dormant", "不动户": "dormant", "冻结": "dormant",
		"closed": "closed", "销户": "closed", "已销户": "closed", "关闭": "closed"}
	txnChannels = map[string]string{"counter": "counter", "柜面": "counter", "柜台": "counter", "atm": "atm",
		"pos": "pos", "mobile": "mobile", "手机银行": "mobile", "手机": "mobile", "app": "mobile",
		"online": "online", "网银": "online", "网上银行": "online", "batch": "batch", "批量": "batch",
		"system": "system", "系统": "system", "wechat": "wechat", "微信": "wechat", "call_center": "call_center",
		"电话银行": "call_center", "third_party": "third_party", "第三方支付": "third_party", "快捷支付": "third_party"}
	debitWords  = map[string]bool{"借": true, "d": true, "debit": true, "支出": true, "支": true, "出": true, "dr": true, "-": true}
	creditWords = map[string]bool{"贷": true, "c": true, "credit": true, "收入": true, "收": true, "入": true, "cr": true, "+": true}
	relKinds    = map[string]string{"spouse": "spouse", "配偶": "spouse", "夫妻": "spouse", "parent": "parent",
		"父母": "parent", "父亲": "parent", "母亲": "parent", "child": "child", "子女": "child", "儿子": "child",
		"女儿": "child", "sibling": "sibling", "兄弟姐妹": "sibling", "legal_representative": "legal_representative",
		"法定代表人": "legal_representative", "法人代表": "legal_representative", "shareholder": "shareholder",
		"股东": "shareholder", "guarantor": "guarantor", "担保人": "guarantor", "保证人": "guarantor",
		"employer": "employer", "雇主": "employer", "工作单位": "employer"}
	eventChannels = map[string]string{"mobile_app": "mobile_app", "手机银行": "mobile_app", "app": "mobile_app",
		"online_banking": "online_banking", "网银": "online_banking", "网上银行": "online_banking",
		"wechat": "wechat", "微信": "wechat", "微信银行": "wechat", "call_center": "call_center",
		"电话银行": "call_center", "客服中心": "call_center", "客服": "call_center", "branch": "branch",
		"网点": "branch", "柜面": "branch"}
	eventKinds = []string{"login", "app_login", "logout", "page_view", "product_view", "search", "click", "form_submit",
		"message", "follow", "unfollow", "call", "callback_request", "branch_visit", "queue_ticket", "complaint",
		"transfer", "purchase_intent"}
)

// customerRef reads a customer reference from a source-id column or an
// identity-document pair of columns.
func (p *parser) customerRef(rec record, idCol, typeCol, numCol string, probs *problems) CustomerRef {
	if v := rec[idCol]; v != "" {
		system := p.source
		if s := rec["customer_source_system"]; s != "" {
			if !p.refs.Sources[s] {
				probs.add("customer_source_system", quoted(s)+" is not a source system")
				return CustomerRef{}
			}
			system = s
		}
		return CustomerRef{SourceSystem: system, SourceID: v, Display: system + " customer " + quoted(v), Column: idCol}
	}
	num := strings.ToUpper(rec[numCol])
	if num == "" {
		probs.add(idCol, fmt.Sprintf("is required (or %s with %s)", numCol, typeCol))
		return CustomerRef{}
	}
	idType := ""
	if v := rec[typeCol]; v != "" {
		t, ok := enum(v, idTypes)
		if !ok {
			probs.add(typeCol, quoted(v)+" is not an identity document type")
			return CustomerRef{}
		}
		idType = t
	} else if cnid.ValidUSCC(num) == nil {
		idType = customer.USCC
	} else if _, err := cnid.ParseResident(num); err == nil {
		idType = customer.ResidentID
	} else {
		probs.add(typeCol, "is required for "+vault.MaskIDNumber(num))
		return CustomerRef{}
	}
	return CustomerRef{IDType: idType, IDIndex: p.seal.IDNumberIndex(num), Display: vault.MaskIDNumber(num), Column: numCol}
}

func (p *parser) account(line int64, rec record, probs *problems) (any, string) {
	a := AccountRow{Line: line}
	no := p.accountNo(rec, "account_no", probs)
	a.Customer = p.customerRef(rec, "customer_source_id", "customer_id_type", "customer_id_number", probs)
	a.Product = p.productCell(rec, "product_code", probs)
	a.Currency = "CNY"
	if v := rec["currency"]; v != "" {
		c, ok := enum(v, currencies)
		if !ok && len(v) == 3 && isAlnum(v) {
			c, ok = strings.ToUpper(v), true
		}
		if !ok {
			probs.add("currency", quoted(v)+" is not a currency (CNY, USD, 人民币, ...)")
		}
		a.Currency = c
	}
	a.Balance, a.HasBalance = p.amount(rec, "balance", probs)
	a.CreditLimit, a.HasLimit = p.amount(rec, "credit_limit", probs)
	if a.CreditLimit < 0 {
		probs.add("credit_limit", "must not be negative")
	}
	if v := rec["status"]; v != "" {
		st, ok := enum(v, accountStatuses)
		if !ok {
			probs.add("status", quoted(v)+" is not an account status (active, dormant, closed; 正常, 睡眠, 销户)")
		}
		a.Status, a.HasStatus = st, true
	}
	a.OrgID = p.orgCell(rec, "org_id", false, probs).ID
	a.OpenedOn = p.date(rec, "opened_on", probs)
	if a.OpenedOn.IsZero() && rec["opened_on"] == "" {
		probs.add("opened_on", "is required")
	}
	p.notFuture(a.OpenedOn, "opened_on", probs)
	a.MaturesOn = p.date(rec, "matures_on", probs)
	if !a.MaturesOn.IsZero() && !a.OpenedOn.IsZero() && a.MaturesOn.Time().Before(a.OpenedOn.Time()) {
		probs.add("matures_on", "is before opened_on")
	}
	if !probs.ok() {
		return nil, ""
	}
	sealed, index, err := p.seal.SealAccountNo(no)
	if err != nil {
		probs.add("", "cannot be encrypted: "+err.Error())
		return nil, ""
	}
	a.Sealed, a.Index, a.Masked = sealed, index, vault.MaskAccountNo(no)
	return a, "account\x00" + index
}

func (p *parser) holding(line int64, rec record, probs *problems) (any, string) {
	h := HoldingRow{Line: line, HoldingID: p.text(rec, "holding_id", 64, probs)}
	no := p.accountNo(rec, "account_no", probs)
	h.Product = p.productCell(rec, "product_code", probs, "wealth", "fund", "insurance")
	var ok bool
	if h.Amount, ok = p.amount(rec, "amount", probs); !ok && rec["amount"] == "" {
		probs.add("amount", "is required (the market value)")
	}
	if h.Amount < 0 {
		probs.add("amount", "must not be negative")
	}
	if h.Cost, ok = p.amount(rec, "cost", probs); !ok {
		h.Cost = h.Amount
	}
	if h.Cost < 0 {
		probs.add("cost", "must not be negative")
	}
	h.AcquiredOn = p.date(rec, "acquired_on", probs)
	if h.AcquiredOn.IsZero() && rec["acquired_on"] == "" {
		probs.add("acquired_on", "is required")
	}
	p.notFuture(h.AcquiredOn, "acquired_on", probs)
	h.MaturesOn = p.date(rec, "matures_on", probs)
	if !probs.ok() {
		return nil, ""
	}
	h.AccountIndex, h.Masked = p.seal.AccountNoIndex(no), vault.MaskAccountNo(no)
	key := "holding\x00" + h.AccountIndex + "\x00" + h.Product.Code
	if h.HoldingID != "" {
		key = "holding\x00" + h.HoldingID
	}
	return h, key
}

func (p *parser) transaction(line int64, rec record, probs *problems) (any, string) {
	t := TxnRow{Line: line}
	no := p.accountNo(rec, "account_no", probs)
	at, ok := p.moment(rec, "occurred_at", probs)
	if !ok && rec["occurred_at"] == "" {
		probs.add("occurred_at", "is required")
	}
	if ok && at.After(p.now.Add(24*time.Hour)) {
		probs.add("occurred_at", "is in the future")
	}
	t.OccurredAt = at
	amt, ok := p.amount(rec, "amount", probs)
	if !ok && rec["amount"] == "" {
		probs.add("amount", "is required")
	}
	if d := strings.ToLower(rec["direction"]); d != "" {
		switch {
		case debitWords[d]:
			amt = -abs(amt)
		case creditWords[d]:
			amt = abs(amt)
		default:
			probs.add("direction", quoted(rec["direction"])+" is not a direction (借/贷, D/C, 支出/收入)")
		}
	}
	t.Amount = amt
	t.BalanceAfter, _ = p.amount(rec, "balance_after", probs)
	t.Kind = strings.ToLower(p.text(rec, "kind", 32, probs))
	if t.Kind == "" {
		t.Kind = "other"
	}
	t.Channel = "counter"
	if v := rec["channel"]; v != "" {
		c, ok := enum(v, txnChannels)
		if !ok {
			probs.add("channel", quoted(v)+" is not a channel (counter, atm, pos, mobile, online, batch, system, "+
				"wechat, call_center, third_party or their Chinese names)")
		}
		t.Channel = c
	}
	t.Counterparty = p.text(rec, "counterparty", 100, probs)
	t.Description = p.text(rec, "description", 200, probs)
	ref := p.text(rec, "reference", 64, probs)
	if !probs.ok() {
		return nil, ""
	}
	t.AccountIndex, t.Masked = p.seal.AccountNoIndex(no), vault.MaskAccountNo(no)
	t.Key = ref
	if ref == "" {
		// Without the source's serial number the row itself is the key.
		t.Key = "d:" + p.seal.Digest(t.AccountIndex, t.OccurredAt.Format(time.RFC3339Nano),
			strconv.FormatInt(t.Amount, 10), strconv.FormatInt(t.BalanceAfter, 10), t.Kind, t.Channel,
			t.Counterparty, t.Description)
	}
	return t, "txn\x00" + t.Key
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func (p *parser) relationship(line int64, rec record, probs *problems) (any, string) {
	r := RelRow{Line: line}
	r.From = p.customerRef(rec, "from_source_id", "from_id_type", "from_id_number", probs)
	r.To = p.customerRef(rec, "to_source_id", "to_id_type", "to_id_number", probs)
	if v := rec["kind"]; v != "" {
		k, ok := enum(v, relKinds)
		if !ok {
			probs.add("kind", quoted(v)+" is not a relationship (spouse, parent, child, sibling, legal_representative, "+
				"shareholder, guarantor, employer or their Chinese names)")
		}
		r.Kind = k
	} else {
		probs.add("kind", "is required")
	}
	if v := rec["share"]; v != "" {
		bp, err := ParsePercentBP(v)
		switch {
		case err != nil:
			probs.add("share", quoted(v)+" "+err.Error())
		case bp > 10000:
			probs.add("share", "must be at most 100%")
		case r.Kind != "" && r.Kind != "shareholder":
			probs.add("share", "applies to shareholders only")
		}
		r.ShareBP = int(bp)
	}
	if r.From.SourceID != "" && r.From.SourceID == r.To.SourceID || r.From.IDIndex != "" && r.From.IDIndex == r.To.IDIndex {
		probs.add("to_source_id", "is the same customer as the first one")
	}
	if !probs.ok() {
		return nil, ""
	}
	return r, "rel\x00" + r.From.SourceSystem + ":" + r.From.SourceID + r.From.IDIndex + "\x00" + r.To.SourceID + r.To.IDIndex + "\x00" + r.Kind
}

func (p *parser) event(line int64, rec record, probs *problems) (any, string) {
	e := EventRow{Line: line}
	e.Customer = p.customerRef(rec, "customer_source_id", "customer_id_type", "customer_id_number", probs)
	at, ok := p.moment(rec, "occurred_at", probs)
	if !ok && rec["occurred_at"] == "" {
		probs.add("occurred_at", "is required")
	}
	if ok && at.After(p.now.Add(24*time.Hour)) {
		probs.add("occurred_at", "is in the future")
	}
	e.OccurredAt = at
	if v := rec["channel"]; v != "" {
		c, ok := enum(v, eventChannels)
		if !ok {
			probs.add("channel", quoted(v)+" is not an event channel (mobile_app, online_banking, wechat, call_center, "+
				"branch or their Chinese names)")
		}
		e.Channel = c
	}
	e.Kind = strings.ToLower(rec["kind"])
	if e.Kind != "" && !contains(eventKinds, e.Kind) {
		probs.add("kind", quoted(rec["kind"])+" is not an event kind ("+strings.Join(eventKinds, ", ")+")")
	}
	if rec["product_code"] != "" {
		pr := p.productCell(rec, "product_code", probs)
		e.Product = &pr
	}
	e.Detail = p.detail(rec, probs)
	id := p.text(rec, "event_id", 128, probs)
	if !probs.ok() {
		return nil, ""
	}
	e.Key = id
	if id == "" {
		product := ""
		if e.Product != nil {
			product = e.Product.Code
		}
		e.Key = "d:" + p.seal.Digest(e.Customer.SourceID, e.Customer.IDType, e.Customer.IDIndex,
			e.OccurredAt.Format(time.RFC3339Nano), e.Channel, e.Kind, product, e.Detail)
	}
	return e, "event\x00" + e.Key
}

// detail reads an event's detail: a JSON object as is, other text as
// {"text": ...}; at most 4 KiB.
func (p *parser) detail(rec record, probs *problems) string {
	v := rec["detail"]
	if v == "" {
		return ""
	}
	if len(v) > 4096 {
		probs.add("detail", "is longer than 4 KiB")
		return ""
	}
	if strings.HasPrefix(v, "{") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(v), &obj); err != nil {
			probs.add("detail", "starts like JSON but is not a valid JSON object")
			return ""
		}
		b, _ := json.Marshal(obj)
		return string(b)
	}
	if !utf8.ValidString(v) {
		probs.add("detail", "is not valid text")
		return ""
	}
	b, _ := json.Marshal(map[string]string{"text": v})
	return string(b)
}
