package msgtemplate

import (
	"context"
	"fmt"
	"strings"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// Store keeps templates and their versions.
type Store interface {
	// CreateTemplate stores t (Version 1) and its first version; it sets t.ID.
	CreateTemplate(ctx context.Context, t *Template) error
	// AddVersion stores version t.Version of t.ID and makes it current,
	// provided the current version is still t.Version-1 (ECONFLICT otherwise:
	// someone saved meanwhile).
	AddVersion(ctx context.Context, t Template) error
	GetTemplate(ctx context.Context, id int64) (Template, error)
	// GetVersion returns a past or current version (ENOTFOUND if none).
	GetVersion(ctx context.Context, id int64, version int) (Version, error)
	ListTemplates(ctx context.Context, ch Channel) ([]Template, error)
	ListVersions(ctx context.Context, id int64) ([]Version, error)
}

// Deps are what the service needs.
type Deps struct {
	Store   Store
	Clock   kehu.Clock
	Audit   audit.Recorder
	Tx      kehu.Transactor
	Options Options
}

// Service manages templates; every method needs marketing.write (templates
// are what marketing sends in the bank's name).
type Service struct{ d Deps }

// NewService returns the template service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{d: d}
}

// Options returns the bank's template settings (signature, hotline).
func (s *Service) Options() Options { return s.d.Options }

// Input is a template as an editor sends it.
type Input struct {
	Name    string  `json:"name"`
	Channel Channel `json:"channel"`
	Purpose Purpose `json:"purpose"`
	Content Content `json:"content"`
	Note    string  `json:"note"`
	// Version is the version the edit was based on (updates only): saving
	// over a newer version is refused.
	Version int `json:"version"`
}

func actor(ctx context.Context) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return a, kehu.Errorf(kehu.EUNAUTHORIZED, "sign in first")
	}
	if !access.Can(a.Role, access.MarketingWrite) {
		return a, kehu.Errorf(kehu.EFORBIDDEN, "message templates need the marketing.write permission")
	}
	return a, nil
}

func clean(in *Input) {
	in.Name = strings.TrimSpace(in.Name)
	in.Note = strings.TrimSpace(in.Note)
	in.Content.Subject = strings.TrimSpace(in.Content.Subject)
	in.Content.Body = strings.TrimSpace(in.Content.Body)
	in.Content.ExternalID = strings.TrimSpace(in.Content.ExternalID)
	for i := range in.Content.Fields {
		in.Content.Fields[i].Key = strings.TrimSpace(in.Content.Fields[i].Key)
	}
}

// Create validates and stores a new template at version 1.
func (s *Service) Create(ctx context.Context, in Input) (Template, error) {
	a, err := actor(ctx)
	if err != nil {
		return Template{}, err
	}
	clean(&in)
	if err := Validate(in.Name, in.Channel, in.Purpose, in.Content, s.d.Options); err != nil {
		return Template{}, err
	}
	now := s.d.Clock.Now().UTC()
	t := Template{Name: in.Name, Channel: in.Channel, Purpose: in.Purpose, Version: 1, Content: in.Content,
		Note: in.Note, CreatedBy: a.UserID, UpdatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if err := s.d.Store.CreateTemplate(ctx, &t); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: "template.create", Object: fmt.Sprintf("template:%d", t.ID),
			Changes: []audit.Change{{Field: "version", New: "1"}, {Field: "channel", New: string(t.Channel)}}})
	})
	if err != nil {
		return Template{}, err
	}
	t.Variables = t.Content.UsedVariables()
	return t, nil
}

