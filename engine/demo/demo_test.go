package demo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The 10,000-customer, seed-1 data set most tests read; generated once.
var (
	sharedOnce  sync.Once
	sharedDir   string
	sharedPaths map[string]string
	sharedErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

func shared(t *testing.T) map[string]string {
	t.Helper()
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "demo-test-")
		if sharedErr != nil {
			return
		}
		sharedPaths, sharedErr = Generate(context.Background(), sharedDir, Options{Customers: 10000, Seed: 1})
	})
	if sharedErr != nil {
		t.Fatalf("generate: %v", sharedErr)
	}
	return sharedPaths
}

// query opens a scratch DuckDB for reading the files back.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func scan[T any](t *testing.T, db *sql.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func pq(path string) string { return "read_parquet('" + strings.ReplaceAll(path, "'", "''") + "')" }

// canonical is DATA.md's columns and types, in order, plus the three
// survey attribute scores the demo ships.
var canonical = map[string][][2]string{
	"customers": {{"customer_id", "VARCHAR"}, {"signup_date", "DATE"}, {"region", "VARCHAR"}, {"segment", "VARCHAR"},
		{"acquisition_channel", "VARCHAR"}, {"age", "INTEGER"}, {"referred_by", "VARCHAR"}},
	"orders": {{"order_id", "VARCHAR"}, {"customer_id", "VARCHAR"}, {"order_date", "TIMESTAMP"}, {"amount", "DOUBLE"},
		{"cost", "DOUBLE"}, {"status", "VARCHAR"}, {"items", "INTEGER"}, {"promised_date", "TIMESTAMP"},
		{"delivered_date", "TIMESTAMP"}},
	"surveys": {{"response_id", "VARCHAR"}, {"customer_id", "VARCHAR"}, {"survey_date", "TIMESTAMP"}, {"csat", "INTEGER"},
		{"nps", "INTEGER"}, {"score_product_quality", "INTEGER"}, {"score_delivery", "INTEGER"}, {"score_support", "INTEGER"}},
	"tickets": {{"ticket_id", "VARCHAR"}, {"customer_id", "VARCHAR"}, {"opened_at", "TIMESTAMP"},
		{"first_response_at", "TIMESTAMP"}, {"resolved_at", "TIMESTAMP"}, {"category", "VARCHAR"}},
	"events": {{"customer_id", "VARCHAR"}, {"event_at", "TIMESTAMP"}, {"channel", "VARCHAR"}, {"event_type", "VARCHAR"},
		{"campaign_id", "VARCHAR"}},
	"acquisition_spend": {{"month", "DATE"}, {"channel", "VARCHAR"}, {"spend", "DOUBLE"}},
	"contracts": {{"contract_id", "VARCHAR"}, {"customer_id", "VARCHAR"}, {"start_date", "DATE"}, {"end_date", "DATE"},
		{"renewed", "BOOLEAN"}},
}

func TestSchema(t *testing.T) {
	paths := shared(t)
	db := openDB(t)
	if len(paths) != len(Kinds) {
		t.Fatalf("got %d files, want %d: %v", len(paths), len(Kinds), paths)
	}
	for _, kind := range Kinds {
		path, ok := paths[kind]
		if !ok {
			t.Fatalf("no %s file", kind)
		}
		if filepath.Base(path) != kind+".parquet" {
			t.Errorf("%s path %s", kind, path)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("DESCRIBE SELECT * FROM " + pq(path))
		if err != nil {
			t.Fatal(err)
		}
		var got [][2]string
		for rows.Next() {
			var name, typ string
			var null, key, def, extra sql.NullString
			if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
				t.Fatal(err)
			}
			got = append(got, [2]string{name, typ})
		}
		rows.Close()
		if fmt.Sprint(got) != fmt.Sprint(canonical[kind]) {
			t.Errorf("%s columns:\n got %v\nwant %v", kind, got, canonical[kind])
		}
	}
}

