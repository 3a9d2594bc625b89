package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// RuleSet is an ordered list of tiers, each with a CEL condition over the
// per-customer features, and a default tier (RULES.md). The first rule that
// matches a customer gives its tier.
type RuleSet struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// HighValue lists the tiers that count as high value in KPIs.
	HighValue []string `yaml:"high_value,omitempty" json:"high_value,omitempty"`
	Rules     []Rule   `yaml:"rules" json:"rules"`
	Default   string   `yaml:"default" json:"default"`

	// Where the parts were in the parsed document, for error positions.
	pos docPositions
}

// Rule is one tier and its condition.
type Rule struct {
	Tier string `yaml:"tier" json:"tier"`
	When string `yaml:"when" json:"when"`
	// Line and Column locate the when value in the document (1-based), 0
	// when the rule was not parsed from a document.
	Line   int `yaml:"-" json:"-"`
	Column int `yaml:"-" json:"-"`

	tierPos pos
	// whenMap holds the document position of every character of whenSrc
	// (plus one past the end), so CEL positions inside quoted, folded or
	// block scalars land on the right document line and column.
	whenMap []pos
	whenSrc string
}

type pos struct{ line, col int }

type docPositions struct {
	root, rules, def pos
	name             pos
	highValue        []pos
}

// Document limits, checked before anything else.
const (
	MaxDocumentSize = 1 << 20
	MaxRules        = 100
	MaxTierLength   = 64
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidName reports whether name may name a rule set: letters, digits, '_'
// and '-', at most 64, as it appears in URLs and in by=tier:<name>.
func ValidName(name string) bool { return nameRE.MatchString(name) }

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// Parse reads a rule set document, YAML or JSON (JSON is YAML), keeping the
// position of every part so that Compile can report errors where they are.
// Structural problems (not a mapping, unknown fields, wrong shapes) are
// reported as an *InvalidError; the conditions are checked by Compile.
func Parse(doc []byte) (*RuleSet, error) {
	var errs errorList
	if len(doc) > MaxDocumentSize {
		errs.add(0, 0, 0, "document is %d bytes; the limit is %d", len(doc), MaxDocumentSize)
		return nil, errs.err()
	}
	if !utf8.Valid(doc) {
		errs.add(0, 0, 0, "document is not valid UTF-8")
		return nil, errs.err()
	}
	src := doc
	if trimmed := bytes.TrimLeft(doc, " \t\r\n"); len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		// JSON allows tabs as whitespace where YAML's scanner refuses them;
		// in valid JSON a raw tab can only be whitespace, and a space keeps
		// every column where it was.
		src = bytes.ReplaceAll(doc, []byte{'\t'}, []byte{' '})
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			errs.add(0, 0, 0, "document is empty")
		} else {
			errs.add(0, yamlErrLine(err), 0, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return nil, errs.err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			line = yamlErrLine(err)
		}
		errs.add(0, line, 0, "document holds more than one YAML document")
		return nil, errs.err()
	}
	p := &parser{lines: splitLines(string(src))}
	rs := p.ruleSet(&root, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rs, nil
}

func yamlErrLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func splitLines(s string) [][]rune {
	raw := strings.Split(s, "\n")
	lines := make([][]rune, len(raw))
	for i, l := range raw {
		lines[i] = []rune(strings.TrimSuffix(l, "\r"))
	}
	return lines
}

type parser struct {
	lines [][]rune
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func at(n *yaml.Node) pos { return pos{n.Line, n.Column} }

// scalar returns the text of a scalar node; null is the empty string.
func scalar(n *yaml.Node, what string, rule int, errs *errorList) (string, bool) {
	n = resolve(n)
	if n == nil {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		errs.add(rule, n.Line, n.Column, "%s must be a single value, not a %s", what, kindName(n))
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return n.Value, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	}
	return "node"
}

func (p *parser) ruleSet(root *yaml.Node, errs *errorList) *RuleSet {
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			errs.add(0, 0, 0, "document is empty")
			return nil
		}
		n = n.Content[0]
	}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		errs.add(0, n.Line, n.Column, "a rule set must be a mapping with name, rules and default, not a %s", kindName(n))
		return nil
	}
	rs := &RuleSet{}
	rs.pos.root = at(n)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if seen[key] {
			errs.add(0, k.Line, k.Column, "field %q appears twice", key)
			continue
		}
		seen[key] = true
		switch key {
		case "name":
			rs.Name, _ = scalar(v, "name", 0, errs)
			rs.pos.name = at(resolve(v))
		case "description":
			rs.Description, _ = scalar(v, "description", 0, errs)
		case "default":
			rs.Default, _ = scalar(v, "default", 0, errs)
			rs.pos.def = at(resolve(v))
		case "high_value":
			rs.HighValue, rs.pos.highValue = p.highValue(v, errs)
		case "rules":
			rs.pos.rules = at(k)
			rs.Rules = p.rules(v, errs)
		default:
			errs.add(0, k.Line, k.Column, "unknown field %q (a rule set has name, description, high_value, rules and default)", key)
		}
	}
	return rs
}

