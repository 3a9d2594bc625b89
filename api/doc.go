// Package api serves custkpi over HTTP: Gin routes, parameter parsing,
// output formats, and the one map from errors to HTTP status (error.go).
//
// The OpenAPI document in docs/ is generated from the annotations here:
//
//	go run github.com/swaggo/swag/cmd/swag@v1.16.6 init -g api/doc.go -o docs --parseInternal
//
// (from the repository root); TestSwaggerDocsUpToDate fails when it is stale.
//
//	@title						custkpi API
//	@version					1.0
//	@description				Customer KPIs computed in embedded DuckDB: versioned SQL definitions, any window, grain and customer dimension.
//	@description				Errors answer {"error": {"code", "message", "details"}}; bad input is a 4xx naming what is wrong.
//	@BasePath					/v1
//	@license.name				Proprietary
//	@externalDocs.description	KPI definitions (KPIS.md)
package api

//go:generate go run github.com/swaggo/swag/cmd/swag@v1.16.6 init -g api/doc.go -d .. -o ../docs --parseInternal
