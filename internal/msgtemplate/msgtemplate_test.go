package msgtemplate

import (
	"errors"
	"strings"
	"testing"

	"kehu/internal/kehu"
)

func TestMoneyAndWan(t *testing.T) {
	for _, c := range []struct {
		fen        int64
		money, wan string
	}{
		{123450, "¥1,234.50", "¥1,234.50"},
		{5, "¥0.05", "¥0.05"},
		{12_300_000, "¥123,000.00", "12.3万"},
		{12_000_000, "¥120,000.00", "12万"},
		{99_999_999_99, "¥99,999,999.99", "10,000万"},
		{25_000_000_000, "¥250,000,000.00", "2.5亿"},
		{-123450, "-¥1,234.50", "-¥1,234.50"},
		{-1_000_000, "-¥10,000.00", "-1万"},
	} {
		if got := Money(c.fen); got != c.money {
			t.Errorf("Money(%d) = %q, want %q", c.fen, got, c.money)
		}
		if got := Wan(c.fen); got != c.wan {
			t.Errorf("Wan(%d) = %q, want %q", c.fen, got, c.wan)
		}
	}
	if got := ChineseDate(kehu.Date{Year: 2026, Month: 12, Day: 2}); got != "2026年12月2日" {
		t.Errorf("ChineseDate = %q", got)
	}
}

func TestSalutation(t *testing.T) {
	for _, c := range []struct{ name, gender, want string }{
		{"张伟", "M", "张先生"}, {"王芳", "F", "王女士"}, {"欧阳娜娜", "F", "欧阳女士"}, {"欧阳", "M", "欧先生"},
		{"李娜", "", "李娜"}, {"", "M", ""}, {"John Smith", "M", "Smith先生"},
	} {
		if got := Salutation(c.name, c.gender); got != c.want {
			t.Errorf("Salutation(%q, %q) = %q, want %q", c.name, c.gender, got, c.want)
		}
	}
}

func TestMeasureSMS(t *testing.T) {
	for _, c := range []struct {
		text          string
		chars, segs   int
		enc           string
		perSegmentOut int
	}{
		{strings.Repeat("中", 70), 70, 1, "ucs2", 70},
		{strings.Repeat("中", 71), 71, 2, "ucs2", 67},
		{strings.Repeat("中", 134), 134, 2, "ucs2", 67},
		{strings.Repeat("中", 135), 135, 3, "ucs2", 67},
		{strings.Repeat("a", 160), 160, 1, "gsm7", 160},
		{strings.Repeat("a", 161), 161, 2, "gsm7", 153},
		{strings.Repeat("a", 159) + "€", 161, 2, "gsm7", 153},
		{"𠀀" + strings.Repeat("中", 68), 70, 1, "ucs2", 70}, // outside the BMP: two units
	} {
		l := MeasureSMS(c.text)
		if l.Chars != c.chars || l.Segments != c.segs || l.Encoding != c.enc || l.PerSegment != c.perSegmentOut {
			t.Errorf("MeasureSMS(%d runes) = %+v, want %d chars %d segments %s per %d", len([]rune(c.text)), l,
				c.chars, c.segs, c.enc, c.perSegmentOut)
		}
	}
}

func fieldsOf(err error) string {
	var b []string
	for _, f := range kehu.ErrorFields(err) {
		b = append(b, f.Field+": "+f.Reason)
	}
	return strings.Join(b, "; ")
}

