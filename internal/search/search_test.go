package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNameKey(t *testing.T) {
	for _, c := range []struct{ name, key string }{
		{"张三", "zhs"},
		{"李四", "ls"},
		{"王小明", "wxm"},
		{"欧阳娜娜", "oynn"},
		{"安娜", "an"},
		// Polyphonic surnames take their surname reading.
		{"单建明", "shjm"}, // dān elsewhere
		{"曾国藩", "zgf"},  // céng elsewhere
		{"仇英", "qy"},
		{"解缙", "xj"},
		{"区志伟", "ozhw"},
		{"查良镛", "zhly"},
		{"覃海洋", "qhy"},
		{"翟志刚", "zhzhg"},
		{"尉迟恭", "ychg"},
		{"万俟卨", "mqx"},
		// Only the opening character is a surname: 单 inside a name is dān.
		{"王单", "wd"},
		// Place names that open company names.
		{"重庆恒信贸易有限公司", "chqhxmyyxgs"},
		{"长沙银行股份有限公司", "chshyhgfyxgs"},
		{"厦门大学", "xmdx"},
		// Latin letters and digits are kept, lower-cased; punctuation is not.
		{"IBM中国", "ibmzhg"},
		{"ＡＢＣ１２", "abc12"},
		{"阿依古丽·买买提", "ayglmmt"},
		{" 张 三 ", "zhs"},
		{"", ""},
		{"!!", ""},
	} {
		if got := NameKey(c.name); got != c.key {
			t.Errorf("NameKey(%q) = %q, want %q", c.name, got, c.key)
		}
	}
}

func TestNamePinyin(t *testing.T) {
	for _, c := range []struct{ name, pinyin string }{
		{"张伟", "zhangwei"},
		{"王小明", "wangxiaoming"},
		{"欧阳娜娜", "ouyangnana"},
		{"吕布", "lvbu"},          // ü typed as v
		{"女娲", "nvwa"},          // ü typed as v
		{"单建明", "shanjianming"}, // surname reading, dān elsewhere
		{"曾国藩", "zengguofan"},
		{"尉迟恭", "yuchigong"},
		{"朴智星", "piaozhixing"}, // pǔ elsewhere
		{"盖聂", "genie"},        // gài elsewhere
		{"王单", "wangdan"},
		{"重庆恒信贸易有限公司", "chongqinghengxinmaoyiyouxiangongsi"},
		{"IBM中国", "ibmzhongguo"},
		{"ＡＢＣ１２", "abc12"},
		{"阿依古丽·买买提", "ayigulimaimaiti"},
		{" 张 三 ", "zhangsan"},
		{"", ""},
		{"!!", ""},
	} {
		if got := NamePinyin(c.name); got != c.pinyin {
			t.Errorf("NamePinyin(%q) = %q, want %q", c.name, got, c.pinyin)
		}
	}
}

