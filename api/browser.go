package api

import (
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// Browser safety (issue 9, point 8): what keeps a web page in a browser
// from using the API behind its user's back.

// bodyTypes are the media types a route's body may have; a route not
// listed takes JSON only. Multipart is the documented upload of an import;
// a rule set is YAML or JSON (RULES.md), text/plain included as its
// annotation documents.
var bodyTypes = map[string][]string{
	"/v1/datasets/:kind":    {"application/json", "multipart/form-data"},
	"/v1/rulesets/:name":    ruleSetTypes,
	"/v1/rulesets/validate": ruleSetTypes,
}

var ruleSetTypes = []string{"application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}

// requireBodyType refuses, with 415 unsupported_media_type, a request that
// sends a body (or names a type) other than its route's. A browser sends a
// cross-site form or fetch without a preflight only as text/plain,
// application/x-www-form-urlencoded or multipart/form-data; so a JSON body
// is accepted as application/json only, and the JSON of an import is never
// parsed out of a text/plain POST. Requests without a body and without a
// type (an evaluation, a cancel) pass.
func (s *Server) requireBodyType(c *gin.Context) {
	r := c.Request
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && (r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody) {
		c.Next()
		return
	}
	allowed, ok := bodyTypes[c.FullPath()]
	if !ok {
		allowed = []string{"application/json"}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(allowed, strings.ToLower(mt)) {
		got := ct
		if got == "" {
			got = "none"
		}
		s.fail(c, &httpError{status: http.StatusUnsupportedMediaType, body: ErrorDetail{Code: "unsupported_media_type",
			Message: "Content-Type " + got + " is not accepted by " + r.Method + " " + c.FullPath() + "; send " + strings.Join(allowed, " or "),
			Details: map[string]any{"content_type": ct, "accepted": allowed}}})
		return
	}
	c.Next()
}

// exposedHeaders are the response headers a cross-origin script may read.
var exposedHeaders = []string{"ETag", "X-KPI-Version", "X-KPI-Default-Version", "Location", "Retry-After",
	"Link", "X-Total-Count", "X-Request-ID", "Content-Location"}

// corsMiddleware answers preflights and marks the answers of the allowed
// origins (none by default: then no CORS header is ever sent, and browsers
// keep other origins from reading answers).
func corsMiddleware(origins []string) gin.HandlerFunc {
	return cors.New(cors.Config{
		AllowOrigins:     origins,
		AllowMethods:     []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowHeaders:     []string{"Authorization", "X-API-Key", "Content-Type", "Accept", "If-None-Match", "Prefer", "X-Request-ID"},
		ExposeHeaders:    exposedHeaders,
		AllowCredentials: false,
		MaxAge:           10 * time.Minute,
	})
}

// HostGuard answers 421 Misdirected Request (with the JSON error body) to
// a request whose Host header is not one of allowed, before next sees it:
// DNS rebinding makes a page of another site reach a server on the
// browser's machine or network under that site's name, and only the Host
// header tells. An entry is a name or address (any port: "localhost",
// "127.0.0.1", "[::1]") or name:port (that port only); "*" allows any Host.
// Names compare without case.
func HostGuard(allowed []string, next http.Handler) http.Handler {
	if slices.Contains(allowed, "*") {
		return next
	}
	anyPort, exact := map[string]bool{}, map[string]bool{}
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		if h, p, err := net.SplitHostPort(a); err == nil && p != "" {
			exact[strings.Trim(h, "[]")+":"+p] = true
		} else {
			anyPort[strings.Trim(a, "[]")] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, port := strings.ToLower(r.Host), ""
		if h, p, err := net.SplitHostPort(host); err == nil {
			host, port = h, p
		}
		host = strings.Trim(host, "[]")
		if anyPort[host] || (port != "" && exact[host+":"+port]) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusMisdirectedRequest)
		json.NewEncoder(w).Encode(ErrorBody{Error: ErrorDetail{Code: "host_not_allowed",
			Message: "this server does not answer for host " + quoteHost(r.Host) + "; start it with --allowed-host naming the host clients use",
			Details: map[string]any{"host": r.Host}}})
	})
}

func quoteHost(h string) string {
	if h == "" {
		return `""`
	}
	return `"` + h + `"`
}

// DefaultAllowedHosts are the Host names a server listening on addr
// answers by default: the loopback names with any port, and the listen
// address itself (a wildcard address, 0.0.0.0 or [::], adds nothing: name
// the hosts clients use with --allowed-host).
func DefaultAllowedHosts(addr string) []string {
	hosts := []string{"localhost", "127.0.0.1", "[::1]"}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(h); h != "" && (ip == nil || !ip.IsUnspecified()) && !slices.Contains(hosts, h) {
			hosts = append(hosts, addr)
		}
	}
	return hosts
}