func (p *parser) highValue(v *yaml.Node, errs *errorList) ([]string, []pos) {
	v = resolve(v)
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		errs.add(0, v.Line, v.Column, "high_value must be a list of tier names, not a %s", kindName(v))
		return nil, nil
	}
	var names []string
	var at_ []pos
	for _, item := range v.Content {
		s, ok := scalar(item, "a high_value entry", 0, errs)
		if ok {
			names = append(names, s)
			at_ = append(at_, at(resolve(item)))
		}
	}
	return names, at_
}

func (p *parser) rules(v *yaml.Node, errs *errorList) []Rule {
	v = resolve(v)
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		errs.add(0, v.Line, v.Column, "rules must be a list of {tier, when}, not a %s", kindName(v))
		return nil
	}
	if len(v.Content) > MaxRules {
		errs.add(0, v.Line, v.Column, "%d rules; the limit is %d", len(v.Content), MaxRules)
		return nil
	}
	out := make([]Rule, 0, len(v.Content))
	for i, item := range v.Content {
		idx := i + 1
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			errs.add(idx, item.Line, item.Column, "a rule must be a mapping with tier and when, not a %s", kindName(item))
			continue
		}
		r := Rule{tierPos: at(item), Line: item.Line, Column: item.Column}
		seen := map[string]bool{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, val := item.Content[j], item.Content[j+1]
			if seen[k.Value] {
				errs.add(idx, k.Line, k.Column, "field %q appears twice", k.Value)
				continue
			}
			seen[k.Value] = true
			switch k.Value {
			case "tier":
				r.Tier, _ = scalar(val, "tier", idx, errs)
				r.tierPos = at(resolve(val))
			case "when":
				w, ok := scalar(val, "when", idx, errs)
				if !ok {
					continue
				}
				wn := resolve(val)
				r.When, r.whenSrc = w, w
				r.Line, r.Column = wn.Line, wn.Column
				r.whenMap = p.scalarMap(wn, w)
				if len(r.whenMap) > 0 && w != "" {
					r.Line, r.Column = r.whenMap[0].line, r.whenMap[0].col
				}
			default:
				errs.add(idx, k.Line, k.Column, "unknown field %q in a rule (a rule has tier and when)", k.Value)
			}
		}
		if !seen["when"] {
			errs.add(idx, item.Line, item.Column, "rule has no when")
		}
		out = append(out, r)
	}
	return out
}

// scalarMap aligns the scalar's value with the document text and returns
// the document position (1-based) of every rune of value, plus one past the
// end. YAML folds lines, strips indentation and resolves escapes, so the
// value's characters are not at fixed offsets from the node's position; the
// alignment walks both and skips what YAML removed.
func (p *parser) scalarMap(n *yaml.Node, value string) []pos {
	if n.Line <= 0 || n.Line > len(p.lines) {
		return nil
	}
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	double := n.Style&yaml.DoubleQuotedStyle != 0
	cur := newScalarCursor(p.lines, n)
	vals := []rune(value)
	out := make([]pos, 0, len(vals)+1)
	for i := 0; i < len(vals); {
		sc, ok := cur.ch()
		if !ok {
			// The source ran out first: the rest maps to where it ended.
			last := cur.here()
			for ; i < len(vals); i++ {
				out = append(out, last)
			}
			break
		}
		vc := vals[i]
		switch {
		case sc == vc && !(double && sc == '\\'):
			out = append(out, cur.here())
			i++
			cur.advance()
		case double && sc == '\\':
			// An escape: one value character for several source ones, or
			// none for an escaped line break.
			if start, ok := cur.skipEscape(); ok {
				out = append(out, start)
				i++
			}
		case quoted && !double && sc == '\'':
			// '' stands for one quote.
			out = append(out, cur.here())
			i++
			cur.advance()
			cur.advance()
		case sc == ' ' || sc == '\t' || sc == '\n':
			cur.advance()
		case vc == ' ' || vc == '\n':
			out = append(out, cur.here())
			i++
		default:
			out = append(out, cur.here())
			i++
			cur.advance()
		}
	}
	out = append(out, cur.here())
	return out
}