func TestPlain(t *testing.T) {
	for s, want := range map[string]string{"zhāng": "zhang", "lǚ": "lv", "nǚ": "nv", "lüè": "lve", "m̀": "m", "ńg": "ng",
		"ê̄": "e", "Ān": "an", "": ""} {
		if got := Plain(s); got != want {
			t.Errorf("Plain(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestInitial(t *testing.T) {
	for s, want := range map[string]string{"zhāng": "zh", "chū": "ch", "shàn": "sh", "sān": "s", "ān": "a",
		"é": "e", "ǒu": "o", "ńg": "n", "m̀": "m", "": ""} {
		if got := Initial(s); got != want {
			t.Errorf("Initial(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		text string
		want Query
	}{
		{"", Query{}},
		{"   ", Query{}},
		{"13800138000", Query{Mobile: "13800138000"}},
		{"138 0013 8000", Query{Mobile: "13800138000"}},
		{"+86 138-0013-8000", Query{Mobile: "13800138000"}},
		{"110105194912310021", Query{IDNumber: "110105194912310021", AccountNo: "110105194912310021"}},
		{"11010519491231002x", Query{IDNumber: "11010519491231002X"}},
		{"91330100MA27XU5E0K", Query{IDNumber: "91330100MA27XU5E0K"}},
		{"E12345678", Query{IDNumber: "E12345678"}},
		{"6230580000000000011", Query{AccountNo: "6230580000000000011"}},
		{"6258 0600 0000 0001", Query{AccountNo: "6258060000000001"}},
		{"42", Query{CustomerID: 42, NamePrefix: "42"}},
		// Partial numbers are not searched: no contains match on identifiers.
		{"8000", Query{CustomerID: 8000, NamePrefix: "8000"}},
		{"138001", Query{CustomerID: 138001, NamePrefix: "138001"}},
		{"1380013800", Query{CustomerID: 1380013800, NamePrefix: "1380013800"}},
		{"138001380001", Query{}},
		{"张", Query{NamePrefix: "张"}},
		{"张三", Query{NamePrefix: "张三", Contains: "张三", Grams: []string{"张三"}}},
		{"恒信贸易", Query{NamePrefix: "恒信贸易", Contains: "恒信贸易", Grams: []string{"恒信", "信贸", "贸易"}}},
		{"张 三", Query{NamePrefix: "张 三"}},
		{"zs", Query{Initials: []string{"zhs", "zs"}}},
		{"ZS", Query{Initials: []string{"zhs", "zs"}}},
		{"zhs", Query{Initials: []string{"zhhs", "zhs"}}},
		{"zh", Query{Initials: []string{"zh"}}},
		{"wxm", Query{Initials: []string{"wxm"}}},
		// Full pinyin: with a vowel, with or without spaces, cut short.
		{"zhangwei", Query{Initials: []string{"zhangwei", "zhhangwei"}, Pinyin: "zhangwei"}},
		{"Zhang Wei", Query{Initials: []string{"zhangwei", "zhhangwei"}, Pinyin: "zhangwei"}},
		{"zhangw", Query{Initials: []string{"zhangw", "zhhangw"}, Pinyin: "zhangw"}},
		{"lvbu", Query{Initials: []string{"lvbu"}, Pinyin: "lvbu"}},
		{"a", Query{Initials: []string{"a"}}},
		{"ouyangnanaouyangnanaouyangnana", Query{Pinyin: "ouyangnanaouyangnanaouyangnana"}},
		{"' OR 1=1 --", Query{NamePrefix: "' OR 1=1 --"}},
		{"%_\\", Query{NamePrefix: "%_\\"}},
		{"张\x00三", Query{NamePrefix: "张三", Contains: "张三", Grams: []string{"张三"}}},
		{"\xff\xfe", Query{}},
	} {
		got := Parse(c.text)
		if c.want.Text == "" {
			c.want.Text = strings.TrimSpace(strings.ToValidUTF8(strings.ReplaceAll(c.text, "\x00", ""), ""))
		}
		if !equal(got, c.want) {
			t.Errorf("Parse(%q) =\n %+v, want\n %+v", c.text, got, c.want)
		}
	}
}

func equal(a, b Query) bool {
	return a.Text == b.Text && a.CustomerID == b.CustomerID && a.IDNumber == b.IDNumber && a.Mobile == b.Mobile &&
		a.AccountNo == b.AccountNo && a.NamePrefix == b.NamePrefix && slices.Equal(a.Initials, b.Initials) &&
		a.Pinyin == b.Pinyin && a.Contains == b.Contains && slices.Equal(a.Grams, b.Grams)
}

// TestInitialsFindNames checks the promise of expandInitials against NameKey:
// a name is found when every character is typed as its first letter or its
// full initial consonant, the last one possibly cut short.
func TestInitialsFindNames(t *testing.T) {
	for _, c := range []struct {
		query string
		names []string // found
		not   []string // not found
	}{
		{"zs", []string{"张三", "张山", "邹森", "曾思"}, []string{"赵红石", "李四"}},
		{"zhs", []string{"张三", "张山", "赵红石", "邹红山"}, []string{"邹森"}},
		{"zhsh", []string{"张山", "赵红石"}, []string{"张三"}},
		{"sj", []string{"单建明"}, []string{"党建明"}},
		{"shj", []string{"单建明", "沈佳"}, nil},
		{"dj", []string{"党建明"}, []string{"单建明"}},
		{"zgf", []string{"曾国藩"}, []string{"岑国藩"}},
		{"c", []string{"陈", "曹操"}, []string{"张"}},
		{"cc", []string{"曹操", "陈晨", "常超"}, nil},
		{"chsh", []string{"长沙银行股份有限公司", "陈珊"}, []string{"重庆恒信贸易有限公司"}},
		{"cqhx", []string{"重庆恒信贸易有限公司"}, nil},
		{"ibm", []string{"IBM中国"}, nil},
	} {
		q := Parse(c.query)
		for _, n := range c.names {
			if !matches(q, NameKey(n)) {
				t.Errorf("%q does not find %s (key %q, prefixes %v)", c.query, n, NameKey(n), q.Initials)
			}
		}
		for _, n := range c.not {
			if matches(q, NameKey(n)) {
				t.Errorf("%q finds %s (key %q, prefixes %v)", c.query, n, NameKey(n), q.Initials)
			}
		}
	}
}

func matches(q Query, key string) bool {
	for _, p := range q.Initials {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

func TestExpandInitialsDisjointAndBounded(t *testing.T) {
	got := expandInitials("zczczczczc")
	if len(got) > 1<<maxExpanded {
		t.Fatalf("%d prefixes, want at most %d", len(got), 1<<maxExpanded)
	}
	for i := range got {
		for j := range got {
			if i != j && strings.HasPrefix(got[j], got[i]) {
				t.Errorf("%q covers %q", got[i], got[j])
			}
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("not sorted: %v", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"张三", "zs", "13800138000", "11010519491231002X", "' OR 1=1", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Parse(s)
		if len(q.Initials) > 1<<maxExpanded {
			t.Fatalf("%d initials prefixes", len(q.Initials))
		}
		if !utf8.ValidString(q.Text) || strings.ContainsRune(q.Text, 0) {
			t.Fatalf("Parse(%q).Text = %q", s, q.Text)
		}
		_ = NameKey(s)
	})
}
