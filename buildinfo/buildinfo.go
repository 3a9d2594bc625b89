// Package buildinfo tells which build of custkpi is running: the module
// version and the commit it was built from, as the Go toolchain stamped
// them into the binary (runtime/debug.ReadBuildInfo), and the Go version.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info is what `custkpi version` prints and /v1/health reports.
type Info struct {
	// Version is the module version: a tag such as v1.2.0 when built with
	// `go install custkpi@v1.2.0`, "(devel)" when built from a checkout.
	Version string `json:"version" example:"(devel)"`
	// Revision is the VCS commit, "" when the build was not stamped (go
	// build -buildvcs=false, or outside a checkout).
	Revision string `json:"revision" example:"c7b26a3f0e2d9b1c4a5e6f708192a3b4c5d6e7f8"`
	// Time is the commit's time (RFC 3339), "" when not stamped.
	Time string `json:"revision_time" example:"2025-01-31T12:00:00Z"`
	// Modified: the checkout had uncommitted changes.
	Modified  bool   `json:"modified"`
	GoVersion string `json:"go_version" example:"go1.26.8"`
}

// Read is the running binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return From(bi)
}

// From extracts Info from build information (nil: nothing known but the
// Go version of this binary).
func From(bi *debug.BuildInfo) Info {
	info := Info{Version: "(devel)", GoVersion: runtime.Version()}
	if bi == nil {
		return info
	}
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}
