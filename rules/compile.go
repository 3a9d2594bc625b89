package rules

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
)

// Limits on one condition. A rule set over any of them is refused at save
// time with a message naming the limit.
const (
	// MaxExpressionLength bounds a condition's length in characters.
	MaxExpressionLength = 2000
	// MaxNestingDepth bounds the depth of a condition's expression tree
	// (chains of && and || count as balanced trees).
	MaxNestingDepth = 32
	// MaxCost bounds CEL's estimated worst-case cost of evaluating one
	// condition for one customer; evaluation stops at the same limit.
	MaxCost = 100_000
	// interruptCheckFrequency is how many comprehension iterations run
	// between checks of the evaluation's context.
	interruptCheckFrequency = 100
)

// compiledExpr is one checked condition and its program.
type compiledExpr struct {
	src string
	ast *cel.Ast
	// prg runs with a cost limit and the caller's context; fast, when set,
	// is the same plan without either, for conditions whose cost the
	// estimate bounds (see compileExpr).
	prg         cel.Program
	fast        cel.Program
	readsText   bool
	inputs      []int // schema indices of the features read, ascending
	percentiles []PercentileRef
	daysSince   bool
	estimate    cost.CostEstimate
}

// exprIssue is a problem in one condition, located by CEL: line is 1-based,
// col 0-based in characters; line 0 when CEL gives no location.
type exprIssue struct {
	line, col int
	msg       string
}

// PercentileRef names one percentile(feature, p) a rule set uses.
type PercentileRef struct {
	Feature string  `json:"feature"`
	P       float64 `json:"p"`
}

var undeclaredRE = regexp.MustCompile(`^undeclared reference to '([^']+)'(?: \(in container '[^']*'\))?`)

// knownFunctions are offered, with the features, as "did you mean" names.
var knownFunctions = []string{
	fnPercentile, fnDaysSince, "size", "contains", "startsWith", "endsWith", "matches",
	"int", "double", "string", "timestamp", "exists", "all", "exists_one", "map", "filter",
}

// compileExpr parses, checks and plans one condition. It never stops at the
// first problem of a kind it can keep checking past.
func (s *Schema) compileExpr(src string) (*compiledExpr, []exprIssue) {
	if strings.TrimSpace(src) == "" {
		return nil, []exprIssue{{msg: "condition is empty"}}
	}
	if n := utf8.RuneCountInString(src); n > MaxExpressionLength {
		return nil, []exprIssue{{msg: fmt.Sprintf("condition is %d characters long; the limit (expression length) is %d", n, MaxExpressionLength)}}
	}
	parsed, iss := s.env.Parse(src)
	if iss.Err() != nil {
		return nil, s.issues(iss)
	}
	if d := depth(parsed.NativeRep().Expr()); d > MaxNestingDepth {
		return nil, []exprIssue{{line: 1, col: 0, msg: fmt.Sprintf("condition nests %d levels deep; the limit (nesting depth) is %d", d, MaxNestingDepth)}}
	}
	checked, iss := s.env.Check(parsed)
	if iss.Err() != nil {
		return nil, s.issues(iss)
	}
	if out := checked.OutputType(); !out.IsExactType(cel.BoolType) {
		return nil, []exprIssue{{line: 1, col: 0, msg: fmt.Sprintf("condition must be a bool, but it is a %s", out)}}
	}
	ce := &compiledExpr{src: src, ast: checked}
	if issues := s.inspect(ce); len(issues) > 0 {
		return nil, issues
	}
	est, err := s.env.EstimateCost(checked, costEstimator{s})
	if err != nil {
		return nil, []exprIssue{{line: 1, msg: fmt.Sprintf("cannot estimate the condition's cost: %v", err)}}
	}
	if est.Max > MaxCost {
		return nil, []exprIssue{{line: 1, msg: fmt.Sprintf("condition's estimated cost %d exceeds the limit (cost) of %d", est.Max, MaxCost)}}
	}
	ce.estimate = est
	prg, err := s.env.Program(checked,
		cel.EvalOptions(cel.OptOptimize),
		cel.CostLimit(MaxCost),
		cel.InterruptCheckFrequency(interruptCheckFrequency),
	)
	if err != nil {
		return nil, []exprIssue{{line: 1, msg: fmt.Sprintf("condition cannot be evaluated: %v", err)}}
	}
	ce.prg = prg
	if !ce.readsText && !hasComprehension(checked.NativeRep().Expr()) {
		// Without text or loops the estimate is a proven bound on the cost,
		// and the evaluation cannot block: tracking cost and watching the
		// context would only slow every customer (by half, measured). The
		// caller checks its context between customers.
		fast, err := s.env.Program(checked, cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			return nil, []exprIssue{{line: 1, msg: fmt.Sprintf("condition cannot be evaluated: %v", err)}}
		}
		ce.fast = fast
	}
	return ce, nil
}