// Update saves a new version of template id; channel is fixed at creation
// (a message's rendering depends on it).
func (s *Service) Update(ctx context.Context, id int64, in Input) (Template, error) {
	a, err := actor(ctx)
	if err != nil {
		return Template{}, err
	}
	clean(&in)
	var t Template
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.d.Store.GetTemplate(ctx, id)
		if err != nil {
			return err
		}
		if in.Channel == "" {
			in.Channel = cur.Channel
		}
		var v kehu.Validation
		if in.Channel != cur.Channel {
			v.Add("channel", "cannot change; create a template for the other channel")
		}
		if in.Version == 0 {
			v.Add("version", "is required: the version the edit started from")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := Validate(in.Name, in.Channel, in.Purpose, in.Content, s.d.Options); err != nil {
			return err
		}
		if in.Version != cur.Version {
			return kehu.Errorf(kehu.ECONFLICT, "template %d is at version %d, not %d: someone saved meanwhile; reload", id, cur.Version, in.Version)
		}
		t = cur
		t.Name, t.Purpose, t.Content, t.Note = in.Name, in.Purpose, in.Content, in.Note
		t.Version = cur.Version + 1
		t.UpdatedBy, t.UpdatedAt = a.UserID, s.d.Clock.Now().UTC()
		if err := s.d.Store.AddVersion(ctx, t); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: "template.update", Object: fmt.Sprintf("template:%d", t.ID),
			Changes: []audit.Change{{Field: "version", Old: fmt.Sprint(cur.Version), New: fmt.Sprint(t.Version)}}, Reason: in.Note})
	})
	if err != nil {
		return Template{}, err
	}
	t.Variables = t.Content.UsedVariables()
	return t, nil
}

// Get returns a template at its current version.
func (s *Service) Get(ctx context.Context, id int64) (Template, error) {
	if _, err := actor(ctx); err != nil {
		return Template{}, err
	}
	t, err := s.d.Store.GetTemplate(ctx, id)
	t.Variables = t.Content.UsedVariables()
	return t, err
}

// List returns the templates, of one channel when ch is set.
func (s *Service) List(ctx context.Context, ch Channel) ([]Template, error) {
	if _, err := actor(ctx); err != nil {
		return nil, err
	}
	if ch != "" && !ValidChannel(ch) {
		return nil, &kehu.Error{Code: kehu.EINVALID, Message: "unknown channel",
			Fields: []kehu.FieldError{{Field: "channel", Reason: "must be sms, push, wechat or email"}}}
	}
	ts, err := s.d.Store.ListTemplates(ctx, ch)
	for i := range ts {
		ts[i].Variables = ts[i].Content.UsedVariables()
	}
	return ts, err
}

// Versions returns every version of a template, newest first.
func (s *Service) Versions(ctx context.Context, id int64) ([]Version, error) {
	if _, err := actor(ctx); err != nil {
		return nil, err
	}
	if _, err := s.d.Store.GetTemplate(ctx, id); err != nil {
		return nil, err
	}
	return s.d.Store.ListVersions(ctx, id)
}

// Preview is what the editor shows beside the text.
type Preview struct {
	Rendered *Rendered         `json:"rendered,omitempty"`
	Errors   []kehu.FieldError `json:"errors"`
}

// Preview validates an unsaved template and renders it with d (the sample
// data when nil). Problems come back as a list rather than an error, so
// the editor can show them while the operator types.
func (s *Service) Preview(ctx context.Context, in Input, d *Data) (Preview, error) {
	if _, err := actor(ctx); err != nil {
		return Preview{}, err
	}
	clean(&in)
	name := in.Name
	if name == "" {
		name = "preview" // an unnamed draft still previews
	}
	p := Preview{Errors: []kehu.FieldError{}}
	if err := Validate(name, in.Channel, in.Purpose, in.Content, s.d.Options); err != nil {
		p.Errors = append(p.Errors, kehu.ErrorFields(err)...)
	}
	if !ValidChannel(in.Channel) {
		return p, nil
	}
	data := Sample()
	if d != nil {
		data = *d
	}
	r, err := Render(in.Channel, in.Content, data, s.d.Options)
	if err != nil {
		if fs := kehu.ErrorFields(err); len(fs) > 0 {
			p.Errors = append(p.Errors, fs...)
		} else if len(p.Errors) == 0 {
			p.Errors = append(p.Errors, kehu.FieldError{Field: "body", Reason: kehu.ErrorMessage(err)})
		}
		return p, nil
	}
	p.Rendered = &r
	return p, nil
}
