package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// ImportBody is the JSON form of POST /v1/datasets/{kind}: a file on the
// server. The multipart form takes the same fields, with the file in `file`
// and mapping as `canonical=source` pairs separated by commas.
type ImportBody struct {
	Path    string            `json:"path" example:"/data/orders.parquet"`
	Format  string            `json:"format,omitempty" enums:"parquet,csv"`
	Mapping map[string]string `json:"mapping,omitempty"`
	Mode    string            `json:"mode,omitempty" enums:"replace,append"`
	Orphans string            `json:"orphans,omitempty" enums:"reject,drop"`
	// AllowEmpty accepts a file without data rows (otherwise refused).
	AllowEmpty bool `json:"allow_empty,omitempty"`
}

// DatasetList is GET /v1/datasets.
type DatasetList struct {
	Datasets []*engine.DatasetInfo `json:"datasets"`
	History  []engine.ImportRecord `json:"history"`
}

// listDatasets godoc
//
//	@ID				listDatasets
//	@Summary		Loaded datasets
//	@Description	The datasets loaded, with row counts and columns, and the import history (newest first, failed imports with their reason).
//	@Tags			datasets
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	DatasetList
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/datasets [get]
func (s *Server) listDatasets(c *gin.Context) {
	hist, err := s.eng.ImportHistory(c.Request.Context(), 200)
	if err != nil {
		s.fail(c, err)
		return
	}
	ds := s.eng.Datasets()
	if ds == nil {
		ds = []*engine.DatasetInfo{}
	}
	s.writeJSON(c, http.StatusOK, DatasetList{Datasets: ds, History: hist})
}

// importDataset godoc
//
//	@ID				importDataset
//	@Summary		Import a dataset
//	@Description	Imports a Parquet or CSV file as the dataset of a kind (DATA.md), all or nothing: a file that fails validation (missing required column, uncastable value, duplicate id, orphan rows, value out of range, NaN or infinite number, date outside 1900-01-01..2200-01-01 or infinite, a customers column named like a computed feature, no data rows without allow_empty) answers 400 naming the file, the column and the first offending rows, and the data loaded before is untouched. Either a multipart upload (field `file`, optional fields mapping, mode, orphans, format) or a JSON body with a server-side path.
//	@Tags			datasets
//	@Accept			json
//	@Accept			mpfd
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			kind	path	string	true	"dataset kind"	Enums(customers, orders, surveys, tickets, events, acquisition_spend, contracts)
//	@Param			body	body	ImportBody	false	"server-side file (JSON form)"
//	@Param			file	formData	file	true	"the file (multipart form)"
//	@Param			format	formData	string	false	"parquet or csv (default: from the file name) (multipart form)"	Enums(parquet, csv)
//	@Param			mapping	formData	string	false	"canonical=source pairs, comma-separated (multipart form)"
//	@Param			mode	formData	string	false	"replace (default) or append (multipart form)"	Enums(replace, append)
//	@Param			orphans	formData	string	false	"reject (default) or drop rows whose customer_id is unknown (multipart form)"	Enums(reject, drop)
//	@Param			allow_empty	formData	bool	false	"true: accept a file without data rows (multipart form)"
//	@Param			Prefer	header	string	false	"respond-async: run as a job and answer 202 at once"
//	@Param			async	query	bool	false	"true: run as a job (as Prefer: respond-async)"
//	@Success		201	{object}	engine.ImportResult	"imported within the request"
//	@Success		202	{object}	JobResponse	"running as a job: poll Location"
//	@Failure		400	{object}	ErrorBody	"invalid_dataset, invalid_parameter, invalid_body: the file fails validation (details name the column and rows), or the request is malformed"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		403	{object}	ErrorBody	"forbidden: the call needs the admin role, the key has a row scope, or the path is outside the import folders"
//	@Failure		404	{object}	ErrorBody	"unknown_dataset_kind: no such dataset kind"
//	@Failure		413	{object}	ErrorBody	"too_large: the upload is over --max-upload"
//	@Failure		415	{object}	ErrorBody	"unsupported_media_type: the body's Content-Type is not one the call accepts"
//	@Failure		503	{object}	ErrorBody	"busy: another write held the database until the deadline; nothing was written; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the work ran past the job timeout; nothing was written"
//	@Header			202	{string}	Location	"the job: /v1/jobs/{id}"
//	@Router			/datasets/{kind} [post]
func (s *Server) importDataset(c *gin.Context) {
	kind := c.Param("kind")
	if _, err := engine.LookupKind(kind); err != nil {
		s.fail(c, err)
		return
	}
	req := engine.ImportRequest{Kind: kind}
	// An upload is removed when the import is done (by respond, in the
	// request or in its job), or here when the request fails before.
	cleanup, owned := func() {}, true
	defer func() {
		if owned {
			cleanup()
		}
	}()
	var err error
	if strings.HasPrefix(c.ContentType(), "multipart/") {
		err = s.readUpload(c, &req, &cleanup)
	} else {
		err = s.readPathImport(c, &req)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	owned = false
	s.respond(c, "import", http.StatusCreated, cleanup, func(ctx context.Context) (any, error) {
		return s.eng.Import(ctx, req)
	})
}

// readPathImport reads the JSON form: a file on the server, which must lie
// in one of the import folders.
func (s *Server) readPathImport(c *gin.Context, req *engine.ImportRequest) error {
	var body ImportBody
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		if tooLarge(err) {
			return err
		}
		return badRequest("invalid_body", "the body must be JSON {\"path\", \"mapping\"?, \"mode\"?, \"orphans\"?, \"format\"?, \"allow_empty\"?} or a multipart upload: "+err.Error(), nil)
	}
	if body.Path == "" {
		return badRequest("invalid_parameter", "invalid parameter \"path\": required", map[string]any{"parameter": "path"})
	}
	path, err := s.importable(body.Path)
	if err != nil {
		return err
	}
	req.Path, req.Source, req.Mapping, req.Mode, req.Orphans, req.Format = path, body.Path, body.Mapping, body.Mode, body.Orphans, body.Format
	req.AllowEmpty = body.AllowEmpty
	return nil
}

