package kpi

import "time"

// ModelKind is the pseudo-dataset a fitted CLV model registers, so that
// KPIs on model scores can require it and cached answers change with a fit.
const ModelKind = "model:clv"

// Data is what the planner knows about the data of one generation: enough
// to check a query and compose its statement without asking the database.
// The engine builds one per generation and never changes it.
type Data struct {
	Generation int64
	// Datasets loaded, by kind (and ModelKind once a model is fitted).
	Datasets map[string]Dataset
	// DataEnd is the day after the latest order (zero: no orders).
	DataEnd time.Time
	// CustomerColumns are the customers table's columns, in order.
	CustomerColumns []string
	// Evaluations: the latest evaluation of each rule set.
	Evaluations map[string]Evaluation
	// ComboDimensions are the customer dimensions of fast_dim_combos,
	// FineDimensions those of fast_dim_fine, and WideDimensions those of
	// fast_dim_wide (the i-th's keys from i+1 times WideKeyFactor), when
	// the fast path's tables are current (none otherwise).
	ComboDimensions []string
	FineDimensions  []string
	WideDimensions  []string
	// WideTopOnly are the wide dimensions of the finer combinations (an
	// age) kept only for the sums no finer combinations add up to (the
	// top fifths: fineSources' whole ones), of calendar months alone.
	WideTopOnly []string
}

// Dataset is a loaded dataset as the planner sees it.
type Dataset struct {
	// Generation of the write that last changed it.
	Generation int64
	// Columns the imported files had (optional columns they lacked are not
	// listed: a KPI that needs one refuses, rather than answer nulls).
	Columns []string
	// Patterns are the column-name prefixes of the kind's pattern columns
	// (score_ for the attribute scores of surveys).
	Patterns []string
}

// Evaluation is a stored rule set evaluation: its id is bound in tier
// joins, its generation keys the cache.
type Evaluation struct {
	ID         int64
	Generation int64
	// Sums: the fast tables hold its sums per calendar period and tier
	// (engine's fast_*_tiers, keyed as TierKeyFactor says).
	Sums bool
}

func (d *Data) has(kind string) bool {
	_, ok := d.Datasets[kind]
	return ok
}
