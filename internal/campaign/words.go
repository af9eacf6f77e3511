package campaign

import (
	"errors"
	"strings"

	"kehu/internal/kehu"
)

// Words is one reason a campaign was refused, worded for the pages: the
// field it names ("" for the campaign as a whole) and the sentence in
// Simplified Chinese and English. The error itself keeps its stable English
// (kehu.Error's message and fields), which the API answers; the pages show
// Words in their language, as the contact policy's reasons (policy.Reason).
type Words struct {
	Field string
	ZH    string
	EN    string
}

// Text is the sentence in lang ("zh-CN" or "en").
func (w Words) Text(lang string) string {
	if strings.HasPrefix(lang, "en") {
		return w.EN
	}
	return w.ZH
}

// refusal is a *kehu.Error with its reasons worded; errors.As and
// kehu.ErrorCode see the *kehu.Error through Unwrap.
type refusal struct {
	err   *kehu.Error
	words []Words
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// Worded returns the worded reasons of a refusal of this package — every
// validation and lifecycle refusal — or nil for any other error.
func Worded(err error) []Words {
	var r *refusal
	if errors.As(err, &r) {
		return r.words
	}
	return nil
}

// refuse is a refusal of the campaign as a whole: code, the English message
// (the API's detail) and the Chinese one.
func refuse(code, zh, en string) error {
	return &refusal{err: &kehu.Error{Code: code, Message: en}, words: []Words{{ZH: zh, EN: en}}}
}

// reasons collects field refusals in both languages (kehu.Validation
// holds the English for the API).
type reasons struct {
	v     kehu.Validation
	words []Words
}

// add records that field is invalid: zh and en say why.
func (r *reasons) add(field, zh, en string) {
	r.v.Add(field, en)
	r.words = append(r.words, Words{Field: field, ZH: zh, EN: en})
}

// err is the EINVALID refusal naming every field, or nil.
func (r *reasons) err() error {
	err := r.v.Err()
	if err == nil {
		return nil
	}
	var e *kehu.Error
	errors.As(err, &e)
	return &refusal{err: e, words: r.words}
}

// invalid is a refusal of one field.
func invalid(field, zh, en string) error {
	var r reasons
	r.add(field, zh, en)
	return r.err()
}

// statusZH names the statuses as the pages do.
var statusZH = map[string]string{Draft: "草稿", Submitted: "待审批", Approved: "已审批", Scheduled: "已排期",
	Running: "执行中", Paused: "已暂停", Completed: "已完成", Cancelled: "已取消"}

// actionZH names the lifecycle actions (by their English past participle).
var actionZH = map[string]string{"submitted": "提交审批", "approved": "审批", "rejected": "退回", "launched": "投放",
	"paused": "暂停", "resumed": "继续", "cancelled": "取消"}

// channelZH names the channels as the editor does.
var channelZH = map[string]string{SMS: "短信", AppPush: "App 推送", Email: "电子邮件", WeChat: "微信模板消息",
	RMTask: "客户经理待办", CallList: "外呼名单", "push": "App 推送"}

func zhStatuses(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = "「" + statusZH[s] + "」"
	}
	return strings.Join(out, "或")
}

func zhName(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// runStatusZH names the run statuses as the pages do.
var runStatusZH = map[string]string{RunPending: "等待中", RunRunning: "执行中", RunDone: "已完成", RunCancelled: "已取消",
	RunFailed: "失败"}
