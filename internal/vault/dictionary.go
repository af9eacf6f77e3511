package vault

import "strings"

// Class is a sensitivity class of JR/T 0171-2020 (个人金融信息保护技术规范).
type Class string

// Sensitivity classes, most sensitive first.
const (
	// C3 is authentication information (PINs, passwords, card verification
	// codes, magnetic-stripe track data, biometric templates). Kehu never
	// stores it in a recoverable form: staff passwords are argon2id hashes,
	// and the schema test refuses any column that could hold the rest.
	C3 Class = "C3"
	// C2 is information that identifies a person or reveals their finances
	// (ID and account numbers, mobile, address, e-mail, balances): encrypted
	// where it identifies, masked on screen for roles that do not need it.
	C2 Class = "C2"
	// C1 is other internal information about a customer relationship.
	C1 Class = "C1"
)

// Rule names how a field is masked for display.
type Rule string

// Masking rules; Mask applies them.
const (
	RuleNone      Rule = ""           // shown as stored
	RuleName      Rule = "name"       // 张*, 欧阳**; corporate names are not masked
	RuleIDNumber  Rule = "id_number"  // 110***********1234: first 3 and last 4
	RuleMobile    Rule = "mobile"     // 138****5678
	RuleEmail     Rule = "email"      // a***@example.com
	RuleAddress   Rule = "address"    // cut after the district: 浙江省杭州市西湖区****
	RuleAccountNo Rule = "account_no" // 6222 **** **** 1234
	RuleWithhold  Rule = "withhold"   // not shown at all (null in the API)
)

// Field is one entry of the data dictionary.
type Field struct {
	Table  string // table the column lives in
	Column string // column, and the field name in the API
	Class  Class
	Mask   Rule
	// Encrypted fields are stored sealed (see Keyring.Encrypt).
	Encrypted bool
	// Index is the blind index kind of the field, "" when it has none.
	Index IndexKind
	// Why says what the field is and why it has its class, for the data
	// dictionary page.
	Why string
}

// Dictionary returns the data dictionary of customer and account fields:
// the single source for masking, encryption and the dictionary page. It
// returns a new slice each time so no caller can change the policy.
func Dictionary() []Field {
	return []Field{
		{"customers", "id", C1, RuleNone, false, "", "internal customer number"},
		{"customers", "type", C1, RuleNone, false, "", "individual or corporate"},
		{"customers", "name", C2, RuleName, false, "", "identifies the person; kept clear for prefix search, masked by role"},
		{"customers", "id_type", C1, RuleNone, false, "", "kind of identity document"},
		{"customers", "id_number", C2, RuleIDNumber, true, IndexIDNumber, "identity document number: identifies the person"},
		{"customers", "mobile", C2, RuleMobile, true, IndexMobile, "personal contact and a login factor elsewhere"},
		{"customers", "email", C2, RuleEmail, true, "", "personal contact"},
		{"customers", "gender", C2, RuleNone, false, "", "personal identity information, low risk alone"},
		{"customers", "birth_date", C2, RuleWithhold, false, "", "with the region code and the last digits it rebuilds the ID number"},
		{"customers", "address", C2, RuleAddress, true, "", "domicile or registered address"},
		{"customers", "region_code", C1, RuleNone, false, "", "GB/T 2260 region, district granularity"},
		{"customers", "org_id", C1, RuleNone, false, "", "home organisation"},
		{"customers", "owner_id", C1, RuleNone, false, "", "primary relationship manager"},
		{"customers", "level", C1, RuleNone, false, "", "service level computed from AUM"},
		{"customers", "aum", C2, RuleNone, false, "", "assets under management: financial information, shown only within the data scope"},
		{"customers", "risk_level", C2, RuleNone, false, "", "suitability assessment result"},
		{"customers", "risk_assessed_at", C1, RuleNone, false, "", "date of the suitability assessment"},
		{"customers", "industry", C1, RuleNone, false, "", "corporate industry"},
		{"customers", "registered_capital", C1, RuleNone, false, "", "public corporate registration data"},
		{"customers", "status", C1, RuleNone, false, "", "active, dormant or closed"},
		{"accounts", "account_no", C2, RuleAccountNo, true, IndexAccountNo, "account or card number: identifies the account"},
		{"accounts", "balance", C2, RuleNone, false, "", "financial information, shown only within the data scope"},
		{"accounts", "credit_limit", C2, RuleNone, false, "", "financial information, shown only within the data scope"},
		{"transactions", "amount", C2, RuleNone, false, "", "financial information"},
		{"transactions", "counterparty", C2, RuleNone, false, "", "the other party of a payment"},
		{"users", "password_hash", C3, RuleNone, false, "", "argon2id hash only: the password itself is never stored or logged"},
	}
}

// Lookup returns the dictionary entry of table.column.
func Lookup(table, column string) (Field, bool) {
	for _, f := range Dictionary() {
		if f.Table == table && f.Column == column {
			return f, true
		}
	}
	return Field{}, false
}

// forbiddenWords are words of a column name that mean C3 data: PINs, card
// verification codes, magnetic-stripe track data, passwords. A column whose
// name contains one (split at "_") is refused unless it ends in "_hash" (a
// one-way hash, such as users.password_hash) or "_at" (a time about the
// secret, not the secret).
var forbiddenWords = map[string]bool{"pin": true, "cvn": true, "cvn2": true, "cvv": true, "cvv2": true, "cvc": true,
	"cvc2": true, "track": true, "track1": true, "track2": true, "track3": true, "magstripe": true, "password": true,
	"passwd": true, "pwd": true, "passcode": true}

// C3Column reports whether a column of that name could hold C3 data, which
// must never be stored.
func C3Column(name string) bool {
	if strings.HasSuffix(name, "_hash") || strings.HasSuffix(name, "_at") {
		return false
	}
	for _, w := range strings.Split(strings.ToLower(name), "_") {
		if forbiddenWords[w] {
			return true
		}
	}
	return false
}
