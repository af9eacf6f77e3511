package testkit

import (
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
)

// ReceiptSecret signs the test bank's SMS and e-mail receipts.
const ReceiptSecret = "test-receipt-secret-0123456789"

// TemplateOptions are the test bank's template settings.
var TemplateOptions = msgtemplate.Options{Signature: "【客户银行】", Hotline: "95555"}

// TemplateService returns the message template service over the bank.
func (b *Bank) TemplateService() *msgtemplate.Service {
	return msgtemplate.NewService(msgtemplate.Deps{Store: b.DB.Templates(), Clock: b.Clock, Audit: b.Audit, Tx: b.DB,
		Options: TemplateOptions})
}

// OutboxService returns the send monitor and receipts service over the
// bank; SMS and e-mail receipts are signed with ReceiptSecret.
func (b *Bank) OutboxService() *outbox.Service {
	return outbox.NewService(outbox.ServiceDeps{Store: b.DB.Outbox(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB, Secrets: map[outbox.Channel][]byte{msgtemplate.SMS: []byte(ReceiptSecret),
			msgtemplate.Email: []byte(ReceiptSecret)}})
}
