package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromStampedBuild(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "custkpi", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2025-01-31T12:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	want := Info{Version: "v1.2.3", Revision: "0123456789abcdef", Time: "2025-01-31T12:00:00Z", Modified: true, GoVersion: "go1.99.1"}
	if got := From(bi); got != want {
		t.Errorf("From = %+v, want %+v", got, want)
	}
}

// A binary built without VCS stamping (or a test binary) still names its
// version as a development build and its Go version.
func TestFromUnstampedBuild(t *testing.T) {
	got := From(&debug.BuildInfo{Main: debug.Module{Path: "custkpi"}})
	if got.Version != "(devel)" || got.Revision != "" || got.GoVersion != runtime.Version() {
		t.Errorf("From = %+v", got)
	}
	if got := From(nil); got.Version != "(devel)" || got.GoVersion != runtime.Version() {
		t.Errorf("From(nil) = %+v", got)
	}
}