func TestValidate(t *testing.T) {
	opt := Options{Signature: "【客户银行】"}
	good := "【客户银行】尊敬的{{salutation}}，{{product_name}}今日开售，起购{{amount_wan}}。详询{{rm_name}} {{rm_phone}}。退订回T"
	if err := Validate("开售通知", SMS, Marketing, Content{Body: good}, opt); err != nil {
		t.Fatalf("good SMS refused: %v", err)
	}
	for _, c := range []struct {
		name string
		ch   Channel
		p    Purpose
		c    Content
		want string
	}{
		{"unknown variable", SMS, Notice, Content{Body: "您好{{customer_nme}}"}, "body: unknown variable {{customer_nme}}"},
		{"unclosed", SMS, Notice, Content{Body: "您好{{customer_name"}, "is never closed"},
		{"no signature", SMS, Marketing, Content{Body: "理财开售。退订回T"}, "must begin or end with the bank's signature 【客户银行】"},
		{"wrong signature", SMS, Marketing, Content{Body: "【别的银行】理财开售。退订回T"}, "is not the bank's registered signature"},
		{"no opt-out", SMS, Marketing, Content{Body: "【客户银行】理财开售"}, "退订回T"},
		{"too long", SMS, Notice, Content{Body: strings.Repeat("长", 501)}, "at most 500"},
		{"email subject", Email, Marketing, Content{Body: "x"}, "subject: is required"},
		{"email unknown in subject", Email, Marketing, Content{Subject: "{{foo}}", Body: "x"}, "subject: unknown variable {{foo}}"},
		{"wechat id", WeChat, Notice, Content{Fields: []Field{{"first", "x"}}}, "external_id"},
		{"wechat key", WeChat, Notice, Content{ExternalID: "T1", Fields: []Field{{"第一", "x"}}}, "fields[0].key"},
		{"wechat unknown", WeChat, Notice, Content{ExternalID: "T1", Fields: []Field{{"first", "{{x}}"}}}, "fields[0].value: unknown variable {{x}}"},
		{"channel", "fax", Notice, Content{Body: "x"}, "channel"},
	} {
		err := Validate("n", c.ch, c.p, c.c, opt)
		if err == nil || kehu.ErrorCode(err) != kehu.EINVALID || !strings.Contains(fieldsOf(err), c.want) {
			t.Errorf("%s: %v (fields %s), want %q", c.name, err, fieldsOf(err), c.want)
		}
	}
	// The service notice needs neither signature nor opt-out.
	if err := Validate("到期提醒", SMS, Notice, Content{Body: "您的{{product_name}}将于{{date}}到期"}, opt); err != nil {
		t.Errorf("service SMS: %v", err)
	}
}

func TestRender(t *testing.T) {
	opt := Options{Hotline: "95588"}
	c := Content{Body: "【客户银行】尊敬的{{salutation}}，{{product_name}}{{date}}到期，金额{{amount}}（{{amount_wan}}），" +
		"请联系{{rm_name}}{{rm_phone}}。退订回T"}
	r, err := Render(SMS, c, Sample(), opt)
	if err != nil {
		t.Fatal(err)
	}
	want := "【客户银行】尊敬的张先生，稳盈90天理财2026年12月2日到期，金额¥123,000.00（12.3万），请联系李明0571-88886666。退订回T"
	if r.Body != want {
		t.Errorf("body %q\nwant %q", r.Body, want)
	}
	if r.SMS == nil || r.SMS.Segments != 2 || r.SMS.Chars != len([]rune(want)) {
		t.Errorf("sms length %+v", r.SMS)
	}
	// Missing customer data takes the fallbacks.
	d := Sample()
	d.CustomerName, d.RMName, d.RMPhone = "", "", ""
	r, err = Render(SMS, c, d, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Body, "尊敬的客户，") || !strings.Contains(r.Body, "请联系您的客户经理95588") {
		t.Errorf("fallbacks: %q", r.Body)
	}
	if strings.Join(r.Fallbacks, ",") != "salutation,rm_name,rm_phone" {
		t.Errorf("fallbacks %v", r.Fallbacks)
	}
	// Missing required data fails and names it.
	d = Sample()
	d.Amount, d.ProductName = nil, ""
	_, err = Render(SMS, c, d, Options{})
	var m *MissingError
	if !errors.As(err, &m) || strings.Join(m.Names, ",") != "product_name,amount,amount_wan" {
		t.Errorf("missing: %v", err)
	}
	if _, err := Render(SMS, Content{Body: "{{rm_phone}}"}, Data{}, Options{}); !errors.As(err, &m) || m.Names[0] != "rm_phone" {
		t.Errorf("rm_phone without a hotline: %v", err)
	}
	if _, err := Render(SMS, Content{Body: "{{nope}}"}, Sample(), opt); err == nil {
		t.Error("unknown variable rendered")
	}
}