func hasComprehension(e ast.Expr) bool {
	if e.Kind() == ast.ComprehensionKind {
		return true
	}
	found := false
	children(e, func(c ast.Expr) { found = found || hasComprehension(c) })
	return found
}

// issues turns CEL's issues into exprIssues, adding a suggestion to unknown
// names.
func (s *Schema) issues(iss *cel.Issues) []exprIssue {
	var out []exprIssue
	for _, e := range iss.Errors() {
		msg := e.Message
		if m := undeclaredRE.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("undeclared reference to '%s'", m[1]) + msg[len(m[0]):]
			// cel-go suggests names itself for some typos; add ours (over
			// features and helpers, case-insensitively) when it did not.
			if sug := s.suggest(m[1]); sug != "" && !strings.Contains(msg, "did you mean") {
				msg += fmt.Sprintf(" (did you mean '%s'?)", sug)
			}
		}
		line, col := 0, 0
		if e.Location != nil && e.Location.Line() > 0 {
			line, col = e.Location.Line(), e.Location.Column()
		}
		out = append(out, exprIssue{line: line, col: col, msg: msg})
	}
	return out
}

// suggest returns the feature or function name closest to name, if it is
// close enough to be a typo.
func (s *Schema) suggest(name string) string {
	best, bestD := "", -1
	consider := func(c string) {
		d := levenshtein(strings.ToLower(name), strings.ToLower(c))
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	for _, f := range s.features {
		consider(f.Name)
	}
	for _, f := range knownFunctions {
		consider(f)
	}
	limit := max(2, min(3, utf8.RuneCountInString(name)/3))
	if bestD < 0 || bestD > limit {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// depth is the height of the expression tree.
func depth(e ast.Expr) int {
	d := 0
	children(e, func(c ast.Expr) { d = max(d, depth(c)) })
	return d + 1
}

// children calls f on every direct sub-expression of e.
func children(e ast.Expr, f func(ast.Expr)) {
	switch e.Kind() {
	case ast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			f(c.Target())
		}
		for _, a := range c.Args() {
			f(a)
		}
	case ast.ListKind:
		for _, x := range e.AsList().Elements() {
			f(x)
		}
	case ast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			f(me.Key())
			f(me.Value())
		}
	case ast.StructKind:
		for _, fl := range e.AsStruct().Fields() {
			f(fl.AsStructField().Value())
		}
	case ast.SelectKind:
		f(e.AsSelect().Operand())
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		f(c.IterRange())
		f(c.AccuInit())
		f(c.LoopCondition())
		f(c.LoopStep())
		f(c.Result())
	}
}

// inspect walks the checked condition: it records the features read, the
// percentiles and days_since it uses, and refuses helper calls CEL's type
// checker accepts but the rule language does not (a percentile of a
// computed name, p outside [0, 1]), invalid regular expressions and
// invalid timestamp literals, with their positions.
func (s *Schema) inspect(ce *compiledExpr) []exprIssue {
	nat := ce.ast.NativeRep()
	info := nat.SourceInfo()
	var issues []exprIssue
	report := func(e ast.Expr, format string, args ...any) {
		loc := info.GetStartLocation(e.ID())
		issues = append(issues, exprIssue{line: max(loc.Line(), 1), col: max(loc.Column(), 0), msg: fmt.Sprintf(format, args...)})
	}
	seenInput := map[int]bool{}
	seenPct := map[PercentileRef]bool{}
	var walk func(e ast.Expr)
	walk = func(e ast.Expr) {
		switch e.Kind() {
		case ast.IdentKind:
			if i, ok := s.index[e.AsIdent()]; ok {
				if r, ok := nat.ReferenceMap()[e.ID()]; ok && r.Name == e.AsIdent() && !seenInput[i] {
					seenInput[i] = true
					ce.inputs = append(ce.inputs, i)
					ce.readsText = ce.readsText || s.features[i].Type == String
				}
			}
		case ast.CallKind:
			c := e.AsCall()
			switch c.FunctionName() {
			case fnPercentile:
				if ref, ok := s.percentileRef(c, report); ok && !seenPct[ref] {
					seenPct[ref] = true
					ce.percentiles = append(ce.percentiles, ref)
				}
			case fnDaysSince:
				ce.daysSince = true
			case "matches":
				pat := c.Args()[len(c.Args())-1]
				if p, ok := stringLiteral(pat); ok {
					if _, err := regexp.Compile(p); err != nil {
						report(pat, "invalid regular expression: %v", err)
					} else if msg := regexProblem(p); msg != "" {
						report(pat, "%s", msg)
					}
				}
			case "timestamp":
				if len(c.Args()) == 1 {
					if lit, ok := stringLiteral(c.Args()[0]); ok {
						if v := types.String(lit).ConvertToType(types.TimestampType); types.IsError(v) {
							report(c.Args()[0], "invalid timestamp %q: %v (write RFC 3339, e.g. \"2024-01-31T00:00:00Z\")", lit, v)
						}
					}
				}
			}
		}
		children(e, walk)
	}
	walk(nat.Expr())
	slices.Sort(ce.inputs)
	return issues
}

func (s *Schema) percentileRef(c ast.CallExpr, report func(ast.Expr, string, ...any)) (PercentileRef, bool) {
	args := c.Args()
	if len(args) != 2 {
		return PercentileRef{}, false
	}
	ok := true
	name, isLit := stringLiteral(args[0])
	if !isLit {
		report(args[0], `percentile's first argument must be a feature name in quotes, e.g. percentile("monetary", 0.8)`)
		ok = false
	} else if f, found := s.Feature(name); !found {
		msg := fmt.Sprintf("percentile of unknown feature %q", name)
		if sug := s.suggest(name); sug != "" {
			msg += fmt.Sprintf(" (did you mean '%s'?)", sug)
		}
		report(args[0], "%s", msg)
		ok = false
	} else if f.Type != Int && f.Type != Double {
		report(args[0], "percentile of feature %q, which is a %s, not a number", name, f.Type)
		ok = false
	}
	p, isNum := doubleLiteral(args[1])
	switch {
	case !isNum:
		report(args[1], "percentile's p must be a number literal between 0 and 1, e.g. 0.8")
		ok = false
	case !(p >= 0 && p <= 1):
		report(args[1], "percentile's p is %g; it must be between 0 and 1", p)
		ok = false
	}
	return PercentileRef{Feature: name, P: p}, ok
}

func stringLiteral(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

func doubleLiteral(e ast.Expr) (float64, bool) {
	if e.Kind() != ast.LiteralKind {
		return 0, false
	}
	d, ok := e.AsLiteral().(types.Double)
	return float64(d), ok
}

// costEstimator tells CEL's estimator how long text features can be, and
// what the helpers cost, so that the estimate is finite and meaningful.
type costEstimator struct{ s *Schema }

func (c costEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) == 1 {
		if f, ok := c.s.Feature(p[0]); ok && f.Type == String {
			return &cost.SizeEstimate{Min: 0, Max: maxStringSizeForCost}
		}
	}
	return nil
}

func (c costEstimator) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	switch overloadID {
	case overloadPercentile, overloadDaysSince:
		return &cost.CallEstimate{CostEstimate: cost.CostEstimate{Min: 1, Max: 1}}
	}
	return nil
}

