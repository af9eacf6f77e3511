package level

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// Audit actions of the level engine.
const (
	ActionRuleDraft    = "level.rule_draft"    // a draft created or edited; Object "level_rule:<version>"
	ActionRuleActivate = "level.rule_activate" // a draft activated, the previous version retired
	ActionRulePreview  = "level.rule_preview"  // the distribution under a draft was computed
	ActionRecompute    = "level.recompute"     // a batch recompute ran; Count is the changed levels
	ActionRead         = "customer.level"      // a customer's level and reasons were shown
)

// maxNote bounds the free-text note of a version.
const maxNote = 500

func ruleObject(v int) string { return "level_rule:" + strconv.Itoa(v) }

// Versions lists the rule versions, newest first. Anyone who serves
// customers may read the active and past rules (an RM explains a level to a
// customer); drafts are shown to rule managers only.
func (s *Service) Versions(ctx context.Context) ([]Version, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.Versions(ctx)
	if err != nil {
		return nil, fmt.Errorf("level rules: %w", err)
	}
	if access.Can(a.Role, access.LevelManage) {
		return vs, nil
	}
	out := vs[:0]
	for _, v := range vs {
		if v.Status != StatusDraft {
			out = append(out, v)
		}
	}
	return out, nil
}

// Version returns one version; a draft is not found for non-managers.
func (s *Service) Version(ctx context.Context, version int) (Version, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return Version{}, err
	}
	v, err := s.store.Version(ctx, version)
	if err != nil {
		return Version{}, err
	}
	if v.Status == StatusDraft && !access.Can(a.Role, access.LevelManage) {
		return Version{}, kehu.Errorf(kehu.ENOTFOUND, "level rule version %d not found", version)
	}
	return v, nil
}

// Active returns the rule in force.
func (s *Service) Active(ctx context.Context) (Version, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return Version{}, err
	}
	return s.store.ActiveVersion(ctx)
}

func checkNote(v *kehu.Validation, note string) string {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > maxNote {
		v.Add("note", fmt.Sprintf("must have at most %d characters", maxNote))
	}
	return note
}

// validate checks the rule and note together, naming each bad part.
func validate(r *Rule, note string) (string, error) {
	var v kehu.Validation
	note = checkNote(&v, note)
	err := r.Validate()
	for _, f := range kehu.ErrorFields(err) {
		v.Add("rule."+f.Field, f.Reason)
	}
	return note, v.Err()
}

// CreateDraft stores r as a new draft version.
func (s *Service) CreateDraft(ctx context.Context, r Rule, note string) (Version, error) {
	a, err := access.ActorWith(ctx, access.LevelManage)
	if err != nil {
		return Version{}, err
	}
	if note, err = validate(&r, note); err != nil {
		return Version{}, err
	}
	now := s.clock.Now()
	var out Version
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.store.CreateVersion(ctx, Version{Status: StatusDraft, Rule: r, Note: note, CreatedBy: &a.UserID,
			CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionRuleDraft, Object: ruleObject(out.Version),
			Changes: []audit.Change{{Field: "rule", New: r.JSON()}}, Reason: note})
	})
	if err != nil {
		return Version{}, err
	}
	return s.store.Version(ctx, out.Version)
}

// UpdateDraft replaces a draft's rule and note; a version that is active or
// retired is immutable (ECONFLICT), so what was in force stays on record.
func (s *Service) UpdateDraft(ctx context.Context, version int, r Rule, note string) (Version, error) {
	if _, err := access.ActorWith(ctx, access.LevelManage); err != nil {
		return Version{}, err
	}
	note, err := validate(&r, note)
	if err != nil {
		return Version{}, err
	}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.Version(ctx, version)
		if err != nil {
			return err
		}
		if cur.Status != StatusDraft {
			return kehu.Errorf(kehu.ECONFLICT, "version %d is %s, not a draft: create a new draft instead", version, cur.Status)
		}
		if err := s.store.UpdateDraft(ctx, version, r, note, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionRuleDraft, Object: ruleObject(version),
			Changes: []audit.Change{{Field: "rule", Old: cur.Rule.JSON(), New: r.JSON()}}, Reason: note})
	})
	if err != nil {
		return Version{}, err
	}
	return s.store.Version(ctx, version)
}

// Activate puts a draft in force and retires the rule it replaces. Levels
// follow at the next recompute (nightly, or one the administrator starts).
func (s *Service) Activate(ctx context.Context, version int) (Version, error) {
	a, err := access.ActorWith(ctx, access.LevelManage)
	if err != nil {
		return Version{}, err
	}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.store.ActiveVersion(ctx)
		if err != nil {
			return err
		}
		if err := s.store.Activate(ctx, version, a.UserID, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionRuleActivate, Object: ruleObject(version),
			Changes: []audit.Change{{Field: "active_version", Old: strconv.Itoa(old.Version), New: strconv.Itoa(version)}}})
	})
	if err != nil {
		return Version{}, err
	}
	return s.store.Version(ctx, version)
}