func TestRowCountsAndKeys(t *testing.T) {
	paths := shared(t)
	db := openDB(t)
	count := func(kind string) int64 { return scan[int64](t, db, "SELECT count(*) FROM "+pq(paths[kind])) }
	if n := count("customers"); n != 10000 {
		t.Errorf("customers = %d, want 10000", n)
	}
	if n := count("orders"); n < 5*10000 || n > 15*10000 {
		t.Errorf("orders = %d, want 5x..15x customers", n)
	}
	for kind, min := range map[string]int64{"surveys": 5000, "tickets": 3000, "events": 40000, "contracts": 1000} {
		if n := count(kind); n < min {
			t.Errorf("%s = %d, want >= %d", kind, n, min)
		}
	}
	// 36 months x 5 paid channels
	if n := count("acquisition_spend"); n != 36*5 {
		t.Errorf("acquisition_spend = %d rows, want 180", n)
	}

	// ids unique and the files sorted by them
	for kind, id := range map[string]string{"customers": "customer_id", "orders": "order_id", "surveys": "response_id",
		"tickets": "ticket_id", "contracts": "contract_id"} {
		src := "read_parquet('" + paths[kind] + "', file_row_number = true)"
		if d := scan[int64](t, db, "SELECT count(*) - count(DISTINCT "+id+") FROM "+src); d != 0 {
			t.Errorf("%s: %d duplicate %s", kind, d, id)
		}
		if bad := scan[int64](t, db, "SELECT count(*) FROM (SELECT "+id+" AS id, lag("+id+") OVER (ORDER BY file_row_number) AS prev FROM "+src+") WHERE prev >= id"); bad != 0 {
			t.Errorf("%s: %d rows out of %s order", kind, bad, id)
		}
	}
	src := "read_parquet('" + paths["events"] + "', file_row_number = true)"
	if bad := scan[int64](t, db, `SELECT count(*) FROM (SELECT customer_id, event_at,
			lag(customer_id) OVER w AS pc, lag(event_at) OVER w AS pe FROM `+src+` WINDOW w AS (ORDER BY file_row_number))
		WHERE pc > customer_id OR (pc = customer_id AND pe > event_at)`); bad != 0 {
		t.Errorf("events: %d rows out of (customer_id, event_at) order", bad)
	}

	// every customer_id refers to a customer
	for _, kind := range []string{"orders", "surveys", "tickets", "events", "contracts"} {
		if n := scan[int64](t, db, "SELECT count(*) FROM "+pq(paths[kind])+" x ANTI JOIN "+pq(paths["customers"])+" c USING (customer_id)"); n != 0 {
			t.Errorf("%s: %d rows with an unknown customer_id", kind, n)
		}
	}
}

