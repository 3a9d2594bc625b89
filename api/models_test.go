package api

import "testing"

func TestCLVEndpointsRefuseBadInput(t *testing.T) {
	srv, _ := newTestServer(t)
	if status, body := do(t, "GET", srv.URL+"/v1/models/clv", ""); status != 404 || body["error"].(map[string]any)["code"] != "not_found" {
		t.Errorf("no fit yet: %d %v", status, body)
	}
	for body, param := range map[string]string{
		`{"calibration_end": "2024-04-01", "unit": "fortnight"}`: "unit",
		`{"calibration_end": "2020-01-01"}`:                      "calibration_end",
		`{"calibration_end": "April"}`:                           "calibration_end",
	} {
		status, resp := do(t, "POST", srv.URL+"/v1/models/clv/fit", body)
		e, _ := resp["error"].(map[string]any)
		if status != 400 || e["details"].(map[string]any)["parameter"] != param {
			t.Errorf("%s: %d %v", body, status, resp)
		}
	}
	// Six customers, two of them repeat buyers: too few to fit, and said so.
	status, resp := do(t, "POST", srv.URL+"/v1/models/clv/fit", `{"calibration_end": "2024-04-01"}`)
	if status != 400 || resp["error"].(map[string]any)["code"] != "invalid_model_input" {
		t.Errorf("too few repeat buyers: %d %v", status, resp)
	}
	if status, _ := do(t, "POST", srv.URL+"/v1/models/clv/fit", `{"calibration_end": "2024-04-01", "colour": 1}`); status != 400 {
		t.Errorf("unknown field: %d", status)
	}
}

func TestCLVFitRefusesBadModelOptions(t *testing.T) {
	srv, _ := newTestServer(t)
	for body, param := range map[string]string{
		`{"calibration_end": "2024-04-01", "model": "weibull"}`:                              "model",
		`{"calibration_end": "2024-04-01", "model": "bgbb"}`:                                 "period_days",
		`{"calibration_end": "2024-04-01", "model": "bgbb", "period_days": 7}`:               "periods",
		`{"calibration_end": "2024-04-01", "model": "pareto_nbd", "periods": 3}`:             "period_days",
		`{"calibration_end": "2024-04-01", "model": "bgbb", "period_days": 0, "periods": 4}`: "period_days",
	} {
		status, resp := do(t, "POST", srv.URL+"/v1/models/clv/fit", body)
		e, _ := resp["error"].(map[string]any)
		d, _ := e["details"].(map[string]any)
		if status != 400 || e["code"] != "invalid_model_input" || d["parameter"] != param {
			t.Errorf("%s: %d %v", body, status, resp)
		}
	}
}
