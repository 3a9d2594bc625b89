package main

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// The served binary answers its own address and the loopback names, and
// 421 to any other Host (DNS rebinding), /readyz and /v1/health included,
// while the database opens too.
func TestServeRefusesAForeignHost(t *testing.T) {
	base := startServe(t, filepath.Join(t.TempDir(), "shop.duckdb"))
	for path, wantOK := range map[string]bool{"/readyz": true, "/v1/health": true} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if wantOK && resp.StatusCode != 200 {
			t.Errorf("%s from 127.0.0.1: %d", path, resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Host = "rebound.evil.example"
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(string(b), "host_not_allowed") {
			t.Errorf("%s with a foreign Host: %d %s", path, resp.StatusCode, b)
		}
	}

	// Before the engine is set (the database still opening).
	srv := &Server{Log: slog.New(slog.DiscardHandler)}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go srv.http.Serve(srv.listener)
	defer srv.http.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.Addr()+"/readyz", nil)
	req.Host = "rebound.evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("/readyz while opening, foreign Host: %d", resp.StatusCode)
	}
}
