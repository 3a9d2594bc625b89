// Package shareddata finds the project's shared data for tests: the real
// data sets (CDNOW and others) that live outside the repository, in a
// folder named shared beside it (../shared from the repository root).
//
// A test that needs them calls Path. Outside CI a missing folder skips the
// test with a message saying what is missing and how to get it; in CI
// (CUSTKPI_CI or CI set, as .ci/run does) it fails, so a broken checkout
// cannot pass by skipping the tests that compare with published figures.
package shareddata

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// CIEnv is the variable .ci/run sets; CI, set by most CI services, counts
// too.
const CIEnv = "CUSTKPI_CI"

// InCI tells whether the tests run in CI.
func InCI() bool { return os.Getenv(CIEnv) != "" || os.Getenv("CI") != "" }

// Path returns the absolute path of rel (slash-separated, e.g.
// "data/real/cdnow/CDNOW_sample.txt") inside the shared folder beside the
// repository. When it is absent, the test skips outside CI and fails in CI,
// saying why either way.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	p, err := locate(rel)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("this test reads %s from the project's shared data, a folder named shared beside the repository "+
		"(../shared from its root): %v; put a copy of that folder there to run it", rel, err)
	if InCI() {
		tb.Fatalf("%s (fails instead of skipping because %s or CI is set)", msg, CIEnv)
		return ""
	}
	tb.Skip(msg)
	return ""
}

// locate finds rel under ../shared of the module root, the nearest folder
// above the working directory (a package's, under go test) with a go.mod.
func locate(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}
