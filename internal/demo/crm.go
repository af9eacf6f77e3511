package demo

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/customer"
	"kehu/internal/interaction"
)

// genInteraction is a contact the bank's staff recorded with a customer.
type genInteraction struct {
	at                               time.Time
	user                             int64
	channel, purpose, response, note string
	products                         []int64
}

// genTag is a tag on a customer (by index: a company tags its legal
// representative, an earlier customer).
type genTag struct {
	customer int
	tag      string // demo tag name
	by       int64  // 0 for none
	at       time.Time
	expires  time.Time // zero for none
	reason   string
}

// Demo tag names: the emotion tags are the catalogue defaults (tag.Defaults
// by code), the manual ones the demo's own.
const (
	tagSatisfied    = "satisfied"
	tagDissatisfied = "dissatisfied"
	tagKeyAccount   = "重点维护"
	tagOwner        = "企业主"
	tagRetirement   = "养老规划"
	tagPotential    = "潜力客户"
	tagOnline       = "线上活跃"
	emotionDays     = 90
)

// manualTags are the demo's manual catalogue entries (name, English label,
// colour, description).
var manualTags = [][4]string{
	{tagKeyAccount, "Key account", "purple", "资产较高、需重点维护的客户"},
	{tagOwner, "Business owner", "blue", "我行对公客户的法定代表人"},
	{tagRetirement, "Retirement planning", "amber", "关注养老规划，可推荐年金与稳健类产品"},
	{tagPotential, "Potential", "teal", "收入稳定、资产有提升空间"},
	{tagOnline, "Active online", "green", "常用手机银行，适合线上触达"},
}

// crm adds what the bank's people recorded about the customer: their
// contacts over the year (purpose, products, response) and tags. It runs
// after the owner is assigned and draws last, so it shifts no other value.
func (g *generator) crm(c *genCustomer, t trait) {
	r := g.r
	staff := g.contactStaff(c)
	if staff == 0 {
		return
	}
	start := later(g.from, c.created)
	// Holdings bought during the year were sold in a contact a few days
	// before, mostly.
	for _, h := range c.holdings {
		at := g.localTime(h.acquired.Time().Add(-time.Duration(r.IntN(10))*24*time.Hour), 9, 17)
		if !r.chance(0.7) || at.Before(start) || at.After(g.now) {
			continue
		}
		c.interactions = append(c.interactions, genInteraction{at: at, user: staff,
			channel: pickString(r, []string{"branch", "phone", "wechat", "visit"}), purpose: "marketing",
			response: interaction.Bought, products: []int64{h.product.id},
			note: "客户认购" + h.product.name + "，已完成风险揭示与双录"})
	}
	rate := 0.3 // contacts a year besides sales
	switch {
	case c.owner == 0:
	case c.typ == customer.Corporate:
		rate = 5
	case c.aum >= 2_000_000_00:
		rate = 6
	case c.aum >= 500_000_00:
		rate = 4
	case c.aum >= 50_000_00:
		rate = 2.5
	default:
		rate = 1.2
	}
	if c.status == customer.StatusDormant {
		rate = 0.8
	}
	span := g.now.Sub(start)
	for range r.poisson(rate) {
		if span < 48*time.Hour { // joined today or yesterday
			break
		}
		at := g.localTime(start.Add(time.Duration(r.Int64N(int64(span-24*time.Hour)))), 9, 18)
		if at.After(start) && at.Before(g.now) {
			c.interactions = append(c.interactions, g.contact(c, t, at, staff))
		}
	}
	slices.SortStableFunc(c.interactions, func(x, y genInteraction) int { return x.at.Compare(y.at) })
	g.tags(c, t, staff)
}

// contactStaff is who talks to the customer: the owner, or for a customer
// without one the outlet's lobby manager.
func (g *generator) contactStaff(c *genCustomer) int64 {
	if c.owner != 0 {
		return c.owner
	}
	for _, u := range c.outlet.users {
		if u.role == access.LobbyManager {
			return u.id
		}
	}
	return 0
}

// contact draws one contact that did not end in a sale.
func (g *generator) contact(c *genCustomer, t trait, at time.Time, user int64) genInteraction {
	r := g.r
	in := genInteraction{at: at, user: user, channel: pickString(r, []string{"phone", "phone", "wechat", "branch", "sms", "visit"})}
	if c.status == customer.StatusDormant {
		in.purpose, in.note = "care", pickString(r, dormantNotes)
		return in
	}
	switch u := r.Float64(); {
	case u < 0.55:
		in.purpose = "marketing"
		p := g.pitch(c, t)
		in.products = []int64{p.id}
		switch v := r.Float64(); {
		case v < 0.35:
			in.response, in.note = interaction.Declined, "客户表示暂不考虑"+p.name+"，"+pickString(r, declineReasons)
		case v < 0.65:
			in.response, in.note = interaction.Interested, "客户对"+p.name+"感兴趣，已发送产品说明书"
		default:
			in.response, in.note = interaction.FollowUp, "介绍"+p.name+"，客户需与家人商量，约定下周回访"
		}
	case u < 0.75:
		in.purpose, in.note = "service", pickString(r, serviceNotes)
	case u < 0.92:
		in.purpose, in.note = "care", pickString(r, careNotes)
	case u < 0.96 && c.risk > 0:
		in.purpose, in.note = "review", "风险承受能力评估到期提醒，客户同意近期到网点重新测评"
	default:
		in.purpose, in.channel, in.response = "complaint", pickString(r, []string{"phone", "branch"}), interaction.FollowUp
		in.note = pickString(r, complaints)
	}
	return in
}

