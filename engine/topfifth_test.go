package engine

import (
	"database/sql"
	"slices"
	"testing"

	"custkpi/queries"
)

// The top fifth's revenue summed without sorting (topFifthRevenue, and
// the top-20% share's fast form over a window's rows) is the sum of the
// first ceil(n / 5) of the revenues sorted, as the definition has it,
// for every group size from 1 to 400 and revenues with many ties (all
// equal, three values) or few: whole numbers, so the sums are exact
// whatever their order. The fast form's rows also carry a row of nulls
// per period (fastRows), and a period with none but that row sums to 0.
func TestTopFifthWithoutSorting(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE g AS
	SELECT n AS grp, 'c' || i AS customer_id,
	       CAST((n * 7919 + i * 104729) % CASE n % 3 WHEN 0 THEN 1 WHEN 1 THEN 3 ELSE 1000 END AS DOUBLE) AS revenue
	FROM range(1, 401) t(n), LATERAL (SELECT * FROM range(n) r(i))
	UNION ALL SELECT n, NULL, NULL FROM range(1, 402) t(n)`); err != nil {
		t.Fatal(err)
	}
	form := topFifthForm(t)
	rows, err := db.Query(`SELECT grp, coalesce(list_sum(list_slice(list_sort(list(revenue) FILTER (WHERE customer_id IS NOT NULL), 'DESC'), 1, (count(customer_id) + 4) // 5)), 0),
	       ` + form + `,
	       (SELECT ` + topFifthRevenue("revenue") + ` FROM g h WHERE h.grp = g.grp AND h.customer_id IS NOT NULL)
	FROM g GROUP BY grp ORDER BY grp`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	groups := 0
	for rows.Next() {
		var grp int
		var want, fast float64
		var built sql.NullFloat64
		if err := rows.Scan(&grp, &want, &fast, &built); err != nil {
			t.Fatal(err)
		}
		groups++
		if fast != want {
			t.Errorf("%d revenues: the fast form's top fifth is %v, sorted %v", grp, fast, want)
		}
		if grp <= 400 && (!built.Valid || built.Float64 != want) {
			t.Errorf("%d revenues: topFifthRevenue is %v, sorted %v", grp, built, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if groups != 401 {
		t.Fatalf("%d groups, want 401", groups)
	}
}

// topFifthForm is the numerator of the top-20% share's fast form over
// a window's rows (fast_window).
func topFifthForm(t *testing.T) string {
	defs, err := queries.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		if d.Name != "top20_revenue_share" || d.Version != 1 {
			continue
		}
		for _, f := range d.Fast {
			if slices.Equal(f.Sources, []string{"fast_window"}) {
				return f.Numerator
			}
		}
	}
	t.Fatal("top20_revenue_share v1 has no fast form over fast_window")
	return ""
}
