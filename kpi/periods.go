package kpi

import (
	"time"

	"custkpi/fault"
)

// Grain is a calendar grain a window is cut into.
type Grain string

const (
	GrainNone    Grain = "none"
	GrainDay     Grain = "day"
	GrainWeek    Grain = "week"
	GrainMonth   Grain = "month"
	GrainQuarter Grain = "quarter"
	GrainYear    Grain = "year"
)

// Grains lists the grains, for messages and docs.
var Grains = []Grain{GrainNone, GrainDay, GrainWeek, GrainMonth, GrainQuarter, GrainYear}

// ParseGrain checks a grain name ("" is none).
func ParseGrain(s string) (Grain, error) {
	if s == "" {
		return GrainNone, nil
	}
	for _, g := range Grains {
		if string(g) == s {
			return g, nil
		}
	}
	return "", fault.InvalidParam("grain", "%q is not one of none, day, week, month, quarter, year", s)
}

// maxPeriods bounds how many periods one request may ask for: ten years of
// days. More is almost certainly a mistake and would build a huge statement.
const maxPeriods = 3700

// Period is one window of a request: [Start, End), its previous window
// starting at PrevStart and ending at Start, and the label of the row.
type Period struct {
	Label     time.Time // first day of the calendar period (grain none: the window start)
	Start     time.Time
	End       time.Time
	PrevStart time.Time
}

// truncate returns the first instant of the calendar period holding t.
// Weeks are ISO weeks, starting on Monday.
func truncate(t time.Time, g Grain) time.Time {
	y, m, d := t.Date()
	switch g {
	case GrainDay:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case GrainWeek:
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		back := (int(day.Weekday()) + 6) % 7 // Monday → 0
		return day.AddDate(0, 0, -back)
	case GrainMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case GrainQuarter:
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case GrainYear:
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// step moves t by n periods of the grain.
func step(t time.Time, g Grain, n int) time.Time {
	switch g {
	case GrainDay:
		return t.AddDate(0, 0, n)
	case GrainWeek:
		return t.AddDate(0, 0, 7*n)
	case GrainMonth:
		return t.AddDate(0, n, 0)
	case GrainQuarter:
		return t.AddDate(0, 3*n, 0)
	case GrainYear:
		return t.AddDate(n, 0, 0)
	}
	return t
}

// calendarGrain is the calendar month, quarter or year that [from, to) is
// exactly (from its first day to the first day of the next), or GrainNone.
// Months come first: a window can be only one of them.
func calendarGrain(from, to time.Time) Grain {
	for _, g := range []Grain{GrainMonth, GrainQuarter, GrainYear} {
		if truncate(from, g).Equal(from) && step(from, g, 1).Equal(to) {
			return g
		}
	}
	return GrainNone
}

// PreviousStart is the start of the previous window of a window asked
// without a grain (it ends where the window starts). A window that is
// exactly one calendar month, quarter or year compares with the calendar
// period before it, so that it gives the same number as that period's row
// of grain=month, quarter or year: March compares with February, whatever
// their lengths. Any other window compares with the window of the same
// length just before it.
func PreviousStart(from, to time.Time) time.Time {
	if g := calendarGrain(from, to); g != GrainNone {
		return step(from, g, -1)
	}
	return from.Add(-to.Sub(from))
}

// Periods cuts [from, to) into the periods of grain g. Grain none is the
// whole window, with the previous window of PreviousStart. With a grain,
// each calendar period is clipped to the window and its previous window is
// the same span one grain earlier (for a whole period: the previous
// calendar period), as KPIS.md defines.
func Periods(from, to time.Time, g Grain) ([]Period, error) {
	if g == GrainNone {
		return []Period{{Label: from, Start: from, End: to, PrevStart: PreviousStart(from, to)}}, nil
	}
	var out []Period
	for cal := truncate(from, g); cal.Before(to); cal = step(cal, g, 1) {
		if len(out) == maxPeriods {
			return nil, fault.InvalidParam("grain", "the window has more than %d periods of a %s; use a coarser grain or a shorter window", maxPeriods, g)
		}
		p := Period{Label: cal, Start: cal, End: step(cal, g, 1)}
		if p.Start.Before(from) {
			p.Start = from
		}
		if p.End.After(to) {
			p.End = to
		}
		p.PrevStart = step(p.Start, g, -1)
		out = append(out, p)
	}
	return out, nil
}

// defaultWindow is KPIS.md's default: the 12 calendar months before the first
// day of the month after the latest order date. dataEnd is the day after the
// latest order.
func defaultWindow(dataEnd time.Time) (time.Time, time.Time) {
	last := dataEnd.AddDate(0, 0, -1)
	to := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	return to.AddDate(-1, 0, 0), to
}

// ParseDate reads a YYYY-MM-DD query parameter.
func ParseDate(param, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fault.InvalidParam(param, "%q is not a date (YYYY-MM-DD)", s)
	}
	return t, nil
}

// Window resolves a request's window, applying the default when both ends
// are absent. dataEnd is the day after the latest order (zero: no orders).
func Window(dataEnd, from, to time.Time) (time.Time, time.Time, error) {
	if from.IsZero() && to.IsZero() {
		if dataEnd.IsZero() {
			return from, to, &fault.Error{Code: fault.CodeMissingDataset,
				Message: "no orders are loaded, so there is no default window; import orders or pass from and to",
				Details: map[string]any{"datasets": []string{"orders"}}}
		}
		from, to = defaultWindow(dataEnd)
		return from, to, nil
	}
	if from.IsZero() {
		return from, to, fault.InvalidParam("from", "required when to is given")
	}
	if to.IsZero() {
		return from, to, fault.InvalidParam("to", "required when from is given")
	}
	if !from.Before(to) {
		return from, to, fault.InvalidParam("from", "from %s must be before to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	return from, to, nil
}

// Date formats a day as the API writes dates.
func Date(t time.Time) string { return t.Format(time.DateOnly) }
