package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// The dashboard's session (issue 12): a browser page cannot set an
// Authorization header on a navigation, and a key kept in JavaScript
// storage is readable by any script on the page. So the login form hands
// the key to POST /v1/session once, and the server keeps it in an HttpOnly
// cookie scoped to /v1 that scripts never see. The cookie holds the key
// itself, not a server-side session: every request still authenticates the
// key, so revoking it ends the session at once, and a restart logs nobody
// out.
//
// Cross-site requests: the cookie is SameSite=Strict, so a browser leaves
// it off every request another site starts; and a change (any method but
// GET and HEAD) authenticated by the cookie must carry the X-Requested-With
// header, which a page of another origin cannot send without a CORS
// preflight the server does not grant.

// SessionCookie is the name of the dashboard's session cookie.
const SessionCookie = "custkpi_session"

// csrfHeader must be present on changes authenticated by the cookie.
const csrfHeader = "X-Requested-With"

// SessionBody is POST /v1/session.
type SessionBody struct {
	Key string `json:"key" example:"ck_3f9a0c..."`
}

// SessionInfo is who the request acts as (GET /v1/session, and the answer
// of POST /v1/session).
type SessionInfo struct {
	Name  string       `json:"name" example:"bi-north"`
	Role  string       `json:"role" enums:"reader,analyst,admin" example:"reader"`
	KeyID string       `json:"key_id,omitempty" example:"k_1a2b3c"`
	Scope engine.Scope `json:"scope,omitempty"`
	// Via is how the request authenticated: cookie (the dashboard's
	// session), header (Authorization or X-API-Key) or local (protected
	// mode: no key exists and the client is on this machine).
	Via string `json:"via" enums:"cookie,header,local" example:"cookie"`
}

// login godoc
//
//	@ID				createSession
//	@Summary		Log in (dashboard session)
//	@Description	Checks an API key and keeps it in an HttpOnly, SameSite=Strict cookie (custkpi_session, path /v1) that authenticates the later /v1 requests of the browser as the key's header would. Changes made with the cookie must send the header X-Requested-With. Meant for the dashboard at /; scripts and tools send the key in a header instead.
//	@Tags			access
//	@Accept			json
//	@Produce		json
//	@Param			body	body	SessionBody	true	"the API key"
//	@Success		200	{object}	SessionInfo
//	@Header			200	{string}	Set-Cookie	"custkpi_session=…; Path=/v1; HttpOnly; SameSite=Strict"
//	@Failure		400	{object}	ErrorBody	"invalid_body: the body is not JSON {\"key\"}"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: the key is unknown or revoked"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Router			/session [post]
func (s *Server) login(c *gin.Context) {
	var body SessionBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || strings.TrimSpace(body.Key) == "" {
		msg := "the body must be JSON {\"key\": \"<API key>\"}"
		if err != nil {
			msg += ": " + err.Error()
		}
		s.fail(c, badRequest("invalid_body", msg, nil))
		return
	}
	key := strings.TrimSpace(body.Key)
	p, ok := s.eng.Authenticate(key)
	if !ok {
		s.fail(c, unauthenticated("the API key is unknown or revoked"))
		return
	}
	http.SetCookie(c.Writer, sessionCookie(c, key, 0))
	uncacheable(c)
	s.writeJSON(c, http.StatusOK, sessionInfo(p, "cookie"))
}

// logout godoc
//
//	@ID				deleteSession
//	@Summary		Log out (dashboard session)
//	@Description	Clears the session cookie. Needs no key: it only tells the browser to forget the cookie.
//	@Tags			access
//	@Success		204	"the cookie is cleared"
//	@Header			204	{string}	Set-Cookie	"custkpi_session=; Path=/v1; Max-Age=0"
//	@Router			/session [delete]
func (s *Server) logout(c *gin.Context) {
	http.SetCookie(c.Writer, sessionCookie(c, "", -1))
	uncacheable(c)
	c.Status(http.StatusNoContent)
}

// whoami godoc
//
//	@ID				getSession
//	@Summary		Who am I
//	@Description	The role, name and row scope the request acts as, and how it authenticated; the dashboard shows or hides its edit controls by the role.
//	@Tags			access
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Success		200	{object}	SessionInfo
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Router			/session [get]
func (s *Server) whoami(c *gin.Context) {
	p := principal(c)
	via := "header"
	switch {
	case p == engine.LocalAdmin:
		via = "local"
	case c.GetBool(viaCookieKey):
		via = "cookie"
	}
	uncacheable(c)
	s.writeJSON(c, http.StatusOK, sessionInfo(p, via))
}

func sessionInfo(p *engine.Principal, via string) SessionInfo {
	return SessionInfo{Name: p.Name, Role: p.Role, KeyID: p.KeyID, Scope: p.Scope, Via: via}
}

// sessionCookie is the cookie carrying key (maxAge < 0 deletes it; 0
// keeps it for the browser session). Secure when the request came over
// TLS: a plain-HTTP local server must still be able to log in.
func sessionCookie(c *gin.Context, key string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: key, Path: "/v1", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil}
}

// viaCookieKey marks, in the gin context, a request authenticated by the
// session cookie.
const viaCookieKey = "custkpi.via_cookie"

// cookieKey is the key of the session cookie, "" without one.
func cookieKey(r *http.Request) string {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(ck.Value)
}

// cookieWriteAllowed: a change authenticated by the cookie must carry the
// X-Requested-With header (see the top of this file).
func cookieWriteAllowed(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return r.Header.Get(csrfHeader) != ""
}
