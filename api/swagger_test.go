package api

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/swaggo/swag"
	"github.com/swaggo/swag/gen"
)

// TestSwaggerDocsUpToDate regenerates the OpenAPI document from the
// annotations, exactly as `swag init` does (same library, same options as
// the go:generate line in doc.go), and fails when docs/ differs: the
// committed document must describe the code it ships with.
func TestSwaggerDocsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("generating the OpenAPI document takes a few seconds")
	}
	out := t.TempDir()
	err := gen.New().Build(&gen.Config{
		SearchDir:           "..",
		MainAPIFile:         "api/doc.go",
		OutputDir:           out,
		OutputTypes:         []string{"json", "yaml"},
		PropNamingStrategy:  swag.CamelCase,
		ParseInternal:       true,
		ParseGoList:         true,
		LeftTemplateDelim:   "{{",
		RightTemplateDelim:  "}}",
		PackageName:         "docs",
		CollectionFormat:    "csv",
		Debugger:            quiet{},
		ParseDepth:          100,
		CodeExampleFilesDir: "",
	})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	for _, name := range []string{"swagger.json", "swagger.yaml"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/%s is stale: run `go generate ./api` (swag init -g api/doc.go -o docs --parseInternal) and commit docs/", name)
		}
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
