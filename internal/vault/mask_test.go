package vault

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kehu/internal/access"
)

func TestMask(t *testing.T) {
	for _, c := range []struct {
		rule      Rule
		in, want  string
		corporate bool
	}{
		{RuleMobile, "13812345678", "138****5678", false},
		{RuleIDNumber, "110101199003071234", "110***********1234", false},
		{RuleIDNumber, "11010119900307123X", "110***********123X", false},
		{RuleIDNumber, "E12345678", "E******78", false},
		{RuleName, "张三", "张*", false},
		{RuleName, "张三丰", "张**", false},
		{RuleName, "欧阳娜娜", "欧阳**", false},
		{RuleName, "欧阳", "欧*", false},
		{RuleName, "王", "*", false},
		{RuleName, "John Smith", "J*** *****", false},
		{RuleName, "杭州西湖茶叶有限公司", "杭州西湖茶叶有限公司", true},
		{RuleEmail, "alice@example.com", "a***@example.com", false},
		{RuleEmail, "13800000001@163.com", "1***@163.com", false},
		{RuleEmail, "broken", "***", false},
		{RuleAddress, "浙江省杭州市西湖区文三路90号", "浙江省杭州市西湖区****", false},
		{RuleAddress, "北京市朝阳区建国路88号", "北京市朝阳区****", false},
		{RuleAddress, "广西壮族自治区南宁市青秀区民族大道1号", "广西壮族自治区南宁市青秀区****", false},
		{RuleAddress, "浙江省杭州市淳安县千岛湖镇", "浙江省杭州市淳安县****", false},
		{RuleAddress, "广东省东莞市东城街道1号", "广东省东莞市****", false},
		{RuleAccountNo, "6222021234567891234", "6222 **** **** 1234", false},
		{RuleAccountNo, "6222 0212 3456 7891 234", "6222 **** **** 1234", false},
		{RuleWithhold, "1985-03-07", "", false},
		{RuleNone, "x", "x", false},
		{RuleMobile, "", "", false},
	} {
		if got := Mask(c.rule, c.in, c.corporate); got != c.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", c.rule, c.in, got, c.want)
		}
	}
}

// TestPolicyByRole is the masking policy as a table: what each role sees
// in clear on its own and on other customers. A change to the policy must
// change this table, on purpose.
func TestPolicyByRole(t *testing.T) {
	clear := func(fields ...string) map[string]bool {
		m := map[string]bool{}
		for _, f := range fields {
			m[f] = true
		}
		return m
	}
	for _, c := range []struct {
		role       string
		own, other map[string]bool
		unmask     bool
	}{
		{access.Teller, clear("name"), clear("name"), true},
		{access.LobbyManager, clear("name"), clear("name"), false},
		{access.RelationshipMgr, clear("name", "mobile", "email", "address", "birth_date"), clear("name"), true},
		{access.CallCenterAgent, clear("name"), clear("name"), true},
		{access.BranchManager, clear("name"), clear("name"), true},
		{access.MarketingOperator, clear(), clear(), false},
		{access.ComplianceAuditor, clear("name"), clear("name"), true},
		{access.Admin, clear("name"), clear("name"), false},
		{"unknown_role", clear(), clear(), false},
	} {
		for _, f := range MaskableFields() {
			if got := ShowsClear(c.role, f, true); got != c.own[f] {
				t.Errorf("%s own %s: clear=%v", c.role, f, got)
			}
			if got := ShowsClear(c.role, f, false); got != c.other[f] {
				t.Errorf("%s other %s: clear=%v", c.role, f, got)
			}
		}
		if access.Can(c.role, access.CustomerUnmask) != c.unmask {
			t.Errorf("%s unmask permission = %v", c.role, !c.unmask)
		}
	}
}

func TestDictionary(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Dictionary() {
		key := f.Table + "." + f.Column
		if seen[key] {
			t.Errorf("%s twice", key)
		}
		seen[key] = true
		if f.Encrypted && f.Class != C2 {
			t.Errorf("%s encrypted but %s", key, f.Class)
		}
		if f.Index != "" && !f.Encrypted {
			t.Errorf("%s indexed but stored clear", key)
		}
		if f.Why == "" {
			t.Errorf("%s has no reason", key)
		}
	}
	for _, f := range MaskableFields() {
		if e, ok := Lookup("customers", f); !ok && f != "account_no" || ok && e.Mask == RuleNone {
			t.Errorf("maskable %s has no masking rule", f)
		}
	}
	for _, f := range []string{"id_number", "mobile", "email", "address"} {
		if e, _ := Lookup("customers", f); !e.Encrypted {
			t.Errorf("customers.%s is not encrypted", f)
		}
	}
}

// TestSchemaRefusesC3 scans every migration for a column that could hold
// C3 data (PIN, CVN/CVV, track data, a password): such data must never be
// stored, so such a column must never exist.
func TestSchemaRefusesC3(t *testing.T) {
	files, err := filepath.Glob("../store/migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	colDef := regexp.MustCompile(`(?im)^\s*([a-z_][a-z0-9_]*)\s+(TEXT|BIGINT|INTEGER|BOOLEAN|BLOB|BYTEA|JSON|DATE|\{\{)`)
	addCol := regexp.MustCompile(`(?i)ADD\s+COLUMN\s+([a-z_][a-z0-9_]*)`)
	columns := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{colDef, addCol} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				columns++
				if C3Column(strings.ToLower(m[1])) {
					t.Errorf("%s: column %q would hold C3 data (JR/T 0171-2020), which must never be stored", filepath.Base(f), m[1])
				}
			}
		}
	}
	if columns < 50 {
		t.Fatalf("only %d columns found: the scanner is broken", columns)
	}
	for name, want := range map[string]bool{"password_hash": false, "card_pin": true, "cvv2": true, "track2_data": true,
		"password": true, "password_changed_at": false, "pinyin": false, "name_pinyin": false, "spinner": false} {
		if C3Column(name) != want {
			t.Errorf("C3Column(%q) = %v", name, !want)
		}
	}
}
