// Command gendoc writes the OpenAPI 3 document (docs/openapi.json and
// docs/openapi.yaml) from the swag annotations of package api, and the Go
// client generated from it (api/client). It is run by `go generate ./api`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"custkpi/internal/apidoc"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	jsonDoc, yamlDoc, err := apidoc.Generate(root)
	if err != nil {
		return err
	}
	cfgFile := filepath.Join(root, "api", "client", "oapi-codegen.yaml")
	raw, err := os.ReadFile(cfgFile)
	if err != nil {
		return err
	}
	cfg, err := apidoc.ParseClientConfig(raw)
	if err != nil {
		return err
	}
	code, err := apidoc.Client(jsonDoc, cfg)
	if err != nil {
		return err
	}
	for path, data := range map[string][]byte{
		filepath.Join(root, "docs", "openapi.json"):      jsonDoc,
		filepath.Join(root, "docs", "openapi.yaml"):      yamlDoc,
		filepath.Join(filepath.Dir(cfgFile), cfg.Output): code,
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
