package rules

import (
	"fmt"
	"regexp/syntax"
	"strings"
)

// A `matches` pattern runs on two engines: Go's regexp on the Go path and
// DuckDB's regexp_matches (the RE2 library, an older release) on the SQL
// path (sql.go passes the pattern through unchanged). Both are RE2 syntax,
// but DuckDB's refuses some of what Go accepts, and it would refuse it only
// when the statement runs: a 500 at evaluation for a rule set that passed
// its check. So a pattern is checked at save time for what both support.
// Decided per construct, against DuckDB 1.4's RE2 (engine's
// TestRegexBothPathsAgree tries each on DuckDB):
//
//   - (?<name>re), Go's newer spelling of a named group: refused, with the
//     spelling both accept, (?P<name>re). (A name changes nothing in a
//     match, but rewriting the pattern would make the SQL differ from the
//     text the analyst wrote.)
//   - \p{Cn} and \p{LC} (and \P, \p{^...}): Unicode classes DuckDB's
//     tables lack; refused. Every other class name Go knows, DuckDB knows.
//   - Size: DuckDB's RE2 compiles each character class into UTF-8 byte
//     ranges and gives up past a memory budget ("pattern too large"),
//     e.g. \pL{449}. The pattern's size is estimated as Go parses it (the
//     ranges of each class times its repetitions) and refused beyond
//     maxRegexSize, half of what the largest accepted pattern measured.
//   - Everything else Go's regexp accepts (flags, \Q..\E, POSIX classes,
//     non-greedy repetition, \pN, scripts) DuckDB accepts and matches the
//     same way: partial matches, byte-for-byte the same RE2 semantics.

// maxRegexSize bounds regexSize: \pL{448} (659 ranges × 448 = 295,232) is
// the largest \pL run DuckDB compiles; half of that leaves room for the
// classes whose UTF-8 form is larger per range.
const maxRegexSize = 150_000

// unsupportedClasses are the Unicode class names Go knows and DuckDB's RE2
// does not.
var unsupportedClasses = map[string]bool{"Cn": true, "LC": true}

// regexProblem says why DuckDB's regexp_matches would refuse a pattern Go
// compiled, or "" when both accept it.
func regexProblem(p string) string {
	if msg := regexSyntaxProblem(p); msg != "" {
		return msg
	}
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return "" // Go's own check reports it
	}
	if n := regexSize(re); n > maxRegexSize {
		return fmt.Sprintf("regular expression too large for the SQL path (about %d character ranges after repetition, at most %d); repeat less, or use narrower classes than \\pL", n, maxRegexSize)
	}
	return ""
}

// regexSyntaxProblem scans the pattern's text for the constructs of the
// list above; escapes, \Q..\E and character classes are skipped over as
// the parser reads them.
func regexSyntaxProblem(p string) string {
	inClass := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			next := p[i+1]
			switch next {
			case 'Q':
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					return ""
				}
				i += 2 + end + 1
				continue
			case 'p', 'P':
				name := ""
				if i+2 < len(p) && p[i+2] == '{' {
					if end := strings.IndexByte(p[i+3:], '}'); end >= 0 {
						name = p[i+3 : i+3+end]
					}
				} else if i+2 < len(p) {
					name = p[i+2 : i+3]
				}
				if name = strings.TrimPrefix(name, "^"); unsupportedClasses[name] {
					return fmt.Sprintf("the Unicode class %s is not supported by DuckDB's regular expressions (the SQL path); list the characters instead", name)
				}
			}
			i++
		case inClass:
			if c == '[' && i+1 < len(p) && p[i+1] == ':' {
				if end := strings.Index(p[i+2:], ":]"); end >= 0 {
					i += 2 + end + 1
				}
			} else if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A ] first in the class (after ^) is a literal.
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
		case c == '(' && strings.HasPrefix(p[i:], "(?<") && !strings.HasPrefix(p[i:], "(?<=") && !strings.HasPrefix(p[i:], "(?<!"):
			return "a named group written (?<name>...) is not supported by DuckDB's regular expressions (the SQL path); write (?P<name>...)"
		}
	}
	return ""
}

// regexSize estimates a parsed pattern's compiled size: each character
// class counts its ranges, each repetition multiplies its operand by its
// bound (its minimum when unbounded).
func regexSize(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpCharClass:
		return max(len(re.Rune)/2, 1)
	case syntax.OpRepeat:
		n := re.Max
		if n < 0 {
			n = re.Min
		}
		return max(n, 1) * regexSize(re.Sub[0])
	}
	n := 1
	for _, s := range re.Sub {
		n += regexSize(s)
		if n > maxRegexSize {
			return n
		}
	}
	return n
}