func TestCustomers(t *testing.T) {
	paths := shared(t)
	db := openDB(t)
	c := pq(paths["customers"])
	if n := scan[int64](t, db, "SELECT count(*) FROM "+c+" WHERE signup_date < DATE '2022-01-01' OR signup_date >= DATE '2025-01-01'"); n != 0 {
		t.Errorf("%d signups outside the three years", n)
	}
	// growth: the last year acquires clearly more than the first
	first := scan[int64](t, db, "SELECT count(*) FROM "+c+" WHERE year(signup_date) = 2022")
	last := scan[int64](t, db, "SELECT count(*) FROM "+c+" WHERE year(signup_date) = 2024")
	if float64(last) < 1.4*float64(first) {
		t.Errorf("signups 2022 %d, 2024 %d: want growth", first, last)
	}
	if got := scan[string](t, db, "SELECT string_agg(DISTINCT region, ',' ORDER BY region) FROM "+c); got != "central,east,north,south,west" {
		t.Errorf("regions %s", got)
	}
	if got := scan[string](t, db, "SELECT string_agg(DISTINCT acquisition_channel, ',' ORDER BY acquisition_channel) FROM "+c); got != "affiliate,email,organic,referral,search,social" {
		t.Errorf("channels %s", got)
	}
	if b2b := scan[float64](t, db, "SELECT avg((segment = 'b2b')::INT) FROM "+c); b2b < 0.12 || b2b > 0.18 {
		t.Errorf("b2b share %.3f, want ~0.15", b2b)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+c+" WHERE segment NOT IN ('b2b', 'b2c')"); n != 0 {
		t.Errorf("%d bad segments", n)
	}
	nullAge := scan[float64](t, db, "SELECT avg((age IS NULL)::INT) FROM "+c)
	if nullAge < 0.05 || nullAge > 0.25 {
		t.Errorf("null age share %.3f", nullAge)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+c+" WHERE age < 18 OR age > 85"); n != 0 {
		t.Errorf("%d ages out of 18..85", n)
	}
	// referred_by: exactly the referral customers, pointing at an earlier customer
	if n := scan[int64](t, db, "SELECT count(*) FROM "+c+" WHERE (referred_by IS NOT NULL) <> (acquisition_channel = 'referral')"); n != 0 {
		t.Errorf("%d customers with referred_by not matching the referral channel", n)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+c+" x LEFT JOIN "+c+" r ON r.customer_id = x.referred_by WHERE x.referred_by IS NOT NULL AND (r.customer_id IS NULL OR r.customer_id >= x.customer_id OR r.signup_date > x.signup_date)"); n != 0 {
		t.Errorf("%d referrals not pointing at an earlier customer", n)
	}
}

func TestOrders(t *testing.T) {
	paths := shared(t)
	db := openDB(t)
	o := pq(paths["orders"])
	if n := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE order_date < TIMESTAMP '2022-01-01' OR order_date >= TIMESTAMP '2025-01-01'"); n != 0 {
		t.Errorf("%d orders outside [End-3y, End)", n)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE status NOT IN ('completed', 'returned', 'cancelled') OR status IS NULL"); n != 0 {
		t.Errorf("%d orders with another status", n)
	}
	share := func(status string) float64 {
		return scan[float64](t, db, "SELECT avg((status = ?)::INT) FROM "+o, status)
	}
	if s := share("completed"); s < 0.89 || s > 0.95 {
		t.Errorf("completed share %.3f, want ~0.92", s)
	}
	if s := share("returned"); s < 0.035 || s > 0.07 {
		t.Errorf("returned share %.3f, want ~0.05", s)
	}
	if s := share("cancelled"); s < 0.02 || s > 0.04 {
		t.Errorf("cancelled share %.3f, want ~0.03", s)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE amount IS NULL OR amount < 0 OR items IS NULL OR items < 1"); n != 0 {
		t.Errorf("%d orders with a bad amount or items", n)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE cost / amount < 0.54 OR cost / amount > 0.76"); n != 0 {
		t.Errorf("%d costs outside 55-75%% of amount", n)
	}
	if s := scan[float64](t, db, "SELECT avg((cost IS NULL)::INT) FROM "+o); s == 0 || s > 0.05 {
		t.Errorf("null cost share %.4f, want a few", s)
	}
	// delivery: mostly on time, some late, a few unknown; never before the order
	onTime := scan[float64](t, db, "SELECT avg((delivered_date <= promised_date)::INT) FROM "+o+" WHERE delivered_date IS NOT NULL AND promised_date IS NOT NULL")
	if onTime < 0.8 || onTime > 0.97 {
		t.Errorf("on-time share %.3f", onTime)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE delivered_date < order_date OR promised_date < order_date"); n != 0 {
		t.Errorf("%d deliveries or promises before the order", n)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE status = 'cancelled' AND delivered_date IS NOT NULL"); n != 0 {
		t.Errorf("%d cancelled orders delivered", n)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE promised_date IS NULL"); n == 0 {
		t.Error("no order without a promised date")
	}
	// B2B baskets are larger
	ratio := scan[float64](t, db, "SELECT avg(amount) FILTER (segment = 'b2b') / avg(amount) FILTER (segment = 'b2c') FROM "+o+" JOIN "+pq(paths["customers"])+" USING (customer_id)")
	if ratio < 3 {
		t.Errorf("b2b/b2c average order value %.2f, want b2b larger", ratio)
	}
	// heterogeneity: non-buyers, one-time buyers, loyal repeat buyers
	var never, once, loyal int64
	err := db.QueryRow(`SELECT count(*) FILTER (n = 0), count(*) FILTER (n = 1), count(*) FILTER (n >= 20)
		FROM (SELECT c.customer_id, count(o.order_id) AS n FROM `+pq(paths["customers"])+` c LEFT JOIN `+o+` o USING (customer_id) GROUP BY ALL)`).Scan(&never, &once, &loyal)
	if err != nil {
		t.Fatal(err)
	}
	if never < 500 || once < 1000 || loyal < 500 {
		t.Errorf("never %d, once %d, 20+ orders %d: want all three groups", never, once, loyal)
	}
	// seasonality: December beats June every year with data
	dec := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE year(order_date) = 2023 AND month(order_date) = 12")
	jun := scan[int64](t, db, "SELECT count(*) FROM "+o+" WHERE year(order_date) = 2023 AND month(order_date) = 6")
	if float64(dec) < 1.4*float64(jun) {
		t.Errorf("orders Dec 2023 %d vs Jun 2023 %d: want a holiday peak", dec, jun)
	}
	// retention is neither 0 nor 1
	ret := scan[float64](t, db, `WITH a AS (SELECT DISTINCT customer_id FROM `+o+` WHERE status = 'completed' AND year(order_date) = 2023),
		b AS (SELECT DISTINCT customer_id FROM `+o+` WHERE status = 'completed' AND year(order_date) = 2024)
		SELECT (SELECT count(*) FROM a JOIN b USING (customer_id)) / (SELECT count(*) FROM a)`)
	if ret < 0.3 || ret > 0.8 {
		t.Errorf("2023->2024 retention %.3f", ret)
	}
}

