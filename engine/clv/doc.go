// Package clv fits probabilistic customer-lifetime-value models on order
// data held in DuckDB: the BG/NBD model of purchase counts (Fader, Hardie &
// Lee 2005, "Counting Your Customers the Easy Way") and the Gamma-Gamma model
// of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma Model of
// Monetary Value").
//
// # Division of labour
//
// DuckDB does everything that scales with the number of orders or customers:
// it merges same-day purchases, builds the per-customer RFM summary and groups
// it (Summary). The likelihoods only depend on a customer through (x, t_x, T)
// for BG/NBD and (x, zbar) for Gamma-Gamma, so Go fits the models on the
// grouped rows with gonum/optimize; the cost grows with the number of distinct
// summaries, not with customers. Scoring (WriteScores) goes back to DuckDB:
// the expensive hypergeometric part of E[Y(t)|x, t_x, T] depends only on
// (x, T), so Go computes it once per distinct (x, T) and DuckDB joins it to
// every customer and finishes with closed-form arithmetic.
//
// # RFM convention (the one behind lifetimes, BTYD and Hardie's spreadsheets)
//
//   - An order counts when status is 'completed' or NULL.
//   - Orders of one customer on one calendar day (the DATE part of order_date)
//     are one transaction whose value is the sum of the amounts.
//   - The calibration period holds the days on or before CalibrationEnd; only
//     customers whose first purchase lies in it are modelled.
//   - x (frequency) = number of transaction days after the first one,
//     t_x (recency) = (last day - first day), T = (CalibrationEnd - first day),
//     both converted from days into the model unit,
//     zbar = mean value of the x repeat transactions (0 when x = 0); the first
//     purchase is excluded from zbar.
//   - The holdout count of a customer is the number of transaction days in
//     (CalibrationEnd, HoldoutEnd].
//
// # Units
//
// "day" = 1 day, "week" = 7 days, "month" = 30.4375 days (365.25/12). The
// month is a fixed length rather than a calendar month so that t_x and T stay
// exact day counts divided by a constant, as for days and weeks. lifetimes'
// freq='M' instead counts calendar-month boundaries and truncates to whole
// months; its month summaries therefore differ from ours by up to one month
// per customer, while weeks and days agree exactly. The model is the same in
// every unit (r/alpha is a rate per unit); only alpha scales with the unit.
//
// # Predictions
//
// With Gaussian hypergeometric function 2F1 and z = t/(alpha+T+t),
//
//	E[Y(t)|x,t_x,T] = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
//	                  * 2F1(r+x, b+x; a+b+x-1; z)] * P(alive|x,t_x,T)
//	P(alive|x,t_x,T) = 1 / (1 + [x>0] * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x))
//
// and E[X(t)] for a new customer is the same expression with x = t_x = T = 0.
// The bracket is evaluated after Euler's transformation
// 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z), which turns it into
// 1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): the transformed series has
// small upper parameters, cannot overflow for large x and needs few terms.
// The factor 1/(a-1) is divided out of the series analytically, so a = 1 is
// not a singularity.
//
// Gamma-Gamma: E[M|x,zbar] = p*(gamma + x*zbar)/(p*x + q - 1), which needs q > 1.
//
// # Validation
//
// With a holdout period, Validate compares each customer's holdout count with
// E[Y(holdout length)|x, t_x, T] (totals, MAE, RMSE, means by calibration
// frequency) and Tracking gives the weekly (per unit) tracking curve: period
// k is [k-1, k) units after the earliest first purchase, the actual count is
// the repeat transactions of the modelled customers in it, and the expected
// cumulative count at the end t_k of period k is Σ_i E[X(t_k - s_i)] over
// customers with first purchase s_i < t_k, as in BTYD. Customers are grouped
// by first-purchase day, so the cost does not grow with their number.
//
// # Errors
//
// Bad options and data that cannot identify a model give *InputError, whose
// Message is written for the end user. A fit that does not converge comes
// back flagged (Converged = false) with an error wrapping ErrNotConverged;
// parameters and likelihoods are checked to be finite.
//
// # Customer lifetime value
//
// Over a horizon of H months with a margin m and a monthly discount rate d,
//
//	CLV = m * E[M|x,zbar] * sum_{i=1..H} (E[Y(t_i)] - E[Y(t_{i-1})]) / (1+d)^i
//
// where t_i = i months expressed in the model unit (t_0 = 0): the expected
// purchases of month i are discounted by i months. Because
// E[Y(t)] = N(t; x, T) * P(alive), CLV = m * E[M] * P(alive) * D(x, T) with
// D(x, T) = sum_i (N(t_i) - N(t_{i-1}))/(1+d)^i; D is what Go computes per
// distinct (x, T) in WriteScores.
package clv
