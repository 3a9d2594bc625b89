package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// pageHeaders describes a page of a paged list in headers, so every format
// (JSON, CSV, Arrow, Parquet, ndjson) carries them: X-Total-Count is the
// number of rows matching (counted by DuckDB with the page's filter), Link
// (RFC 8288) names the first, previous, next and last pages. Their URLs are
// this request's path and query with limit and offset set, relative to the
// server so they stay right behind a proxy that rewrites the host.
func pageHeaders(c *gin.Context, page *engine.CustomerPage) {
	c.Header("X-Total-Count", strconv.FormatInt(page.Total, 10))
	limit, offset, total := int64(page.Limit), int64(page.Offset), page.Total
	if limit <= 0 {
		return
	}
	links := []string{pageLink(c, limit, 0, "first")}
	if offset > 0 {
		links = append(links, pageLink(c, limit, max(0, offset-limit), "prev"))
	}
	if offset+limit < total {
		links = append(links, pageLink(c, limit, offset+limit, "next"))
	}
	if total > 0 {
		links = append(links, pageLink(c, limit, (total-1)/limit*limit, "last"))
	}
	c.Header("Link", strings.Join(links, ", "))
}

func pageLink(c *gin.Context, limit, offset int64, rel string) string {
	q := c.Request.URL.Query()
	q.Set("limit", strconv.FormatInt(limit, 10))
	q.Set("offset", strconv.FormatInt(offset, 10))
	return fmt.Sprintf(`<%s?%s>; rel="%s"`, c.Request.URL.EscapedPath(), q.Encode(), rel)
}
