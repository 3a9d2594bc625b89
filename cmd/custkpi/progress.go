package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"custkpi/engine"
)

// progressDisplay shows where a long command is, on stderr so that stdout
// keeps only the result: a bar per phase on a terminal (phase, count,
// rate, elapsed and ETA), one plain line per phase otherwise (a log or a
// CI job has no use for carriage returns), nothing with --quiet. It is the
// engine.Progress the CLI passes to the engine, and the one a job polled
// from a server is replayed into, so both look the same.
type progressDisplay struct {
	mu    sync.Mutex
	w     io.Writer
	bars  bool // a terminal: redraw a bar in place
	start time.Time

	// The current phase.
	phase      string
	phaseStart time.Time
	done       int64
	total      int64
	unit       string
	bar        *progressbar.ProgressBar
	spinning   bool // bar is the spinner of a phase without a total yet
}

var _ engine.Progress = (*progressDisplay)(nil)

// newProgress is the display for a command's stderr w; nil (which ignores
// everything) when quiet.
func newProgress(w io.Writer, quiet bool) *progressDisplay {
	if quiet {
		return nil
	}
	return &progressDisplay{w: w, bars: isTerminal(w), start: time.Now()}
}

// isTerminal: only a real terminal gets a redrawn bar.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Phase ends the current phase and starts the next.
func (p *progressDisplay) Phase(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endPhase()
	p.phase, p.phaseStart, p.done, p.total, p.unit = name, time.Now(), 0, 0, ""
	if p.bars {
		p.bar, p.spinning = newSpinner(p.w, name), true
		return
	}
	fmt.Fprintf(p.w, "custkpi: %s\n", name)
}

// Total sets how much the phase has to do: a terminal's spinner becomes a
// bar.
func (p *progressDisplay) Total(n int64, unit string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.unit = n, unit
	if !p.bars || n <= 0 {
		return
	}
	if p.spinning {
		p.stopBar(false)
	}
	if p.bar == nil {
		p.bar = newBar(p.w, p.phase, n, unit)
		p.bar.Set64(p.done)
		return
	}
	p.bar.ChangeMax64(n)
}

// Add counts work done in the phase.
func (p *progressDisplay) Add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.bar != nil && !p.spinning {
		p.bar.Add64(n)
	}
}

// Done ends the last phase; the command's result follows on stdout.
func (p *progressDisplay) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endPhase()
	p.phase = ""
}

// endPhase leaves the finished phase on screen (a full bar, or a line with
// its count and rate when it counted anything). Called with mu held.
func (p *progressDisplay) endPhase() {
	if p.phase == "" {
		return
	}
	if p.bars {
		p.stopBar(true)
		return
	}
	if p.total > 0 || p.done > 0 {
		elapsed := time.Since(p.phaseStart)
		fmt.Fprintf(p.w, "custkpi: %s: %d %s in %s (%s)\n", p.phase, p.done, p.unitName(), elapsed.Round(time.Millisecond), rate(p.done, elapsed, p.unitName()))
	}
}

func (p *progressDisplay) unitName() string {
	if p.unit == "" {
		return "items"
	}
	return p.unit
}

// stopBar finishes the bar: kept on its own line, or cleared (a spinner
// that a bar replaces). Finish, not Exit: it is what stops a spinner's
// redraw goroutine.
func (p *progressDisplay) stopBar(keep bool) {
	if p.bar == nil {
		return
	}
	p.bar.Finish()
	if keep {
		fmt.Fprintln(p.w)
	} else {
		p.bar.Clear()
	}
	p.bar, p.spinning = nil, false
}

// rate is a count per second, or per minute when slow.
func rate(n int64, d time.Duration, unit string) string {
	s := d.Seconds()
	if s <= 0 {
		return "instant"
	}
	if r := float64(n) / s; r >= 1 || n == 0 {
		return fmt.Sprintf("%.0f %s/s", r, unit)
	}
	return fmt.Sprintf("%.1f %s/min", float64(n)/s*60, unit)
}

// newSpinner is a phase whose size is not known (yet): its name and how
// long it has run, redrawn by the library's ticker.
func newSpinner(w io.Writer, phase string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(phase),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// newBar is a phase of known size: count, rate, elapsed and ETA.
func newBar(w io.Writer, phase string, total int64, unit string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(phase),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
	)
}
