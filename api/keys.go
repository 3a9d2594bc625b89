package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// KeyBody is POST /v1/keys.
type KeyBody struct {
	Name  string              `json:"name" example:"bi-north"`
	Role  string              `json:"role" enums:"reader,analyst,admin" example:"reader"`
	Scope map[string][]string `json:"scope,omitempty"`
}

// KeyList is GET /v1/keys.
type KeyList struct {
	Keys []engine.Key `json:"keys"`
}

// AuditList is GET /v1/audit.
type AuditList struct {
	Changes []engine.AuditRecord `json:"changes"`
}

// createKey godoc
//
//	@ID				createKey
//	@Summary		Create an API key
//	@Description	A random key with a role (reader < analyst < admin) and an optional row scope (customers column → allowed values: every answer made with the key counts only those customers). The key is in the answer once; only its hash is stored.
//	@Tags			access
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			body	body	KeyBody	true	"name, role, scope"
//	@Success		201	{object}	engine.NewKey
//	@Failure		400	{object}	ErrorBody	"invalid_body, invalid_parameter: the body is not the JSON expected, or a field is wrong"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the admin role"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/keys [post]
func (s *Server) createKey(c *gin.Context) {
	var body KeyBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.fail(c, badRequest("invalid_body", "the body must be JSON {\"name\", \"role\", \"scope\"?}: "+err.Error(), nil))
		return
	}
	k, err := s.eng.CreateKey(c.Request.Context(), body.Name, body.Role, body.Scope)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, k)
}

// listKeys godoc
//
//	@ID				listKeys
//	@Summary		API keys
//	@Description	Every key, revoked ones too, without secrets.
//	@Tags			access
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Success		200	{object}	KeyList
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the admin role"
//	@Router			/keys [get]
func (s *Server) listKeys(c *gin.Context) {
	keys, err := s.eng.Keys(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, KeyList{Keys: keys})
}

// revokeKey godoc
//
//	@ID				revokeKey
//	@Summary		Revoke an API key
//	@Description	Requests with the key answer 401 from now on.
//	@Tags			access
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			id	path	string	true	"key id"
//	@Success		204	"revoked"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the admin role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such key"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Router			/keys/{id} [delete]
func (s *Server) revokeKey(c *gin.Context) {
	if err := s.eng.RevokeKey(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// auditLog godoc
//
//	@ID				getAudit
//	@Summary		Audit log
//	@Description	Every change made through the API (imports, keys, rule sets, targets, fits), newest first: who (key), when, what, and how it ended (ok, refused, failed).
//	@Tags			access
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			limit	query	int	false	"how many (default 100, at most 10000)"
//	@Success		200	{object}	AuditList
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed; details.parameter names it"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the admin role"
//	@Router			/audit [get]
func (s *Server) auditLog(c *gin.Context) {
	limit := 100
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 10000 {
			s.fail(c, badRequest("invalid_parameter", "invalid parameter \"limit\": a whole number from 1 to 10000", map[string]any{"parameter": "limit"}))
			return
		}
		limit = n
	}
	log, err := s.eng.AuditLog(c.Request.Context(), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, AuditList{Changes: log})
}
