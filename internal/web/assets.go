package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file, with a gzip copy when compressing pays.
type asset struct {
	body, gz []byte
	ctype    string
	etag     string
	hashed   bool // served under its content-hashed URL: cache for a year
}

// assets serves the embedded static files. Each file is reachable at a
// content-hashed URL (/static/css/kehu.3f9a0c1b2d.css) that may be cached
// forever, since a changed file gets a new URL; the plain URL stays available
// with revalidation, for licences and debugging.
type assets struct {
	byURL map[string]*asset
	urlOf map[string]string // "css/kehu.css" → hashed URL
}

func loadAssets() (*assets, error) {
	a := &assets{byURL: map[string]*asset{}, urlOf: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:10]
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "text/plain; charset=utf-8"
		}
		plain := &asset{body: body, ctype: ctype, etag: `W/"` + hash + `"`}
		if strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") || ext == ".svg" {
			if plain.gz, err = gzipped(body); err != nil {
				return err
			}
		}
		hashed := *plain
		hashed.hashed = true
		hashedURL := "/static/" + strings.TrimSuffix(name, ext) + "." + hash + ext
		a.byURL["/static/"+name], a.byURL[hashedURL], a.urlOf[name] = plain, &hashed, hashedURL
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static assets: %w", err)
	}
	return a, nil
}

// url returns the content-hashed URL of a static file; templates call it as
// {{asset "css/kehu.css"}}. An unknown name panics at render time in tests,
// not silently in production, because every page is rendered by a test.
func (a *assets) url(name string) string {
	u, ok := a.urlOf[name]
	if !ok {
		panic("web: no static asset " + name)
	}
	return u
}

func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.byURL[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding")
	if f.hashed {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
