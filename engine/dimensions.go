package engine

import (
	"context"

	"custkpi/kpi"
	"custkpi/queries"
)

// CustomerDimensions lists the customer columns a KPI can be grouped by:
// every customers column (extra imported ones too) but the identifiers,
// plus age_band.
func (e *Engine) CustomerDimensions(ctx context.Context) ([]string, error) {
	return kpi.CustomerDimensions(e.snap().data), nil
}

// Dimensions lists what a KPI version can be grouped by.
func (e *Engine) Dimensions(ctx context.Context, d *queries.Definition) ([]string, error) {
	return kpi.Dimensions(e.snap().data, d)
}
