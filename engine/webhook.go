package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"custkpi/buildinfo"
)

var alertName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// SignatureHeader carries sha256=<hex HMAC-SHA256 of the body, keyed by
// the alert's secret>.
const SignatureHeader = "X-Custkpi-Signature"

// checkWebhook accepts http and https URLs with a host, and refuses a
// loopback, unspecified or link-local address, or one of this machine's
// own, unless allowLoopback. A host name is checked again when it is
// dialled (webhookDialer), where DNS has said what it points to.
func checkWebhook(raw string, allowLoopback bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return invalidParam("webhook", "%q is not an http:// or https:// URL with a host", raw)
	}
	if u.User != nil {
		return invalidParam("webhook", "the URL carries credentials; use the secret to sign deliveries instead")
	}
	if allowLoopback {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return invalidParam("webhook", "%s is this server's loopback; webhooks may not call it (serve --webhook-allow-loopback allows it)", host)
	}
	if ip := net.ParseIP(host); ip != nil {
		if why := refusedIP(ip); why != "" {
			return invalidParam("webhook", "%s is %s; webhooks may not call it (serve --webhook-allow-loopback allows it)", host, why)
		}
	}
	return nil
}

// refusedIP says why a webhook may not reach ip ("" when it may).
func refusedIP(ip net.IP) string {
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsUnspecified():
		return "the unspecified address (this host)"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "a link-local address"
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return "an address of this server"
		}
	}
	return ""
}

// webhookClient is an HTTP client whose dialer refuses the addresses
// checkWebhook refuses, after DNS resolution, so a name that points at
// the server is refused too; it follows no redirects (a redirect could
// lead anywhere).
func webhookClient(allowLoopback bool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if !allowLoopback {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip != nil {
				if why := refusedIP(ip); why != "" {
					return fmt.Errorf("webhook address %s is %s", host, why)
				}
			}
			return nil
		}
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{DialContext: d.DialContext, Proxy: nil, TLSHandshakeTimeout: timeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// alertPayload is the body POSTed to a webhook.
type alertPayload struct {
	Alert          string            `json:"alert"`
	KPI            string            `json:"kpi"`
	Title          string            `json:"title"`
	By             map[string]string `json:"by,omitempty"`
	Value          *float64          `json:"value"`
	Previous       *float64          `json:"previous"`
	Target         *float64          `json:"target"`
	Direction      string            `json:"direction"`
	Status         string            `json:"status"`
	PreviousStatus *string           `json:"previous_status"`
	From           string            `json:"from"`
	To             string            `json:"to"`
	Link           string            `json:"link"`
	EvaluatedAt    time.Time         `json:"evaluated_at"`
}

// deliver POSTs the alert's change to its webhook, signed when the alert
// has a secret, retrying network errors, 429 and 5xx with a doubling
// backoff, and records the delivery.
func (e *Engine) deliver(ctx context.Context, a *Alert, c *AlertCheck, row ScorecardRow) (*Delivery, error) {
	o := e.alerts.options()
	q := url.Values{"from": {c.From}, "to": {c.To}}
	link := strings.TrimSuffix(o.BaseURL, "/") + "/v1/kpis/" + url.PathEscape(a.KPI) + "/explain?" + q.Encode()
	body, err := json.Marshal(alertPayload{Alert: a.Name, KPI: a.KPI, Title: row.Title, By: a.By, Value: row.Value, Previous: row.Previous,
		Target: row.Target, Direction: row.Direction, Status: c.Status, PreviousStatus: c.PreviousStatus, From: c.From, To: c.To,
		Link: link, EvaluatedAt: time.Now().UTC()})
	if err != nil {
		return nil, fmt.Errorf("alert %s: %w", a.Name, err)
	}
	d := &Delivery{Alert: a.Name, KPI: a.KPI, Status: c.Status, PreviousStatus: c.PreviousStatus, Webhook: a.Webhook, Payload: string(body), SentAt: time.Now().UTC()}
	client := webhookClient(o.AllowLoopback, o.AttemptTimeout)
	wait := o.Backoff
	for d.Attempts < o.Attempts {
		d.Attempts++
		code, retry, err := postWebhook(ctx, client, a, body)
		d.HTTPStatus, d.Error = code, ""
		if err != nil {
			d.Error = err.Error()
		}
		if err == nil && !retry {
			d.Outcome = "delivered"
			break
		}
		d.Outcome = "failed"
		if !retry || d.Attempts == o.Attempts {
			break
		}
		select {
		case <-ctx.Done():
			d.Error += "; gave up: " + ctx.Err().Error()
			d.Attempts = o.Attempts
		case <-time.After(wait):
			wait *= 2
		}
	}
	return d, e.recordDelivery(context.WithoutCancel(ctx), d)
}

// postWebhook makes one attempt; retry says whether a failure may pass.
func postWebhook(ctx context.Context, client *http.Client, a *Alert, body []byte) (*int, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Webhook, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "custkpi/"+buildinfo.Read().Version)
	req.Header.Set("X-Custkpi-Event", "alert")
	if a.secret != "" {
		req.Header.Set(SignatureHeader, Sign(a.secret, body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return &code, false, nil
	case code == http.StatusTooManyRequests || code >= 500:
		return &code, true, fmt.Errorf("webhook answered %d", code)
	}
	return &code, false, fmt.Errorf("webhook answered %d; not retried", code)
}

// Sign is the signature header's value for body: sha256=<hex HMAC>.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (e *Engine) recordDelivery(ctx context.Context, d *Delivery) error {
	_, err := e.write(ctx, "alert delivery", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		return conn.QueryRowContext(ctx, `INSERT INTO meta_alert_deliveries (alert, kpi, status, previous_status, webhook, attempts, http_status, outcome, error, payload, sent_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.Alert, d.KPI, d.Status, d.PreviousStatus, d.Webhook, d.Attempts, d.HTTPStatus,
			d.Outcome, nullIfEmpty(d.Error), d.Payload, d.SentAt).Scan(&d.ID)
	})
	return err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