func TestSurveys(t *testing.T) {
	paths := shared(t)
	db := openDB(t)
	s := pq(paths["surveys"])
	if n := scan[int64](t, db, "SELECT count(*) FROM "+s+" WHERE csat NOT BETWEEN 1 AND 5 OR nps NOT BETWEEN 0 AND 10 OR score_product_quality NOT BETWEEN 1 AND 5 OR score_delivery NOT BETWEEN 1 AND 5 OR score_support NOT BETWEEN 1 AND 5"); n != 0 {
		t.Errorf("%d answers out of scale", n)
	}
	for _, col := range []string{"csat", "nps", "score_product_quality", "score_delivery", "score_support"} {
		if n := scan[int64](t, db, "SELECT count(*) - count("+col+") FROM "+s); n == 0 {
			t.Errorf("%s has no nulls", col)
		}
	}
	avg := scan[float64](t, db, "SELECT avg(csat) FROM "+s)
	nps := scan[float64](t, db, "SELECT 100.0 * (count(*) FILTER (nps >= 9) - count(*) FILTER (nps <= 6)) / count(nps) FROM "+s)
	if avg < 3.4 || avg > 4.4 || nps < 0 || nps > 50 {
		t.Errorf("csat avg %.2f, NPS %.1f", avg, nps)
	}
	if r := scan[float64](t, db, "SELECT corr(csat, nps) FROM "+s); r < 0.5 {
		t.Errorf("corr(csat, nps) %.2f: answers should agree", r)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+s+" WHERE survey_date < TIMESTAMP '2022-01-01' OR survey_date >= TIMESTAMP '2025-01-01'"); n != 0 {
		t.Errorf("%d responses outside the data", n)
	}
}

