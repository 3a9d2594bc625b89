package api

import (
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// principalKey is where the request's principal is kept in the gin context.
const principalKey = "custkpi.principal"

// authenticate decides who a /v1 request acts as (API.md, "Access"): the
// key it presents (Authorization: Bearer, or X-API-Key, else the
// dashboard's session cookie: session.go), or, while the
// database holds no key (protected mode), the local admin for a loopback
// client. The client's address is the connection's own: no header (such as
// X-Forwarded-For) is believed.
func (s *Server) authenticate(c *gin.Context) {
	presented := presentedKey(c.Request)
	if presented == "" {
		if presented = cookieKey(c.Request); presented != "" {
			if !cookieWriteAllowed(c.Request) {
				s.fail(c, &httpError{status: http.StatusForbidden, body: ErrorDetail{Code: "forbidden",
					Message: "a change made with the session cookie must send the header " + csrfHeader + " (any value)"}})
				return
			}
			c.Set(viaCookieKey, true)
		}
	}
	var p *engine.Principal
	switch {
	case presented != "":
		var ok bool
		if p, ok = s.eng.Authenticate(presented); !ok {
			s.fail(c, unauthenticated("the API key is unknown or revoked"))
			return
		}
	case s.eng.HasKeys():
		s.fail(c, unauthenticated("this call needs an API key: Authorization: Bearer <key> (or X-API-Key)"))
		return
	case s.opts.Insecure || isLoopback(c.Request.RemoteAddr):
		p = engine.LocalAdmin
	default:
		s.fail(c, unauthenticated("this server has no API key yet, so it answers local clients only; "+
			"create one on the server with `custkpi keys create --name NAME --role admin`, then send it as Authorization: Bearer <key>"))
		return
	}
	c.Set(principalKey, p)
	c.Request = c.Request.WithContext(engine.WithPrincipal(c.Request.Context(), p))
	c.Next()
}

func presentedKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if k, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(k)
		}
		return h // a malformed header is a wrong key, not a missing one
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// isLoopback tells whether a connection's remote address is this machine.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// need admits requests whose principal's role is at least role.
func (s *Server) need(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		if p == nil || !engine.RoleAllows(p.Role, role) {
			name := "nobody"
			if p != nil {
				name = p.Role
			}
			s.fail(c, &httpError{status: http.StatusForbidden, body: ErrorDetail{Code: "forbidden",
				Message: "this call needs the " + role + " role; the key is " + name,
				Details: map[string]any{"role": role}}})
			return
		}
		c.Next()
	}
}

func principal(c *gin.Context) *engine.Principal {
	if v, ok := c.Get(principalKey); ok {
		return v.(*engine.Principal)
	}
	return nil
}

func unauthenticated(msg string) error {
	return &httpError{status: http.StatusUnauthorized, body: ErrorDetail{Code: "unauthenticated", Message: msg}}
}

// audit records every change made through the API (not reads, not the
// validation of a document) with who made it and how it ended.
func (s *Server) audit(c *gin.Context) {
	c.Next()
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	if c.FullPath() == "/v1/rulesets/validate" || c.FullPath() == "" {
		return
	}
	rec := engine.AuditRecord{Action: c.Request.Method + " " + c.FullPath(), Target: c.Request.URL.Path, Status: c.Writer.Status(), Outcome: "ok",
		RequestID: requestIDOf(c)}
	if p := principal(c); p != nil {
		rec.KeyID, rec.KeyName = p.KeyID, p.Name
	}
	switch {
	case rec.Status >= 500:
		rec.Outcome = "failed"
	case rec.Status >= 400:
		rec.Outcome = "refused"
	}
	if msg, ok := c.Get(errorMessageKey); ok {
		rec.Message, _ = msg.(string)
	}
	if err := s.eng.Audit(c.Request.Context(), rec); err != nil {
		s.log.Error("audit", "err", err)
	}
}