// Compiled is a checked rule set with one program per rule, ready to be
// translated to SQL or evaluated in Go. It is immutable and safe for
// concurrent use.
type Compiled struct {
	set         RuleSet
	schema      *Schema
	exprs       []*compiledExpr
	inputs      []int
	percentiles []PercentileRef
	daysSince   bool
}

// Compile checks a rule set against a schema: every condition must parse,
// type-check to bool and stay within the limits; tiers must be unique and
// present; high_value must name tiers. All problems are reported together in
// an *InvalidError with rule indexes and document positions.
func Compile(rs *RuleSet, s *Schema) (*Compiled, error) {
	if s == nil {
		return nil, errors.New("rules: compile: nil schema")
	}
	var errs errorList
	if rs == nil {
		errs.add(0, 0, 0, "rule set is empty")
		return nil, errs.err()
	}
	if !checkSetShape(rs, &errs) {
		return nil, errs.err()
	}
	c := &Compiled{set: rs.clone(), schema: s, exprs: make([]*compiledExpr, len(rs.Rules))}
	// tiers maps each tier name to its rule index, 0 for the default.
	tiers := map[string]int{}
	for i := range c.set.Rules {
		r := &c.set.Rules[i]
		checkRuleTier(r, i+1, tiers, &errs)
		ce, issues := s.compileExpr(r.When)
		for _, is := range issues {
			line, col := r.docPos(is.line, is.col)
			errs.add(i+1, line, col, "%s", is.msg)
		}
		if ce != nil {
			c.exprs[i] = ce
			c.addUses(ce)
		}
	}
	checkDefault(rs, tiers, &errs)
	checkHighValue(rs, tiers, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	slices.Sort(c.inputs)
	return c, nil
}

// checkSetShape checks the set's name and number of rules. It returns
// false when there are too many rules to go on checking them.
func checkSetShape(rs *RuleSet, errs *errorList) bool {
	if rs.Name != "" && !ValidName(rs.Name) {
		p := rs.pos.name
		errs.add(0, p.line, p.col, "name %q must be 1 to 64 letters, digits, '_' or '-'", rs.Name)
	}
	if len(rs.Rules) == 0 {
		p := rs.pos.rules
		if p.line == 0 {
			p = rs.pos.root
		}
		errs.add(0, p.line, p.col, "a rule set needs at least one rule")
	}
	if len(rs.Rules) > MaxRules {
		errs.add(0, rs.pos.rules.line, rs.pos.rules.col, "%d rules; the limit (rules) is %d", len(rs.Rules), MaxRules)
		return false
	}
	return true
}

// checkRuleTier checks the tier name of rule idx (1-based) and records it
// in tiers when it is valid and new.
func checkRuleTier(r *Rule, idx int, tiers map[string]int, errs *errorList) {
	tp := r.tierPos
	if tp.line == 0 {
		tp = pos{r.Line, r.Column}
	}
	if msg := tierProblem(r.Tier); msg != "" {
		errs.add(idx, tp.line, tp.col, "tier %s", msg)
	} else if prev, dup := tiers[r.Tier]; dup {
		errs.add(idx, tp.line, tp.col, "tier %q is already rule %d's; tier names are unique within a set", r.Tier, prev)
	} else {
		tiers[r.Tier] = idx
	}
}

// addUses adds the features and percentiles ce reads to the set's, each
// once, in order of first use.
func (c *Compiled) addUses(ce *compiledExpr) {
	for _, in := range ce.inputs {
		if !slices.Contains(c.inputs, in) {
			c.inputs = append(c.inputs, in)
		}
	}
	for _, p := range ce.percentiles {
		if !slices.Contains(c.percentiles, p) {
			c.percentiles = append(c.percentiles, p)
		}
	}
	c.daysSince = c.daysSince || ce.daysSince
}

// checkDefault checks the default tier's name and records it in tiers.
func checkDefault(rs *RuleSet, tiers map[string]int, errs *errorList) {
	dp := rs.pos.def
	if dp.line == 0 {
		dp = rs.pos.root
	}
	if rs.Default == "" {
		errs.add(0, dp.line, dp.col, "a rule set needs a default tier")
	} else if msg := tierProblem(rs.Default); msg != "" {
		errs.add(0, dp.line, dp.col, "default tier %s", msg)
	} else if prev, dup := tiers[rs.Default]; dup {
		errs.add(0, dp.line, dp.col, "default tier %q is already rule %d's; tier names are unique within a set", rs.Default, prev)
	} else {
		tiers[rs.Default] = 0
	}
}

// checkHighValue checks that high_value names tiers of the set, each once.
func checkHighValue(rs *RuleSet, tiers map[string]int, errs *errorList) {
	seen := map[string]bool{}
	for i, hv := range rs.HighValue {
		p := rs.pos.root
		if i < len(rs.pos.highValue) {
			p = rs.pos.highValue[i]
		}
		if _, ok := tiers[hv]; !ok && hv != rs.Default {
			errs.add(0, p.line, p.col, "high_value names %q, which is not a tier of this set", hv)
		} else if seen[hv] {
			errs.add(0, p.line, p.col, "high_value names %q twice", hv)
		}
		seen[hv] = true
	}
}

func tierProblem(t string) string {
	switch {
	case t == "":
		return "is missing"
	case strings.TrimSpace(t) != t:
		return fmt.Sprintf("%q has leading or trailing spaces", t)
	case utf8.RuneCountInString(t) > MaxTierLength:
		return fmt.Sprintf("name is %d characters long; the limit (tier name length) is %d", utf8.RuneCountInString(t), MaxTierLength)
	case strings.IndexFunc(t, unicode.IsControl) >= 0:
		return fmt.Sprintf("%q contains control characters", t)
	}
	return ""
}

func (rs *RuleSet) clone() RuleSet {
	out := *rs
	out.HighValue = slices.Clone(rs.HighValue)
	out.Rules = slices.Clone(rs.Rules)
	return out
}

// RuleSet returns a copy of the compiled rule set.
func (c *Compiled) RuleSet() *RuleSet {
	rs := c.set.clone()
	return &rs
}

// Schema returns the schema the rule set was compiled against.
func (c *Compiled) Schema() *Schema { return c.schema }

// Tiers returns the tier of every rule in order, then the default tier.
func (c *Compiled) Tiers() []string {
	out := make([]string, 0, len(c.set.Rules)+1)
	for _, r := range c.set.Rules {
		out = append(out, r.Tier)
	}
	return append(out, c.set.Default)
}

// Inputs returns the names of the features the rule set reads, in schema
// order: the columns a caller must supply for evaluation.
func (c *Compiled) Inputs() []string { return c.schema.names(c.inputs) }

// Percentiles returns every percentile(feature, p) the rule set uses, so
// the engine can compute them (in SQL) before a Go evaluation.
func (c *Compiled) Percentiles() []PercentileRef { return slices.Clone(c.percentiles) }

// NeedsAsOf reports whether the rule set calls days_since, which needs the
// evaluation's as-of date.
func (c *Compiled) NeedsAsOf() bool { return c.daysSince }

func (s *Schema) names(idx []int) []string {
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = s.features[x].Name
	}
	return out
}

