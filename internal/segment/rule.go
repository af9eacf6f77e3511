package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/kehu"
)

// Limits of a rule, so a pasted monster cannot make the compiler or the
// database work without bound.
const (
	MaxDepth = 8
	MaxNodes = 200
)

// Rule is the JSON form of a segment rule, exactly one of: a group "all"
// (AND), "any" (OR), "not"; a condition {"field", "op", "value"} with
// "window_days" and the field's parameters where it needs them; or
// {"segment": id}, membership of another segment. It is what is stored and
// what the API exchanges; Parse checks it strictly.
type Rule struct {
	All        []Rule          `json:"all,omitempty"`
	Any        []Rule          `json:"any,omitempty"`
	Not        *Rule           `json:"not,omitempty"`
	Field      string          `json:"field,omitempty"`
	Op         Op              `json:"op,omitempty"`
	Value      json.RawMessage `json:"value,omitempty"`
	WindowDays int             `json:"window_days,omitempty"`
	Event      string          `json:"event,omitempty"`
	Channel    string          `json:"channel,omitempty"`
	Segment    int64           `json:"segment,omitempty"`

	kind nodeKind
	// The condition's checked value.
	ints []int64
	strs []string
}

type nodeKind int

const (
	kindAll nodeKind = iota + 1
	kindAny
	kindNot
	kindCond
	kindRef
)

// Parse reads and checks a rule. Every mistake is a kehu EINVALID error
// whose message and field name the bad part by its path, as in
// `all[1].any[0]: unknown field "aum_x"`. Segment references are checked
// for existence and cycles later, by Plan, which can read other segments.
func Parse(raw []byte) (*Rule, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, invalid("", "a rule is required")
	}
	nodes := 0
	r, err := parseNode(raw, "", 1, &nodes)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// JSON returns the canonical JSON text of a parsed rule.
func (r *Rule) JSON() []byte {
	b, err := marshal(r)
	if err != nil { // a parsed rule holds only marshalable values
		panic(err)
	}
	return b
}

// marshal is json.Marshal without HTML escaping, so operators read ">=" in
// the stored text rather than "\u003e=".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// invalid is the error for the part of the rule at path.
func invalid(path, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	where, field := path, "rule"
	if path == "" {
		where = "rule"
	} else {
		field = "rule." + path
	}
	return &kehu.Error{Code: kehu.EINVALID, Message: where + ": " + reason,
		Fields: []kehu.FieldError{{Field: field, Reason: reason}}}
}

func join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

var nodeMembers = map[string]bool{"all": true, "any": true, "not": true, "field": true, "op": true, "value": true,
	"window_days": true, "event": true, "channel": true, "segment": true}

