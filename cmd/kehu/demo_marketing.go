package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/segment"
	"kehu/internal/store"
)

// marketingServices are the services a demo bank's marketing starter set is
// entered through.
type marketingServices struct {
	templates *msgtemplate.Service
	segments  *segment.Service
	campaigns *campaign.Service
	journeys  *journey.Service
}

// demoMarketer is the demo user who enters the starter set (the head
// office's marketing operator), so its versions and audit records name a
// person the demo can sign in as.
const demoMarketer = "hq_marketing"

// seedMarketing gives a demo bank that has no marketing yet what a marketing
// operator starts from (docs/DEMO.md): message templates, three segments, a
// campaign submitted for approval and the journeys a branch network runs
// every day (large inflow → RM call, birthday greeting, 90-day dormancy →
// churn alert, product viewed but not bought → lobby alert). It goes through
// the services — validation, versions and audit records as if the operator
// had typed them — and does nothing when any template exists already, so a
// restart or an operator's own work is never overwritten.
func seedMarketing(ctx context.Context, db *store.DB, m marketingServices) error {
	u, err := db.Users().UserByUsername(ctx, demoMarketer)
	if err != nil {
		return fmt.Errorf("demo marketing: %w", err)
	}
	org, err := db.Orgs().GetOrg(ctx, u.OrgID)
	if err != nil {
		return fmt.Errorf("demo marketing: %w", err)
	}
	ctx = kehu.WithActor(ctx, kehu.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID,
		OrgPath: org.Path})
	existing, err := m.templates.List(ctx, "")
	if err != nil || len(existing) > 0 {
		return err
	}
	tpl := func(name string, ch msgtemplate.Channel, purpose msgtemplate.Purpose, c msgtemplate.Content) (int64, error) {
		t, err := m.templates.Create(ctx, msgtemplate.Input{Name: name, Channel: ch, Purpose: purpose, Content: c,
			Note: "演示数据"})
		if err != nil {
			return 0, fmt.Errorf("demo template %s: %w", name, err)
		}
		return t.ID, nil
	}
	offer, err := tpl("稳健理财新品推荐", msgtemplate.SMS, msgtemplate.Marketing, msgtemplate.Content{
		Body: "【客户银行】{{salutation}}您好，我行新发行{{product_name}}，稳健增值，详询客户经理{{rm_name}}。退订回T"})
	if err != nil {
		return err
	}
	birthday, err := tpl("生日祝福", msgtemplate.SMS, msgtemplate.Notice, msgtemplate.Content{
		Body: "【客户银行】{{salutation}}，今天是您的生日，客户银行全体员工祝您生日快乐、阖家幸福！"})
	if err != nil {
		return err
	}
	if _, err := tpl("大额入账提醒", msgtemplate.Push, msgtemplate.Notice, msgtemplate.Content{
		Subject: "资金到账提醒", Body: "{{salutation}}，您的账户有一笔大额资金入账，如需理财规划可联系客户经理{{rm_name}}。"}); err != nil {
		return err
	}

	seg := func(name, desc, rule string) (int64, error) {
		s, err := m.segments.Create(ctx, segment.Input{Name: name, Description: desc, Rule: json.RawMessage(rule),
			Kind: segment.Dynamic})
		if err != nil {
			return 0, fmt.Errorf("demo segment %s: %w", name, err)
		}
		return s.ID, nil
	}
	prospects, err := seg("稳健理财潜客", "风险承受能力 C2 及以上、测评有效、近 30 天入账 5 万元以上、未持有理财",
		`{"all":[{"field":"risk_level","op":">=","value":2},{"field":"risk_valid","op":"=","value":true},
		{"field":"inflow_sum","window_days":30,"op":">=","value":50000},
		{"not":{"field":"holds_product_type","op":"in","value":["wealth"]}}]}`)
	if err != nil {
		return err
	}
	if _, err := seg("高净值客户", "管理资产 600 万元及以上", `{"all":[{"field":"aum","op":">=","value":6000000}]}`); err != nil {
		return err
	}
	if _, err := seg("沉睡风险客户", "近 90 天无交易且未登录电子渠道的个人客户",
		`{"all":[{"field":"customer_type","op":"=","value":"individual"},
		{"field":"txn_count","window_days":90,"op":"=","value":0},
		{"field":"event_count","event":"login","window_days":90,"op":"=","value":0}]}`); err != nil {
		return err
	}

	product, err := db.Policy().ProductByRef(ctx, "WM-R2-1Y")
	if err != nil {
		return fmt.Errorf("demo campaign product: %w", err)
	}
	pid, start := product.ID, time.Now().Add(24*time.Hour).Truncate(time.Hour)
	c, err := m.campaigns.Create(ctx, campaign.Input{Name: "安鑫一年定开理财·短信推荐",
		Description: "向稳健理财潜客推荐安鑫一年定开理财；10% 对照组测算提升", SegmentID: prospects, ProductID: &pid,
		Channel: campaign.SMS, TemplateID: &offer, Purpose: "marketing",
		Schedule:   campaign.Schedule{Kind: campaign.Once, StartAt: &start},
		ControlPct: 10, ThrottlePerMinute: 600, ConversionDays: 30, CostPerMessage: 5, ValuePerConversion: 20000})
	if err != nil {
		return fmt.Errorf("demo campaign: %w", err)
	}
	if _, err := m.campaigns.Submit(ctx, c.ID); err != nil {
		return fmt.Errorf("demo campaign: %w", err)
	}

	// The two marketing journeys hold a 10% control group out and name the
	// product whose purchase is their conversion, so the 旅程效果 page
	// measures their lift as soon as they fire (the birthday greeting is a
	// service no bank withholds; a view of any product has no one product
	// to convert to).
	cash, err := db.Policy().ProductByRef(ctx, "WM-R1-CASH")
	if err != nil {
		return fmt.Errorf("demo journey product: %w", err)
	}
	jr := func(name, desc string, def journey.Definition) error {
		raw, err := json.Marshal(def)
		if err != nil {
			return err
		}
		if _, err := m.journeys.Create(ctx, journey.Input{Name: name, Description: desc, Definition: raw,
			Status: journey.Active}); err != nil {
			return fmt.Errorf("demo journey %s: %w", name, err)
		}
		return nil
	}
	if err := jr("大额入账关怀", "单笔入账 10 万元及以上：客户经理两天内回访", journey.Definition{
		Trigger: journey.LargeInflow, Conditions: journey.Conditions{MinAmount: journey.DefaultInflowFen}, ReentryDays: 30,
		ControlPct: 10, ProductID: pid, ConversionDays: 30, ValuePerConversion: 20000,
		Actions: []journey.Action{{Kind: journey.ActTask, TaskKind: "call", Title: "大额入账客户回访",
			Suggested: []string{"了解资金用途", "推荐稳健理财或大额存单"}, AssignTo: "owner", DueDays: 2}}}); err != nil {
		return err
	}
	if err := jr("生日祝福", "按客户偏好的公历或农历生日发送祝福短信", journey.Definition{
		Trigger: journey.Birthday, ReentryDays: 300,
		Actions: []journey.Action{{Kind: journey.ActMessage, Channel: "sms", TemplateID: birthday}}}); err != nil {
		return err
	}
	if err := jr("沉睡客户流失预警", "90 天无登录且无交易：提醒客户经理挽留", journey.Definition{
		Trigger: journey.Dormancy, Conditions: journey.Conditions{InactiveDays: 90}, ReentryDays: 90,
		ControlPct: 10, ProductID: cash.ID, ConversionDays: 60, ValuePerConversion: 5000,
		Actions: []journey.Action{{Kind: journey.ActTask, TaskKind: "churn_alert", Title: "流失预警：客户 90 天未活跃",
			Suggested: []string{"电话问候，了解近况", "核对到期资金去向", "邀请到网点参加理财沙龙"}, AssignTo: "owner",
			DueDays: 7}}}); err != nil {
		return err
	}
	return jr("浏览未购买·到店提醒", "手机银行浏览理财产品未购买，客户下次到网点时提醒大堂经理", journey.Definition{
		Trigger: journey.ViewedNotBought, Conditions: journey.Conditions{ViewDays: 30}, ReentryDays: 30,
		Actions: []journey.Action{{Kind: journey.ActTask, TaskKind: "lobby_alert", Title: "到店客户曾浏览理财产品",
			Suggested: []string{"主动问候并了解需求", "讲解所浏览产品，注意适当性"}, AssignTo: "queue",
			QueueRole: "lobby_manager", DueDays: 1}}})
}
