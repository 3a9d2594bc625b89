package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
	"custkpi/jobs"
)

// JobResponse is the 202 answer of a write asked to run asynchronously.
type JobResponse struct {
	Job jobs.Job `json:"job"`
}

// JobList is GET /v1/jobs.
type JobList struct {
	Jobs []jobs.Job `json:"jobs"`
}

// wantsAsync: `Prefer: respond-async` (RFC 7240) or `?async=true`.
func wantsAsync(c *gin.Context) bool {
	if c.Query("async") == "true" {
		return true
	}
	for _, pref := range c.Request.Header.Values("Prefer") {
		for _, p := range strings.Split(pref, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "respond-async") {
				return true
			}
		}
	}
	return false
}

// respond runs a write: as a job when the client asked for it (202 with
// the job and its Location), else within the request (status with the
// result). release, when not nil, runs once fn is done, wherever it ran: it
// frees what fn used (an uploaded file).
func (s *Server) respond(c *gin.Context, kind string, status int, release func(), fn func(ctx context.Context) (any, error)) {
	if release == nil {
		release = func() {}
	}
	if wantsAsync(c) {
		// The job runs after the request: it carries the request's principal
		// (its scope binds the job as it binds the request), and its outcome
		// goes to the audit log when it ends.
		who, action := principal(c), c.Request.Method+" "+c.FullPath()+" (job)"
		target, reqID := c.Request.URL.Path, requestIDOf(c)
		job := s.jobs.Start(kind, func(ctx context.Context, p *jobs.Progress) (any, error) {
			defer release()
			res, err := fn(engine.WithProgress(engine.WithPrincipal(ctx, who), p))
			s.auditJob(ctx, who, engine.AuditRecord{Action: action, Target: target, RequestID: reqID}, err)
			return res, err
		})
		c.Header("Location", "/v1/jobs/"+job.ID)
		s.writeJSON(c, http.StatusAccepted, JobResponse{Job: job})
		return
	}
	defer release()
	// Within the request: its context (a client that goes away cancels the
	// write, which rolls back) and the job timeout.
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.JobTimeout)
	defer cancel()
	res, err := fn(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, status, res)
}

// auditJob records how an asynchronous write ended.
func (s *Server) auditJob(ctx context.Context, who *engine.Principal, rec engine.AuditRecord, err error) {
	rec.Status, rec.Outcome = http.StatusOK, "ok"
	if who != nil {
		rec.KeyID, rec.KeyName = who.KeyID, who.Name
	}
	if err != nil {
		d := s.describeJobError(err)
		rec.Outcome, rec.Message = "failed", d.Message
		rec.Status, _ = errorResponse(err, s.log)
	}
	if aerr := s.eng.Audit(ctx, rec); aerr != nil {
		s.log.Error("audit", "err", aerr)
	}
}

// describeJobError is a failed job's error in the API's words.
func (s *Server) describeJobError(err error) jobs.Error {
	_, body := errorResponse(err, s.log)
	return jobs.Error{Code: body.Error.Code, Message: body.Error.Message, Details: body.Error.Details}
}

// listJobs godoc
//
//	@ID				listJobs
//	@Summary		Jobs
//	@Description	Recent jobs (imports, rule evaluations, model fits asked with `Prefer: respond-async` or `async=true`), newest first; finished ones are kept up to a hundred.
//	@Tags			jobs
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Success		200	{object}	JobList
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Router			/jobs [get]
func (s *Server) listJobs(c *gin.Context) {
	s.writeJSON(c, http.StatusOK, JobList{Jobs: s.jobs.List()})
}

// getJob godoc
//
//	@ID				getJob
//	@Summary		A job
//	@Description	State (queued, running, succeeded, failed, cancelled), phase, progress (done of total, in unit), timestamps, and the result or the error.
//	@Tags			jobs
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			id	path	string	true	"job id"
//	@Success		200	{object}	jobs.Job
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such job (finished jobs are kept up to a hundred)"
//	@Router			/jobs/{id} [get]
func (s *Server) getJob(c *gin.Context) {
	job, ok := s.jobs.Get(c.Param("id"))
	if !ok {
		s.fail(c, noJob(c.Param("id")))
		return
	}
	s.writeJSON(c, http.StatusOK, job)
}

// cancelJob godoc
//
//	@ID				cancelJob
//	@Summary		Cancel a job
//	@Description	Asks a job to stop: its write rolls back and the previous generation stays. A finished job is left as it is. Answers the job.
//	@Tags			jobs
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			id	path	string	true	"job id"
//	@Success		200	{object}	jobs.Job
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the analyst role"
//	@Failure		404	{object}	ErrorBody	"not_found: no such job"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Router			/jobs/{id} [delete]
func (s *Server) cancelJob(c *gin.Context) {
	job, ok := s.jobs.Cancel(c.Param("id"))
	if !ok {
		s.fail(c, noJob(c.Param("id")))
		return
	}
	s.writeJSON(c, http.StatusOK, job)
}

func noJob(id string) error {
	return &httpError{status: http.StatusNotFound, body: ErrorDetail{Code: "not_found", Message: "no job " + id + " (finished jobs are kept up to a hundred)",
		Details: map[string]any{"job": id}}}
}
