package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Caching of /v1 answers: ETag, If-None-Match and Cache-Control.
//
// Every successful GET of /v1 carries a weak ETag and
// "Cache-Control: private, no-cache": a client (or its own cache) may keep
// the answer but revalidates it each time with If-None-Match, which costs
// a 304 without a body while nothing changed. Shared caches must not keep
// answers: what a key sees depends on its scope. Everything else (writes,
// the answer that shows a new key's secret, errors, /v1/health, /readyz)
// is "Cache-Control: no-store".
//
// Two kinds of tag:
//   - Data answers depend only on the data generation and the request, so
//     their tag is computed before the handler runs, and a match answers
//     304 without running the query: a hash of this server's instance,
//     the generation, the key (id, role, scope), the path with its query
//     string and the Accept header.
//   - Answers that change without a new generation (the import history,
//     the audit log, jobs) are tagged by a hash of their bytes after the
//     handler ran.
//
// The tags are weak (W/"…") because one tag names the answer in every
// content coding: gzip, br, zstd and identity bodies are the same data, and
// If-None-Match compares weakly (RFC 9110, 13.1.2), so a client's cached
// gzip answer revalidates whichever coding it asks for next.

// contentTagged are the GET routes tagged by their bytes.
var contentTagged = map[string]bool{
	"/v1/datasets": true, // a refused import is recorded without a new generation
	"/v1/audit":    true, // an audit record is not a generation
	"/v1/jobs":     true, // jobs live in memory
	"/v1/jobs/:id": true,
}

const (
	cacheRevalidate = "private, no-cache"
	cacheNever      = "no-store"
)

// newInstanceID names this server process in data tags: generations count
// from 1 in every database, so a tag must not survive a restart on another
// database (or another build, with another catalog).
func newInstanceID() string { return rand.Text() }

// conditional tags the GET answers of /v1 and answers 304 to a request
// whose If-None-Match matches. It runs after authentication: the tag names
// the key that asked.
func (s *Server) conditional(c *gin.Context) {
	c.Header("Cache-Control", cacheNever)
	if c.Request.Method != http.MethodGet {
		c.Next()
		return
	}
	if contentTagged[c.FullPath()] {
		s.contentTag(c)
		return
	}
	tag := s.dataTag(c)
	c.Header("ETag", tag)
	c.Header("Cache-Control", cacheRevalidate)
	if noneMatch(c.GetHeader("If-None-Match"), tag) {
		c.AbortWithStatus(http.StatusNotModified)
		return
	}
	c.Next()
}

// dataTag is the tag of a data answer. The generation is read before the
// handler runs, so the data the handler reads is of that generation or a
// later one: a tag may name older data than its answer holds (the next
// request then answers 200 again), never newer.
func (s *Server) dataTag(c *gin.Context) string {
	gen := s.eng.Generation()
	who := []byte("-")
	if p := principal(c); p != nil {
		who, _ = json.Marshal(p) // key id, name, role and scope; map keys sorted
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(s.instance), who, []byte(c.Request.URL.Path), []byte(c.Request.URL.RawQuery), []byte(c.GetHeader("Accept"))} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return `W/"` + strconv.FormatInt(gen, 10) + "-" + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// contentTag runs the handler into a buffer, tags a 200 answer by its
// bytes, and answers 304 on a match. These answers are small JSON.
func (s *Server) contentTag(c *gin.Context) {
	orig := c.Writer
	bw := &bufferedWriter{ResponseWriter: orig, status: http.StatusOK}
	c.Writer = bw
	// Restored even when the handler panics, so the 500 of recoverJSON
	// reaches the client.
	defer func() { c.Writer = orig }()
	c.Next()
	h := orig.Header()
	if bw.status == http.StatusOK {
		sum := sha256.Sum256(append([]byte(h.Get("Content-Type")+"\x00"), bw.body.Bytes()...))
		tag := `W/"c-` + hex.EncodeToString(sum[:12]) + `"`
		h.Set("ETag", tag)
		h.Set("Cache-Control", cacheRevalidate)
		if noneMatch(c.GetHeader("If-None-Match"), tag) {
			orig.WriteHeader(http.StatusNotModified)
			orig.WriteHeaderNow()
			return
		}
	}
	orig.WriteHeader(bw.status)
	orig.WriteHeaderNow()
	if bw.body.Len() > 0 {
		if _, err := orig.Write(bw.body.Bytes()); err != nil {
			s.log.Debug("write answer", "path", c.Request.URL.Path, "err", err)
		}
	}
}

// bufferedWriter keeps an answer in memory until its tag is known.
type bufferedWriter struct {
	gin.ResponseWriter
	status  int
	written bool
	body    bytes.Buffer
}

func (w *bufferedWriter) WriteHeader(code int) {
	if !w.written {
		w.status = code
	}
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.body.Write(b)
}

func (w *bufferedWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
func (w *bufferedWriter) WriteHeaderNow()                   { w.written = true }
func (w *bufferedWriter) Status() int                       { return w.status }
func (w *bufferedWriter) Written() bool                     { return w.written }
func (w *bufferedWriter) Size() int                         { return w.body.Len() }

// Flush does nothing: the answer goes out whole once tagged.
func (w *bufferedWriter) Flush() {}

// noneMatch evaluates If-None-Match against a current tag (RFC 9110,
// 13.1.2): "*" matches any current answer; otherwise the field is a list of
// entity tags compared weakly (W/"x" matches "x" and W/"x"). A malformed
// field matches nothing, so the full answer goes out.
func noneMatch(field, current string) bool {
	field = strings.TrimSpace(field)
	if field == "" {
		return false
	}
	if field == "*" {
		return true
	}
	want := opaqueTag(current)
	for _, t := range splitTags(field) {
		if opaqueTag(t) == want {
			return true
		}
	}
	return false
}

// opaqueTag is a tag without its weakness indicator, for weak comparison.
func opaqueTag(t string) string {
	return strings.TrimPrefix(strings.TrimSpace(t), "W/")
}

// splitTags splits a list of entity tags. A comma may appear inside a
// quoted tag (etagc allows it), so the split follows the quotes.
func splitTags(field string) []string {
	var tags []string
	var cur strings.Builder
	quoted := false
	for _, r := range field {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ',' && !quoted:
			tags = append(tags, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	tags = append(tags, cur.String())
	out := tags[:0]
	for _, t := range tags {
		if t = strings.TrimSpace(t); strings.HasSuffix(t, `"`) && strings.HasPrefix(strings.TrimPrefix(t, "W/"), `"`) && len(strings.TrimPrefix(t, "W/")) >= 2 {
			out = append(out, t)
		}
	}
	return out
}
