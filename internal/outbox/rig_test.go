package outbox_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// rig is a test bank with an outbox over it; tests drive Dispatch by hand
// on the bank's fake clock.
type rig struct {
	t      *testing.T
	bank   *testkit.Bank
	db     *store.DB
	queue  *outbox.Queue
	slept  []time.Duration
	dir    string
	opt    msgtemplate.Options
	custID map[string]int64
}

func newRig(t *testing.T, db *store.DB) *rig {
	b := testkit.NewBank(t, db)
	r := &rig{t: t, bank: b, db: db, queue: outbox.NewQueue(db.Outbox(), b.Clock), dir: t.TempDir(),
		opt: msgtemplate.Options{Signature: "【客户银行】", Hotline: "95555"}, custID: map[string]int64{}}
	for k, c := range b.Customers {
		r.custID[k] = c.ID
	}
	// a1 gets an e-mail address for the e-mail tests.
	email := "zhang.wei@example.cn"
	if _, err := b.CustomerService().Update(b.As("admin"), b.Customers["a1"].ID, customer.Update{Email: &email}); err != nil {
		t.Fatal(err)
	}
	return r
}

// dispatcher returns a dispatcher over gateways whose Sleep advances the
// fake clock (and records the wait) instead of sleeping.
func (r *rig) dispatcher(gws map[outbox.Channel]outbox.Gateway, cfg outbox.Config, owner string) *outbox.Dispatcher {
	return r.dispatcherWith(gws, cfg, owner, nil)
}

// dispatcherWith is dispatcher with a send-time suppression check.
func (r *rig) dispatcherWith(gws map[outbox.Channel]outbox.Gateway, cfg outbox.Config, owner string,
	suppress func(context.Context, int64, outbox.Channel, msgtemplate.Purpose) (string, error)) *outbox.Dispatcher {
	return outbox.NewDispatcher(outbox.DispatcherDeps{Store: r.db.Outbox(), Gateways: gws, Templates: r.db.Templates(),
		Options: r.opt, Clock: r.bank.Clock, Config: cfg, Owner: owner, Suppress: suppress,
		Sleep: func(ctx context.Context, d time.Duration) {
			r.slept = append(r.slept, d)
			r.bank.Clock.Advance(d)
		}})
}

func (r *rig) fileGateway() *outbox.FileGateway {
	g, err := outbox.NewFileGateway(r.dir, false, r.bank.Clock)
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

func (r *rig) enqueue(rows ...outbox.New) outbox.Result {
	r.t.Helper()
	res, err := r.queue.Enqueue(context.Background(), rows)
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

func text(body string) *msgtemplate.Content { return &msgtemplate.Content{Body: body} }

func (r *rig) sms(key string, body string) outbox.New {
	return outbox.New{SourceKind: "campaign", SourceID: 7, CustomerID: r.custID[key], Channel: msgtemplate.SMS, Content: text(body)}
}

func (r *rig) messages() []outbox.Message {
	r.t.Helper()
	p, err := r.db.Outbox().ListMessages(context.Background(), outbox.Filter{Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	return p.Items
}

func (r *rig) message(id int64) outbox.Message {
	r.t.Helper()
	m, err := r.db.Outbox().GetMessage(context.Background(), id, customer.ScopeFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

func (r *rig) dispatch(x *outbox.Dispatcher, ch outbox.Channel) (int, bool) {
	r.t.Helper()
	n, temp, err := x.Dispatch(context.Background(), ch)
	if err != nil {
		r.t.Fatal(err)
	}
	return n, temp
}

// lines reads a file gateway's file.
func lines(t *testing.T, path string) []outbox.FileLine {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []outbox.FileLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l outbox.FileLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func amount(fen int64) *int64 { return &fen }

func date(y int, m time.Month, d int) *kehu.Date { return &kehu.Date{Year: y, Month: m, Day: d} }
