package main

// sprig's float arithmetic (add1f, addf, subf, mulf, divf): shopspring/decimal on the
// shortest decimal of each float64; read by shared/src/template/decimal.rs's tests through
// cases.json.
func init() {
	handCases = append(handCases,
		tcase{"math", `{{addf 0.1 0.2}}|{{addf 1 2 3.5}}|{{addf}}|{{add1f 1.5}}|{{add1f "2.25"}}|{{subf 1 0.9}}|{{subf 5}}|{{mulf 1.1 1.1}}|{{mulf 3 "x"}}|{{divf 1 3}}|{{divf 2 3}}|{{divf -2 3}}|{{divf 10 4}}`, "default"},
		tcase{"math", `{{addf 1e300 1e-300}}|{{mulf 1e200 1e200}}|{{mulf 1e-200 1e-200}}|{{divf 1 1e-300}}|{{subf 0 0}}|{{mulf -0.0 5}}|{{divf 1e-20 3}}|{{addf 4.9e-324 4.9e-324}}`, "default"},
		tcase{"math", `{{divf 1 0}}`, "default"},
		tcase{"math", `{{addf "NaN" 1}}`, "default"},
		tcase{"math", `{{subf "Inf" 1}}`, "default"},
		tcase{"math", `{{addf .f .one true nil}}|{{mulf .f .f .f}}|{{divf .ten .neg}}|{{subf .word 1}}|{{add1f .hex}}`, "nums"},
		tcase{"math", `{{addf 0.1 0.2 | printf "%T %v"}}|{{typeOf (divf 1 2)}}`, "default"},
		tcase{"math", `{{divf 7 -2}}|{{divf -7 2}}|{{divf 0.5 3}}|{{divf -0.5 3}}|{{divf 123456789.123 7}}|{{divf 1 7 7 7}}`, "default"},
	)
	for _, f := range []string{"add1f", "addf", "subf", "mulf", "divf"} {
		handCases = append(handCases, tcase{"math", "{{" + f + " .f .two}}|{{" + f + " .neg .f}}|{{" + f + " .one .ten}}", "nums"})
	}
}