func TestTickets(t *testing.T) {
	paths := shared(t)
	db := openDB(t)
	tk := pq(paths["tickets"])
	if n := scan[int64](t, db, "SELECT count(*) FROM "+tk+" WHERE first_response_at < opened_at OR resolved_at < first_response_at OR (resolved_at IS NOT NULL AND first_response_at IS NULL)"); n != 0 {
		t.Errorf("%d tickets with times out of order", n)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+tk+" WHERE opened_at >= TIMESTAMP '2025-01-01' OR first_response_at >= TIMESTAMP '2025-01-01' OR resolved_at >= TIMESTAMP '2025-01-01'"); n != 0 {
		t.Errorf("%d tickets with times after the end", n)
	}
	if s := scan[float64](t, db, "SELECT avg((category = 'complaint')::INT) FROM "+tk); s < 0.2 || s > 0.7 {
		t.Errorf("complaint share %.3f", s)
	}
	p50 := scan[float64](t, db, "SELECT quantile_cont(epoch(first_response_at - opened_at) / 3600.0, 0.5) FROM "+tk)
	if p50 < 1 || p50 > 12 {
		t.Errorf("first response p50 %.1f h", p50)
	}
	resolved := scan[float64](t, db, "SELECT avg((resolved_at IS NOT NULL)::INT) FROM "+tk)
	if resolved < 0.85 || resolved >= 1 {
		t.Errorf("resolution rate %.3f", resolved)
	}
}

func TestEventsSpendContracts(t *testing.T) {
	paths := shared(t)
	db := openDB(t)
	e := pq(paths["events"])
	var sent, opens, clicks, imps, engaged float64
	err := db.QueryRow(`SELECT count(*) FILTER (event_type = 'sent'), count(*) FILTER (event_type = 'open'),
			count(*) FILTER (event_type = 'click'), count(*) FILTER (event_type = 'impression'),
			count(*) FILTER (event_type IN ('like', 'comment', 'share')) FROM `+e).Scan(&sent, &opens, &clicks, &imps, &engaged)
	if err != nil {
		t.Fatal(err)
	}
	if r := opens / sent; r < 0.15 || r > 0.25 {
		t.Errorf("email open rate %.3f, want ~0.20", r)
	}
	if r := clicks / sent; r < 0.02 || r > 0.045 {
		t.Errorf("email click rate %.3f, want ~0.03", r)
	}
	if r := engaged / imps; r < 0.03 || r > 0.09 {
		t.Errorf("social engagement %.3f", r)
	}
	if n := scan[int64](t, db, `SELECT count(*) FROM `+e+` WHERE NOT (channel = 'email' AND event_type IN ('sent', 'open', 'click')
		OR channel = 'social' AND event_type IN ('impression', 'like', 'comment', 'share')) OR campaign_id IS NULL
		OR event_at < TIMESTAMP '2022-01-01' OR event_at >= TIMESTAMP '2025-01-01'`); n != 0 {
		t.Errorf("%d malformed events", n)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+e+" JOIN "+pq(paths["customers"])+" c USING (customer_id) WHERE CAST(event_at AS DATE) < c.signup_date"); n != 0 {
		t.Errorf("%d events before signup", n)
	}

	a := pq(paths["acquisition_spend"])
	if got := scan[string](t, db, "SELECT string_agg(DISTINCT channel, ',' ORDER BY channel) FROM "+a); got != "affiliate,email,referral,search,social" {
		t.Errorf("spend channels %s", got)
	}
	if n := scan[int64](t, db, "SELECT count(*) FROM "+a+" WHERE spend < 0 OR spend IS NULL OR day(month) <> 1"); n != 0 {
		t.Errorf("%d bad spend rows", n)
	}
	cac := scan[float64](t, db, `SELECT sum(spend) / (SELECT count(*) FROM `+pq(paths["customers"])+` WHERE acquisition_channel = 'search') FROM `+a+` WHERE channel = 'search'`)
	if cac < 40 || cac > 90 {
		t.Errorf("search CAC %.1f", cac)
	}

	k := pq(paths["contracts"])
	if n := scan[int64](t, db, "SELECT count(*) FROM "+k+" JOIN "+pq(paths["customers"])+" USING (customer_id) WHERE segment <> 'b2b' OR end_date <= start_date"); n != 0 {
		t.Errorf("%d contracts not b2b or empty", n)
	}
	rr := scan[float64](t, db, "SELECT avg(renewed::INT) FROM "+k+" WHERE end_date <= DATE '2025-01-01'")
	if rr < 0.6 || rr > 0.82 {
		t.Errorf("renewal rate %.3f, want ~0.7", rr)
	}
}

