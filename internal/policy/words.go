package policy

import (
	"strconv"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// Word fills the Chinese and English text of every reason. The engine does
// not word DecideMany's decisions (a million sentences nobody reads); the
// check API and page call this.
func (d *Decision) Word() {
	loc := kehu.LoadShanghai()
	for i := range d.Reasons {
		r := &d.Reasons[i]
		r.ZH, r.EN = r.Text("zh-CN", loc), r.Text("en", loc)
		if s := r.Suitability; s != nil {
			s.ZH, s.EN = s.Text("zh-CN"), s.Text("en")
		}
	}
}

// Text words r in lang ("zh-CN" or "en"), times in loc.
func (r Reason) Text(lang string, loc *time.Location) string {
	en := strings.HasPrefix(lang, "en")
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("2006-01-02")
	}
	n := strconv.Itoa
	pick := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	switch r.Code {
	case ReasonUnknownCustomer:
		return pick("客户不存在", "Unknown customer")
	case ReasonCustomerMerged:
		return pick("客户记录已合并到其他客户", "The customer record was merged into another")
	case ReasonCustomerErased:
		return pick("客户个人信息已按请求删除", "The customer's personal data was erased on request")
	case ReasonCustomerClosed:
		return pick("客户已销户，不再营销", "The customer is closed: no marketing")
	case ReasonDoNotCall:
		return pick("客户要求不接听电话", "The customer asked not to be phoned")
	case ReasonNoConsent:
		return pick("客户未同意通过该渠道接收营销信息", "No marketing consent on this channel")
	case ReasonConsentWithdrawn:
		return pick("客户已撤回该渠道的营销同意", "Marketing consent on this channel was withdrawn")
	case ReasonProductQuiet:
		return pick("客户于"+day(r.Since)+"拒绝该产品，"+day(r.Until)+"前不再推荐（"+n(r.Days)+"天）",
			"Declined the product on "+day(r.Since)+": not offered again before "+day(r.Until)+" ("+n(r.Days)+" days)")
	case ReasonFrequencyCap:
		return pick("近"+n(r.Days)+"天已营销触达"+n(r.Count)+"次（上限"+n(r.Limit)+"次）",
			n(r.Count)+" marketing contacts in the last "+n(r.Days)+" days (cap "+n(r.Limit)+")")
	case ReasonChannelDayCap:
		return pick("今天该渠道已营销触达"+n(r.Count)+"次（每天上限"+n(r.Limit)+"次）",
			n(r.Count)+" marketing contacts on this channel today (cap "+n(r.Limit)+" a day)")
	case ReasonNoContactWindow:
		return pick("客户偏好的联系时间均在银行免打扰时段内，无法联系",
			"The customer's preferred hours all fall in the bank's quiet hours: no time to contact")
	case ReasonQuietHours:
		return pick("银行免打扰时段，顺延至"+at(r.Until), "Bank quiet hours: deferred until "+at(r.Until))
	case ReasonCustomerHours:
		return pick("不在客户偏好的联系时间内，顺延至"+at(r.Until),
			"Outside the customer's preferred contact hours: deferred until "+at(r.Until))
	}
	if r.Suitability != nil {
		return r.Suitability.Text(lang)
	}
	return r.Code
}
