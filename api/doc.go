// Package api serves custkpi over HTTP: Gin routes, parameter parsing,
// output formats, and the one map from errors to HTTP status (error.go).
//
// The OpenAPI 3 document (docs/openapi.json, served at /openapi.json) and
// the Go client (api/client) are generated from the swag annotations here
// by `go generate ./api`: swag writes Swagger 2.0, kin-openapi converts it
// to OpenAPI 3.0.3, and internal/apidoc adds what 2.0 cannot say (see its
// package comment). TestOpenAPIDocsUpToDate fails when any of them is stale.
//
// Annotation conventions the generator relies on: every operation has an
// @ID; a @Failure description starts with the error codes it answers
// ("unknown_kpi, unknown_version: ..."), each from ErrorDetail's enum; a
// field is required unless its json tag says omitempty, and nullable when
// tagged extensions:"x-nullable".
//
//	@title						custkpi API
//	@version					1.0
//	@description				Customer KPIs computed in embedded DuckDB: versioned SQL definitions, any window, grain and customer dimension.
//	@description				Errors answer {"error": {"code", "message", "details"}}; bad input is a 4xx naming what is wrong.
//	@BasePath					/v1
//	@license.name				Proprietary
//
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				An API key (custkpi keys create) as Authorization: Bearer KEY. While the database holds no key, loopback clients act as admin without one.
//
//	@securityDefinitions.apikey	ApiKeyAuth
//	@in							header
//	@name						X-API-Key
//	@description				The same API key in X-API-Key.
package api

//go:generate go run ../internal/apidoc/gendoc -root ..