// readUpload streams a multipart upload to one temporary file (never held
// in memory, written once) and reads its form fields. cleanup is set to
// remove the file.
func (s *Server) readUpload(c *gin.Context, req *engine.ImportRequest, cleanup *func()) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxUploadBytes)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return badRequest("invalid_body", "not a multipart form: "+err.Error(), nil)
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return uploadError(err)
		}
		if part.FormName() == "file" && req.Path == "" {
			if err := s.stagePart(part, req, cleanup); err != nil {
				return err
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 64<<10))
		if err != nil {
			return uploadError(err)
		}
		fields[part.FormName()] = string(v)
	}
	if req.Path == "" {
		return badRequest("invalid_parameter", "a multipart upload needs the file in form field \"file\"", map[string]any{"parameter": "file"})
	}
	req.Mode, req.Orphans, req.Format = fields["mode"], fields["orphans"], fields["format"]
	if v := fields["allow_empty"]; v != "" {
		if req.AllowEmpty, err = strconv.ParseBool(v); err != nil {
			return badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"allow_empty\": %q is not true or false", v),
				map[string]any{"parameter": "allow_empty"})
		}
	}
	req.Mapping, err = parseMapping(fields["mapping"])
	return err
}

// stagePart copies the file part to a temporary file, keeping the
// extension (it tells parquet from csv).
func (s *Server) stagePart(part io.Reader, req *engine.ImportRequest, cleanup *func()) error {
	name := filepath.Base(partFileName(part))
	tmp, err := os.CreateTemp(s.opts.UploadDir, "custkpi-upload-*"+filepath.Ext(name))
	if err != nil {
		return fmt.Errorf("stage upload: %w", err)
	}
	*cleanup = func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, part)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uploadError(err)
	}
	req.Path, req.Source = tmp.Name(), name
	return nil
}

func partFileName(part io.Reader) string {
	if p, ok := part.(interface{ FileName() string }); ok && p.FileName() != "" {
		return p.FileName()
	}
	return "upload"
}

// uploadError is 413 for a body over the limit, 400 for a broken form.
func uploadError(err error) error {
	if tooLarge(err) {
		return err
	}
	return badRequest("invalid_body", "the multipart upload is broken: "+err.Error(), nil)
}

// importable resolves a server path for an import: the real path (symlinks
// resolved) must be a regular file inside one of the import folders. A
// path outside them is refused before anything about it is looked at, so
// the answer tells nothing of the rest of the disk.
func (s *Server) importable(path string) (string, error) {
	if len(s.opts.ImportDirs) == 0 {
		return "", &httpError{status: http.StatusForbidden, body: ErrorDetail{Code: "forbidden",
			Message: "imports by server path are off on this server (serve --import-dir DIR turns them on for DIR); upload the file instead (multipart, field \"file\")",
			Details: map[string]any{"parameter": "path"}}}
	}
	outside := &httpError{status: http.StatusForbidden, body: ErrorDetail{Code: "forbidden",
		Message: "the path is not inside an import folder of this server", Details: map[string]any{"parameter": "path"}}}
	abs, err := filepath.Abs(path)
	if err != nil || !s.insideImportDir(abs) {
		return "", outside
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", badRequest("invalid_parameter", "invalid parameter \"path\": no such file in the import folder", map[string]any{"parameter": "path"})
	}
	if !s.insideImportDir(real) {
		return "", outside
	}
	if fi, err := os.Stat(real); err != nil || !fi.Mode().IsRegular() {
		return "", badRequest("invalid_parameter", "invalid parameter \"path\": not a regular file", map[string]any{"parameter": "path"})
	}
	return real, nil
}

// insideImportDir tells whether path lies in an import folder, named as
// given or with its symlinks resolved.
func (s *Server) insideImportDir(path string) bool {
	for _, d := range s.opts.ImportDirs {
		abs, _ := filepath.Abs(d)
		real, _ := filepath.EvalSymlinks(d)
		for _, dir := range []string{abs, real} {
			if dir == "" {
				continue
			}
			if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return true
			}
		}
	}
	return false
}

// parseMapping reads "order_date=created_at,amount=total".
func parseMapping(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || k == "" || v == "" {
			return nil, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"mapping\": %q is not canonical=source", pair),
				map[string]any{"parameter": "mapping"})
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}