func parseNode(raw []byte, path string, depth int, nodes *int) (*Rule, error) {
	*nodes++
	if *nodes > MaxNodes {
		return nil, invalid(path, "a rule may have at most %d conditions and groups", MaxNodes)
	}
	if depth > MaxDepth {
		return nil, invalid(path, "groups may be nested at most %d deep", MaxDepth)
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, invalid(path, "must be a JSON object (a group all/any/not, a condition or a segment reference)")
	}
	var keys []string
	for k := range m {
		if !nodeMembers[k] {
			return nil, invalid(path, "unknown member %q", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r := &Rule{}
	groups := 0
	for _, k := range []string{"all", "any", "not", "field", "segment"} {
		if _, ok := m[k]; ok {
			groups++
		}
	}
	if groups != 1 {
		return nil, invalid(path, "must have exactly one of all, any, not, field or segment (has %s)", strings.Join(keys, ", "))
	}
	switch {
	case m["all"] != nil || m["any"] != nil:
		name, list := "all", m["all"]
		r.kind = kindAll
		if list == nil {
			name, list, r.kind = "any", m["any"], kindAny
		}
		if len(keys) != 1 {
			return nil, invalid(path, "a group %q must have no other members", name)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(list, &items); err != nil || items == nil {
			return nil, invalid(join(path, name), "must be a list of conditions and groups")
		}
		kids := make([]Rule, 0, len(items))
		for i, it := range items {
			k, err := parseNode(it, fmt.Sprintf("%s[%d]", join(path, name), i), depth+1, nodes)
			if err != nil {
				return nil, err
			}
			kids = append(kids, *k)
		}
		if r.kind == kindAll {
			r.All = kids
		} else {
			r.Any = kids
		}
	case m["not"] != nil:
		r.kind = kindNot
		if len(keys) != 1 {
			return nil, invalid(path, `a group "not" must have no other members`)
		}
		k, err := parseNode(m["not"], join(path, "not"), depth+1, nodes)
		if err != nil {
			return nil, err
		}
		r.Not = k
	case m["segment"] != nil:
		r.kind = kindRef
		if len(keys) != 1 {
			return nil, invalid(path, "a segment reference must have no other members")
		}
		id, err := strconv.ParseInt(string(bytes.TrimSpace(m["segment"])), 10, 64)
		if err != nil || id <= 0 {
			return nil, invalid(join(path, "segment"), "must be the id of a segment (a positive integer)")
		}
		r.Segment = id
	default:
		if err := parseCond(r, m, path); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func str(m map[string]json.RawMessage, key string) (string, bool) {
	var s string
	if m[key] == nil || json.Unmarshal(m[key], &s) != nil {
		return "", false
	}
	return s, true
}

func parseCond(r *Rule, m map[string]json.RawMessage, path string) error {
	r.kind = kindCond
	name, ok := str(m, "field")
	if !ok {
		return invalid(join(path, "field"), "must be a field name (a string)")
	}
	f, known := Lookup(name)
	if !known {
		return invalid(path, "unknown field %q", name)
	}
	r.Field = name
	op, ok := str(m, "op")
	if !ok {
		return invalid(join(path, "op"), "an operator is required for field %q", name)
	}
	r.Op = Op(op)
	if !slices.Contains(AllOps, r.Op) {
		return invalid(join(path, "op"), "unknown operator %q", op)
	}
	if !f.allows(r.Op) {
		return invalid(join(path, "op"), "operator %q does not apply to %s field %q (allowed: %s)", op, f.Type, name, opList(f.Ops))
	}
	// The window and the parameters.
	if f.Window {
		if m["window_days"] == nil {
			return invalid(join(path, "window_days"), "field %q needs window_days (1–%d)", name, MaxWindowDays)
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(m["window_days"])))
		if err != nil || n < 1 || n > MaxWindowDays {
			return invalid(join(path, "window_days"), "must be a whole number of days from 1 to %d", MaxWindowDays)
		}
		r.WindowDays = n
	} else if m["window_days"] != nil {
		return invalid(join(path, "window_days"), "field %q has no time window", name)
	}
	for _, p := range []string{ParamEvent, ParamChannel} {
		i := slices.IndexFunc(f.Params, func(x Param) bool { return x.Name == p })
		if i < 0 {
			if m[p] != nil {
				return invalid(join(path, p), "field %q takes no %q", name, p)
			}
			continue
		}
		prm := f.Params[i]
		if m[p] == nil {
			if prm.Required {
				return invalid(join(path, p), "field %q needs %q", name, p)
			}
			continue
		}
		v, ok := str(m, p)
		if !ok || !slices.ContainsFunc(prm.Options, func(o Option) bool { return o.Value == v }) {
			return invalid(join(path, p), "must be one of %s", optionList(prm.Options))
		}
		if p == ParamEvent {
			r.Event = v
		} else {
			r.Channel = v
		}
	}
	// The value.
	vpath := join(path, "value")
	raw := m["value"]
	switch r.Op {
	case OpIsNull, OpIsNotNull:
		if raw != nil && string(bytes.TrimSpace(raw)) != "null" {
			return invalid(vpath, "operator %q takes no value", op)
		}
		return nil
	case OpIn, OpNotIn, OpBetween:
		var items []json.RawMessage
		if raw == nil || json.Unmarshal(raw, &items) != nil {
			if r.Op == OpBetween {
				return invalid(vpath, "operator %q needs a list [low, high]", op)
			}
			return invalid(vpath, "operator %q needs a list of values", op)
		}
		if r.Op == OpBetween && len(items) != 2 {
			return invalid(vpath, "operator %q needs exactly two values [low, high]", op)
		}
		if len(items) == 0 || len(items) > maxListValues {
			return invalid(vpath, "must list 1 to %d values", maxListValues)
		}
		for i, it := range items {
			if err := r.addValue(f, it, fmt.Sprintf("%s[%d]", vpath, i)); err != nil {
				return err
			}
		}
		if r.Op == OpBetween && r.less(1, 0) {
			return invalid(vpath, "the low value must not exceed the high value")
		}
	default:
		if raw == nil {
			return invalid(vpath, "operator %q needs a value", op)
		}
		if err := r.addValue(f, raw, vpath); err != nil {
			return err
		}
	}
	r.Value = canonicalValue(f, r)
	return nil
}

// less compares the i-th and j-th checked values.
func (r *Rule) less(i, j int) bool {
	if r.ints != nil {
		return r.ints[i] < r.ints[j]
	}
	return r.strs[i] < r.strs[j]
}

// addValue checks one value against the field's type and keeps it: ints
// for integer, money (fen), id and boolean (0/1) fields, strings for enum,
// text and date fields.
func (r *Rule) addValue(f *Field, raw json.RawMessage, path string) error {
	raw = bytes.TrimSpace(raw)
	switch f.Type {
	case TypeInteger, TypeID:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			if f.Type == TypeID {
				return invalid(path, "field %q needs an id (a positive whole number), got %s", f.Name, raw)
			}
			return invalid(path, "field %q needs a whole number, got %s", f.Name, raw)
		}
		if f.Type == TypeID && n <= 0 {
			return invalid(path, "field %q needs an id (a positive whole number), got %s", f.Name, raw)
		}
		if f.Min != nil && n < *f.Min || f.Max != nil && n > *f.Max {
			return invalid(path, "field %q takes values from %d to %d, got %d", f.Name, *f.Min, *f.Max, n)
		}
		r.ints = append(r.ints, n)
	case TypeMoney:
		fen, err := yuanToFen(string(raw))
		if err != nil {
			return invalid(path, "field %q needs an amount in yuan (a number with at most two decimals), got %s", f.Name, raw)
		}
		r.ints = append(r.ints, fen)
	case TypeBool:
		switch string(raw) {
		case "true":
			r.ints = append(r.ints, 1)
		case "false":
			r.ints = append(r.ints, 0)
		default:
			return invalid(path, "field %q needs true or false, got %s", f.Name, raw)
		}
	case TypeEnum:
		var s string
		if json.Unmarshal(raw, &s) != nil || !slices.ContainsFunc(f.Enum, func(o Option) bool { return o.Value == s }) {
			return invalid(path, "field %q takes one of %s, got %s", f.Name, optionList(f.Enum), raw)
		}
		r.strs = append(r.strs, s)
	case TypeText:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return invalid(path, "field %q needs a text value, got %s", f.Name, raw)
		}
		if s == "" || utf8.RuneCountInString(s) > maxTextValue {
			return invalid(path, "field %q needs a text of 1 to %d characters", f.Name, maxTextValue)
		}
		r.strs = append(r.strs, s)
	case TypeDate:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return invalid(path, "field %q needs a date \"YYYY-MM-DD\", got %s", f.Name, raw)
		}
		d, err := kehu.ParseDate(s)
		if err != nil || d.Year < 1900 || d.Year > 2200 {
			return invalid(path, "field %q needs a date \"YYYY-MM-DD\" (1900–2200), got %s", f.Name, raw)
		}
		r.strs = append(r.strs, d.String())
	}
	return nil
}

// yuanToFen reads a JSON number of yuan with at most two decimals exactly.
func yuanToFen(s string) (int64, error) {
	if !json.Valid([]byte(s)) || strings.HasPrefix(s, "\"") {
		return 0, fmt.Errorf("not a number")
	}
	x, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	x.Mul(x, big.NewRat(100, 1))
	if !x.IsInt() {
		return 0, fmt.Errorf("more than two decimals")
	}
	lim := big.NewInt(maxMoneyYuan * 100)
	n := x.Num()
	if n.CmpAbs(lim) > 0 {
		return 0, fmt.Errorf("too large")
	}
	return n.Int64(), nil
}

// canonicalValue writes the checked value back in one form (amounts as
// yuan numbers, dates as strings), so a stored rule reads the same however
// it was typed.
func canonicalValue(f *Field, r *Rule) json.RawMessage {
	var vals []any
	if r.ints != nil {
		for _, n := range r.ints {
			switch f.Type {
			case TypeMoney:
				vals = append(vals, json.Number(fenToYuan(n)))
			case TypeBool:
				vals = append(vals, n == 1)
			default:
				vals = append(vals, n)
			}
		}
	} else {
		for _, s := range r.strs {
			vals = append(vals, s)
		}
	}
	var v any = vals
	if r.Op != OpIn && r.Op != OpNotIn && r.Op != OpBetween {
		v = vals[0]
	}
	b, _ := json.Marshal(v)
	return b
}

// fenToYuan formats fen as a decimal number of yuan ("100000", "12.5").
func fenToYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	s := sign + strconv.FormatInt(fen/100, 10)
	if c := fen % 100; c != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", c), "0")
	}
	return s
}

