package main

import (
	"bytes"
	"strings"
	"testing"

	"kehu/internal/demo"
)

func TestPrintLoginsAlignsChinese(t *testing.T) {
	var b bytes.Buffer
	printLogins(&b, []demo.Login{
		{Username: "admin", Password: "pw", Role: "admin", OrgName: "总行", DisplayName: "李梦思"},
		{Username: "bj01_rm1", Password: "pw", Role: "relationship_manager", OrgName: "北京东城支行", DisplayName: "刘刚"},
	})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and two rows, got %q", b.String())
	}
	col := func(line, cell string) int { return displayWidth(line[:strings.LastIndex(line, cell)]) }
	if h, a, r := col(lines[0], "NAME"), col(lines[1], "李梦思"), col(lines[2], "刘刚"); h != a || a != r {
		t.Errorf("NAME column starts at %d, %d and %d:\n%s", h, a, r, b.String())
	}
}
