package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"

	"github.com/CAFxX/httpcompression"
	"github.com/CAFxX/httpcompression/contrib/klauspost/zstd"
	"github.com/gin-gonic/gin"
	kzstd "github.com/klauspost/compress/zstd"
)

// HTTP conventions every answer follows (issue 10, point 4): request ids,
// HEAD, Vary and compression. Caching (ETag, Cache-Control) is in
// conditional.go, paging headers in paging.go.

// requestIDKey is where the request's id is kept in the gin context.
const requestIDKey = "custkpi.request_id"

// maxRequestID bounds a client's X-Request-ID: long enough for a UUID, a
// ULID or a tracing id with a prefix, short enough for a log line.
const maxRequestID = 128

// validRequestID accepts ids made of letters, digits and - _ . : + / = @
// (UUIDs, ULIDs, base64, "trace:span"): nothing that could break a log
// line, a header or a JSON string.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.:+/=@", r):
		default:
			return false
		}
	}
	return true
}

// requestID takes the client's X-Request-ID when it is sane, or makes one,
// and echoes it. An unusable header is replaced, not refused: a tracing
// header must not fail a query.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		id = rand.Text()
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// requestIDOf is the request's id ("" outside the middleware, in tests of
// single handlers).
func requestIDOf(c *gin.Context) string {
	return c.GetString(requestIDKey)
}

// varyHeaders names what every answer of the API depends on besides the
// URL: the format is negotiated by Accept (and a type not offered is 406)
// and the body is compressed by Accept-Encoding. It runs after the CORS
// middleware, which replaces Vary with Origin on cross-origin answers, and
// adds to what is there.
func varyHeaders(c *gin.Context) {
	addVary(c.Writer.Header(), "Accept", "Accept-Encoding")
	c.Next()
}

// addVary adds names to Vary and writes it as one line: the compression
// wrapper (before gin) and the CORS middleware each add their own.
func addVary(h http.Header, names ...string) {
	var all []string
	have := map[string]bool{}
	for _, v := range append(names, h.Values("Vary")...) {
		for _, n := range strings.Split(v, ",") {
			if n = http.CanonicalHeaderKey(strings.TrimSpace(n)); n != "" && !have[n] {
				have[n] = true
				all = append(all, n)
			}
		}
	}
	h.Set("Vary", strings.Join(all, ", "))
}

// headKey marks a HEAD request served as a GET.
type headKey struct{}

// headAsGet serves HEAD as the GET of the same URL (Gin routes HEAD only
// where it is registered, and answers 405 elsewhere). The handler runs as
// for a GET, so every header is the GET's (ETag, Content-Type,
// Content-Encoding, Link, X-Total-Count); net/http drops the body of a HEAD
// answer and, for a body it saw whole, still sends its Content-Length.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.WithContext(context.WithValue(r.Context(), headKey{}, true))
			r.Method = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}

// requestMethod is the method the client sent (HEAD for a HEAD served as
// a GET), for the log.
func requestMethod(c *gin.Context) string {
	if head, _ := c.Request.Context().Value(headKey{}).(bool); head {
		return http.MethodHead
	}
	return c.Request.Method
}

// Compression of answers (Content-Encoding), chosen by Accept-Encoding.
const (
	// minCompressSize: a smaller body fits one packet anyway, and the
	// compressed form of a short body can be longer than the body.
	minCompressSize = 1024
)

// compressedTypes are the media types compressed: text formats. Arrow
// and Parquet are not (Parquet is compressed inside already, Arrow IPC is
// binary columns a general compressor gains little on), nor are uploads'
// answers of other types.
var compressedTypes = []string{
	"application/json", "text/csv", "application/x-ndjson", "application/ndjson",
	// The Swagger UI's files.
	"text/html", "text/css", "text/javascript", "application/javascript", "text/plain",
}

// compression wraps the API with gzip, br and zstd compression
// (github.com/CAFxX/httpcompression). The client's q-values choose the
// coding (PreferClient); among equal q-values zstd beats br beats gzip. An
// answer is compressed as it is written, so streamed answers stay
// streamed. ETags are weak and the same for every coding (see
// conditional.go).
func compression(next http.Handler) (http.Handler, error) {
	// One encoder goroutine per answer and a 1 MiB window: the server's
	// cores serve queries, and JSON repeats itself within far less.
	z, err := zstd.New(kzstd.WithEncoderConcurrency(1), kzstd.WithWindowSize(1<<20))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	adapter, err := httpcompression.Adapter(
		httpcompression.GzipCompressionLevel(6),
		httpcompression.BrotliCompressionLevel(4),
		httpcompression.ZstandardCompressor(z),
		httpcompression.MinSize(minCompressSize),
		httpcompression.ContentTypes(compressedTypes, false),
		httpcompression.Prefer(httpcompression.PreferClient),
	)
	if err != nil {
		return nil, fmt.Errorf("compression: %w", err)
	}
	return adapter(next), nil
}