func opList(ops []Op) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, " ")
}

func optionList(opts []Option) string {
	s := make([]string, len(opts))
	for i, o := range opts {
		s[i] = strconv.Quote(o.Value)
	}
	return strings.Join(s, ", ")
}

// MarshalJSON writes the rule in its canonical shape: a group keeps an empty
// list ({"all": []} is "every customer", {"any": []} "none").
func (r Rule) MarshalJSON() ([]byte, error) {
	switch r.kind {
	case kindAll:
		return marshal(struct {
			All []Rule `json:"all"`
		}{nonNil(r.All)})
	case kindAny:
		return marshal(struct {
			Any []Rule `json:"any"`
		}{nonNil(r.Any)})
	case kindNot:
		return marshal(struct {
			Not *Rule `json:"not"`
		}{r.Not})
	case kindRef:
		return marshal(struct {
			Segment int64 `json:"segment"`
		}{r.Segment})
	}
	type plain struct {
		Field      string          `json:"field"`
		Op         Op              `json:"op"`
		Value      json.RawMessage `json:"value,omitempty"`
		WindowDays int             `json:"window_days,omitempty"`
		Event      string          `json:"event,omitempty"`
		Channel    string          `json:"channel,omitempty"`
	}
	return marshal(plain{r.Field, r.Op, r.Value, r.WindowDays, r.Event, r.Channel})
}

func nonNil(rs []Rule) []Rule {
	if rs == nil {
		return []Rule{}
	}
	return rs
}

// UnmarshalJSON parses and checks the rule (see Parse), so a Rule inside a
// request body is checked as it is decoded.
func (r *Rule) UnmarshalJSON(b []byte) error {
	p, err := Parse(b)
	if err != nil {
		return err
	}
	*r = *p
	return nil
}
