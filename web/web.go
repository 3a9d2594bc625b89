// Package web is the dashboard (issue 12): a page of plain JavaScript
// modules and CSS, embedded in the binary and served at / and /ui/. It
// reads only the public JSON API (/v1/...), so it can do nothing a key
// could not do with curl; its charts are SVG drawn by its own small code
// (static/chart.js): no library, nothing fetched at run time.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed static
var static embed.FS

// asset is one embedded file, ready to answer.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets are the embedded files by URL path under /ui/ (index.html also
// at /), hashed when first asked for rather than at every process's
// start (with the MIME table: 1–2 ms).
var assets = sync.OnceValue(load)

func load() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "static/")] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("web: embedded assets: " + err.Error()) // fixed at build time
	}
	return out
}

// contentSecurity keeps the page to its own origin: scripts and styles
// from the embedded files only (no inline script, so an injected string
// cannot run), data and blob images for the chart downloads, no framing.
const contentSecurity = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler answers the dashboard: / is the page, /ui/NAME its files. Other
// paths are 404. Answers carry an ETag and must be revalidated (no-cache),
// so a new binary's assets are never mixed with an old page's.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/ui/")
		if r.URL.Path == "/" {
			name = "index.html"
		}
		a, ok := assets()[name]
		if !ok || strings.Contains(name, "..") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", contentSecurity)
		h.Set("Referrer-Policy", "no-referrer")
		if r.Header.Get("If-None-Match") == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(a.body)
	})
}