// pitch picks a product to offer: investments within the customer's risk
// tolerance, else deposits, cards and loans.
func (g *generator) pitch(c *genCustomer, t trait) *product {
	r := g.r
	var fit []*product
	for i := range g.bank.products {
		p := &g.bank.products[i]
		switch {
		case c.typ == customer.Corporate:
			if p.code == "DEP-TD-C1Y" || p.code == "LN-BIZ" || p.code == "WM-R1-CASH" {
				fit = append(fit, p)
			}
		case p.kind == wealthProduct || p.kind == fundProduct || p.kind == insurance:
			if c.risk > 0 && p.risk <= c.risk {
				fit = append(fit, p)
			}
		case p.kind == timeDeposit && p.code != "DEP-TD-C1Y", p.kind == creditCard && t.age < 65:
			fit = append(fit, p)
		}
	}
	return fit[r.IntN(len(fit))]
}

// tags puts the demo's manual and emotion tags on the customer (and a
// company's tag on its legal representative).
func (g *generator) tags(c *genCustomer, t trait, staff int64) {
	r := g.r
	add := func(who int, name, reason string, at, expires time.Time) {
		c.tags = append(c.tags, genTag{customer: who, tag: name, by: staff, at: at, expires: expires, reason: reason})
	}
	at := g.localTime(later(g.from, c.created).Add(time.Duration(r.IntN(200))*24*time.Hour), 9, 17)
	if at.After(g.now) {
		at = g.localTime(g.now.AddDate(0, 0, -1), 9, 17)
	}
	for _, rel := range c.relations {
		if rel.kind == "legal_representative" {
			add(rel.from, tagOwner, "担任"+c.name+"法定代表人", at, time.Time{})
		}
	}
	if c.typ == customer.Corporate {
		return
	}
	if c.owner != 0 && c.aum >= 2_000_000_00 && r.chance(0.6) {
		add(c.index, tagKeyAccount, "资产规模较大，由理财经理重点维护", at, time.Time{})
	}
	if t.age >= 50 && t.age < 65 && c.risk > 0 && r.chance(0.2) {
		add(c.index, tagRetirement, "临近退休，有养老储备需求", at, time.Time{})
	}
	if c.owner != 0 && c.aum < 500_000_00 && t.age < 45 && r.chance(0.08) {
		add(c.index, tagPotential, "收入稳定，资产有较大提升空间", at, time.Time{})
	}
	logins := 0
	for _, e := range c.events {
		if e.kind == "app_login" {
			logins++
		}
	}
	if logins >= 12 && r.chance(0.5) {
		add(c.index, tagOnline, "近一年手机银行登录"+strconv.Itoa(logins)+"次", at, time.Time{})
	}
	// The latest complaint or sale leaves the customer's mood, for 90 days.
	for i := len(c.interactions) - 1; i >= 0; i-- {
		in := c.interactions[i]
		if in.purpose == "complaint" {
			c.tags = append(c.tags, genTag{customer: c.index, tag: tagDissatisfied, by: in.user, at: in.at,
				expires: in.at.AddDate(0, 0, emotionDays), reason: in.note})
			break
		}
		if in.response == interaction.Bought && r.chance(0.3) {
			c.tags = append(c.tags, genTag{customer: c.index, tag: tagSatisfied, by: in.user, at: in.at,
				expires: in.at.AddDate(0, 0, emotionDays), reason: "对理财经理的服务表示满意"})
			break
		}
	}
}

// employerOf picks the customer's employer among the last few companies
// of the same outlet before it, -1 if there is none.
func (g *generator) employerOf(c *genCustomer, t trait) int {
	list := g.bank.corporates[t.outlet]
	k := sort.SearchInts(list, c.index)
	if k == 0 {
		return -1
	}
	return list[max(0, k-5)+g.r.IntN(min(k, 5))]
}

// companyNameOf is the name company j got: the first draws of its stream,
// replayed on a scratch generator (j is a company of outlet city).
func (g *generator) companyNameOf(j int, city string) string {
	g.scratch.reseed(g.seed, streamCustomer, j)
	ind := g.scratch.IntN(len(industries))
	return companyName(g.scratch, city, ind)
}

var (
	declineReasons = []string{"资金另有安排", "觉得收益不够高", "近期有购房计划", "对净值波动有顾虑", "已在他行购买同类产品"}
	serviceNotes   = []string{"协助客户办理手机银行转账限额调整", "客户咨询个人所得税专项附加扣除，已解答",
		"协助客户更新预留手机号码", "客户咨询外币兑换，已告知网点预约流程", "协助客户办理社保卡激活"}
	careNotes = []string{"生日关怀电话，客户表示感谢", "定期存款到期提醒，客户选择自动转存", "节日问候，邀请参加网点客户活动",
		"理财产品到期提醒，客户暂未决定再投资方向", "回访近期网点服务体验"}
	dormantNotes = []string{"账户长期未动户，电话提醒客户核实联系方式", "久未往来客户关怀，客户表示暂无业务需求"}
	complaints   = []string{"客户反映网点排队时间过长，已致歉并记录", "客户对理财产品收益不及预期表示不满，已解释产品风险与净值波动",
		"客户投诉短信提醒过于频繁，已调整接触频率", "客户反映手机银行登录异常，已提交技术部门处理"}
)
