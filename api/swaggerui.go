package api

import (
	"context"
	"io/fs"
	"os"
	"sync"

	"github.com/gin-gonic/gin"
	swaggerFiles "github.com/swaggo/files/v2"
	ginSwagger "github.com/swaggo/gin-swagger"
	"golang.org/x/net/webdav"
)

// swaggerUI serves Swagger UI (gin-swagger) over /openapi.json. Its files
// are embedded (swaggo/files/v2) and copied into the in-memory file
// system gin-swagger serves them from on the first request, not when the
// process starts: swaggo/files v1 did so in its package's init, which
// cost every custkpi process, each CLI command included, 10–28 ms.
func swaggerUI() gin.HandlerFunc {
	serve := sync.OnceValue(func() gin.HandlerFunc {
		return ginSwagger.WrapHandler(swaggerFileHandler(), ginSwagger.URL("/openapi.json"))
	})
	return func(c *gin.Context) { serve()(c) }
}

// swaggerFileHandler serves the embedded Swagger UI files. A file that
// cannot be copied (none can fail: they are in the binary) is left out,
// and its request answered 404.
func swaggerFileHandler() *webdav.Handler {
	ctx := context.Background()
	mem := webdav.NewMemFS()
	_ = fs.WalkDir(swaggerFiles.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(swaggerFiles.FS, path)
		if err != nil {
			return err
		}
		f, err := mem.OpenFile(ctx, "/"+path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.Write(body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	return &webdav.Handler{FileSystem: mem, LockSystem: webdav.NewMemLS()}
}