// scalarCursor walks the source text of a scalar as YAML reads it: past
// the end of a line it goes to the next line's content, skipping the
// indentation YAML strips.
type scalarCursor struct {
	lines  [][]rune
	l, c   int  // the current rune: 0-based line and column
	block  bool // a literal or folded block scalar, indented by indent
	indent int
}

// newScalarCursor places a cursor on the first rune of n's content.
func newScalarCursor(lines [][]rune, n *yaml.Node) *scalarCursor {
	s := &scalarCursor{lines: lines, l: n.Line - 1, c: n.Column - 1}
	s.block = n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	if s.block {
		// Content starts on the line after the indicator; its indentation
		// is that of the first non-blank line.
		s.l, s.c = n.Line, 0
		for k := n.Line; k < len(lines); k++ {
			if sp := leadingSpaces(lines[k]); sp < len(lines[k]) {
				s.indent = sp
				break
			}
		}
		if s.l < len(lines) {
			s.c = min(s.indent, leadingSpaces(lines[s.l]))
		}
	} else if quoted {
		s.c++
	}
	return s
}

// ch returns the current rune, '\n' at the end of a line that has another
// after it; false at the end of the text.
func (s *scalarCursor) ch() (rune, bool) {
	if s.l >= len(s.lines) {
		return 0, false
	}
	if s.c < len(s.lines[s.l]) {
		return s.lines[s.l][s.c], true
	}
	if s.l+1 < len(s.lines) {
		return '\n', true
	}
	return 0, false
}

// advance moves to the next rune, past the next line's indentation.
func (s *scalarCursor) advance() {
	if s.l < len(s.lines) && s.c < len(s.lines[s.l]) {
		s.c++
		return
	}
	s.l++
	s.c = 0
	if s.l < len(s.lines) {
		if s.block {
			s.c = min(s.indent, leadingSpaces(s.lines[s.l]))
		} else {
			s.c = leadingBlanks(s.lines[s.l])
		}
	}
}

// here is the current rune's 1-based document position.
func (s *scalarCursor) here() pos { return pos{s.l + 1, s.c + 1} }

// skipEscape moves past the double-quoted escape at the cursor's
// backslash. It returns the backslash's position and whether the escape
// stands for a value character: an escaped line break stands for none.
func (s *scalarCursor) skipEscape() (pos, bool) {
	start := s.here()
	s.advance()
	next, _ := s.ch()
	if next == '\n' {
		s.advance()
		return start, false
	}
	width := 1
	switch next {
	case 'x':
		width = 3
	case 'u':
		width = 5
	case 'U':
		width = 9
	}
	for k := 0; k < width; k++ {
		s.advance()
	}
	return start, true
}

func leadingSpaces(line []rune) int {
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	return n
}

func leadingBlanks(line []rune) int {
	n := 0
	for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	return n
}

// docPos maps a CEL location (1-based line, 0-based column in runes) in the
// rule's condition to a 1-based document position.
func (r *Rule) docPos(celLine, celCol int) (int, int) {
	if celLine <= 0 {
		return r.Line, r.Column
	}
	if celCol < 0 {
		celCol = 0
	}
	if r.whenMap != nil && r.whenSrc == r.When {
		off, line := 0, 1
		for _, ch := range r.When {
			if line == celLine {
				break
			}
			off++
			if ch == '\n' {
				line++
			}
		}
		off += celCol
		if off >= len(r.whenMap) {
			off = len(r.whenMap) - 1
		}
		return r.whenMap[off].line, r.whenMap[off].col
	}
	if r.Line > 0 {
		if celLine == 1 {
			return r.Line, r.Column + celCol
		}
		return r.Line + celLine - 1, celCol + 1
	}
	return celLine, celCol + 1
}

// String renders a rule set as a YAML document; Parse reads it back.
func (rs *RuleSet) String() string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(rs); err != nil {
		return fmt.Sprintf("# cannot encode rule set: %v\n", err)
	}
	_ = enc.Close()
	return b.String()
}