func hashes(t *testing.T, paths map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for kind, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out[kind] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func TestDeterminism(t *testing.T) {
	want := hashes(t, shared(t))
	again, err := Generate(context.Background(), t.TempDir(), Options{Customers: 10000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := hashes(t, again)
	other, err := Generate(context.Background(), t.TempDir(), Options{Customers: 10000, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	diff := hashes(t, other)
	for _, kind := range Kinds {
		if got[kind] != want[kind] {
			t.Errorf("%s differs between two runs with seed 1", kind)
		}
		if diff[kind] == want[kind] {
			t.Errorf("%s is the same for seeds 1 and 2", kind)
		}
	}
}

// TestThreadIndependence uses more customers than a DuckDB row group holds,
// so that work is split into batches that threads finish in any order.
func TestThreadIndependence(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 130,000 customers twice")
	}
	defer func(n int) { threads = n }(threads)
	opts := Options{Customers: 130000, Seed: 7}
	threads = 1
	one, err := Generate(context.Background(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	threads = 3
	three, err := Generate(context.Background(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	a, b := hashes(t, one), hashes(t, three)
	for _, kind := range Kinds {
		if a[kind] != b[kind] {
			t.Errorf("%s differs between 1 and 3 threads", kind)
		}
	}
}

func TestOptions(t *testing.T) {
	end := time.Date(2023, 7, 15, 0, 0, 0, 0, time.UTC)
	paths, err := Generate(context.Background(), filepath.Join(t.TempDir(), "new", "dir"), Options{Customers: 300, Seed: 3, End: end})
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	if n := scan[int64](t, db, "SELECT count(*) FROM "+pq(paths["customers"])); n != 300 {
		t.Errorf("customers = %d", n)
	}
	for kind, col := range map[string]string{"orders": "order_date", "surveys": "survey_date", "tickets": "opened_at", "events": "event_at"} {
		var lo, hi time.Time
		if err := db.QueryRow("SELECT min("+col+"), max("+col+") FROM "+pq(paths[kind])).Scan(&lo, &hi); err != nil {
			t.Fatal(err)
		}
		if lo.Before(end.AddDate(-3, 0, 0)) || !hi.Before(end) {
			t.Errorf("%s.%s spans %s..%s, want within [%s, %s)", kind, col, lo, hi, end.AddDate(-3, 0, 0), end)
		}
	}

	// tiny data sets: empty lists, no referrer for the first customer
	for _, n := range []int{1, 2, 7} {
		paths, err := Generate(context.Background(), t.TempDir(), Options{Customers: n, Seed: 5})
		if err != nil {
			t.Fatalf("%d customers: %v", n, err)
		}
		if got := scan[int64](t, db, "SELECT count(*) FROM "+pq(paths["customers"])); got != int64(n) {
			t.Errorf("%d customers: got %d", n, got)
		}
	}

	if _, err := Generate(context.Background(), t.TempDir(), Options{Customers: -1}); err == nil {
		t.Error("negative customers accepted")
	}
}

func TestContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), Options{Customers: 100}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Generate(ctx, t.TempDir(), Options{Customers: 2_000_000})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("2M customers with a 300ms deadline: got %v, want a deadline error", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s to stop after the deadline", time.Since(start))
	}
}

// BenchmarkGenerate1M is the product's benchmark size: 1,000,000 customers,
// about 9M orders. Run: go test ./engine/demo/ -run '^$' -bench Generate1M -benchtime 1x
func BenchmarkGenerate1M(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := Generate(context.Background(), dir, Options{Customers: 1_000_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerate10k(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := Generate(context.Background(), dir, Options{Customers: 10_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