// Condition is one compiled CEL condition, e.g. a where= filter. It is
// immutable and safe for concurrent use.
type Condition struct {
	expr   *compiledExpr
	schema *Schema
}

// CompileCondition checks one condition with the same compiler and limits
// as a rule; problems are an *InvalidError with rule 0 and positions within
// the expression.
func CompileCondition(expr string, s *Schema) (*Condition, error) {
	if s == nil {
		return nil, errors.New("rules: compile condition: nil schema")
	}
	ce, issues := s.compileExpr(expr)
	if len(issues) > 0 {
		var errs errorList
		r := Rule{When: expr}
		for _, is := range issues {
			line, col := r.docPos(is.line, is.col)
			if is.line == 0 {
				line, col = 1, 1
			}
			errs.add(0, line, col, "%s", is.msg)
		}
		return nil, errs.err()
	}
	return &Condition{expr: ce, schema: s}, nil
}

// Inputs returns the names of the features the condition reads.
func (c *Condition) Inputs() []string { return c.schema.names(c.expr.inputs) }

// Percentiles returns the percentiles the condition uses.
func (c *Condition) Percentiles() []PercentileRef { return slices.Clone(c.expr.percentiles) }

// NeedsAsOf reports whether the condition calls days_since.
func (c *Condition) NeedsAsOf() bool { return c.expr.daysSince }

// String returns the condition's source text.
func (c *Condition) String() string { return c.expr.src }
