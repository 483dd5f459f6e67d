package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Date cases: sprig's date functions on fixed instants, layouts and zones, never the
// clock (time.Local is UTC, as in the controller's container; see main).
func init() {
	layouts := []string{
		"2006-01-02", time.Layout, time.ANSIC, time.UnixDate, time.RubyDate, time.RFC822,
		time.RFC822Z, time.RFC850, time.RFC1123, time.RFC1123Z, time.RFC3339, time.RFC3339Nano,
		time.Kitchen, time.Stamp, time.StampMilli, time.StampMicro, time.StampNano,
		time.DateTime, time.TimeOnly,
		"Jan January Mon Monday 1 01 2 02 _2 __2 002 15 3 03 4 04 5 05 2006 06 PM pm MST",
		"Z0700 Z07:00 Z07 Z070000 Z07:00:00 -0700 -07:00 -07 -070000 -07:00:00",
		".0 .000 .999 ,000 ,999 .000000000 .999999999 .0000000000 .99999999999 5.0 05,9",
		"_2006 2006_ 02006 __2006 _2_ 1_2 __22 0022 00",
		"Janet Monet Mondays MSTX Jan. Mon.",
		"literal: hello, world; 7 8 9 %d {}",
		"", "PMpm", "3PM 03pm 15PM", "1.000", "05.0005", "2006.999x", ".9.0",
	}
	times := []int64{0, 1136239445, -1, 951782400, 1709251199, 4102444800, 1e9, 1234567890,
		-62135596800, -62167219200, -62198755200, 253402300799, 253402300800,
		-377705116800, 1 << 40, -(1 << 40), 1<<62 - 1, -(1 << 62), 1e15, -1e15}
	for _, l := range layouts {
		for _, t := range times {
			handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ date %q %d }}", l, t), "empty"})
		}
	}
	// Beyond the range the renderer handles (refused there).
	for _, t := range []string{"9223372036854775807", "-9223372036854775808", "4611686018427387905"} {
		handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ date \"2006-01-02\" %s }}", t), "empty"})
	}
	fixed := []string{
		`{{ date "2006-01-02 15:04:05" (int64 1136239445) }}`,
		`{{ dateInZone "2006-01-02 15:04:05 MST" 1136239445 "UTC" }}`,
		`{{ dateInZone "2006-01-02 15:04:05 MST" 1136239445 "" }}`,
		`{{ dateInZone "2006-01-02 15:04:05 MST" 1136239445 "Local" }}`,
		`{{ date_in_zone "2006-01-02 15:04:05 MST" 1136239445 "../UTC" }}`,
		`{{ dateInZone "2006-01-02 15:04:05 MST" 1136239445 "/etc/localtime" }}`,
		`{{ dateInZone "2006-01-02 15:04:05 MST" 1136239445 "\\x" }}`,
		`{{ dateInZone "2006-01-02 15:04:05 MST" 1136239445 "America/New_York" }}`,
		`{{ dateInZone "2006-01-02 15:04:05 MST" 1136239445 "Asia/Kolkata" }}`,
		`{{ htmlDate 1136239445 }}|{{ htmlDate (int64 -1) }}|{{ htmlDateInZone 0 "UTC" }}`,
		`{{ htmlDateInZone 0 "a/../b" }}`,
		`{{ dateInZone "2006" 0 }}`,
		`{{ date "2006" }}`,
		`{{ date 2006 0 }}`,
		`{{ dateInZone "2006" 0 1 }}`,
		`{{ toDate "2006-01-02" "2020-03-04" | date "Monday 2 January 2006 15:04:05.000000000" }}`,
		`{{ toDate "2006-01-02T15:04:05Z07:00" "2020-03-04T05:06:07+05:30" | date "2006-01-02 15:04:05 MST -0700" }}`,
		`{{ toDate "2006-01-02T15:04:05Z07:00" "2020-03-04T05:06:07-08:00" | dateInZone "2006-01-02 15:04:05 MST" "UTC" }}`,
		`{{ toDate "2006-01-02" "2020-03-04" | htmlDate }}|{{ toDate "2006-01-02" "2020-03-04" | htmlDateInZone "UTC" }}`,
		// Printing a time.
		`{{ toDate "2006-01-02" "2020-03-04" }}`,
		`{{ $t := toDate "2006-01-02 15:04:05.000" "2020-03-04 05:06:07.890" }}{{ $t }}|{{ print $t }}|{{ println $t }}|{{ printf "%v|%s|%q|%x|%X|%30s|%-30v|%.4s" $t $t $t $t $t $t $t $t }}`,
		`{{ printf "%T" (toDate "2006" "2020") }}|{{ typeOf (toDate "2006" "2020") }}|{{ kindOf (toDate "2006" "2020") }}|{{ typeIs "time.Time" (toDate "2006" "2020") }}|{{ kindIs "struct" (toDate "2006" "2020") }}|{{ typeIsLike "time.Time" (toDate "2006" "2020") }}`,
		`{{ toString (toDate "2006" "2020") }}|{{ quote (toDate "2006" "2020") }}|{{ squote (toDate "2006" "2020") }}|{{ cat (toDate "2006" "2020") "x" }}`,
		`{{ toDate "2006" "2020" | html }}|{{ toDate "2006" "2020" | js }}|{{ toDate "2006" "2020" | urlquery }}`,
		`{{ if toDate "2006" "2020" }}yes{{ end }}|{{ not (toDate "2006" "2020") }}|{{ len (toDate "2006" "2020") }}`,
		`{{ printf "%d" (toDate "2006" "2020") }}`,
		`{{ list (toDate "2006" "2020") }}`,
		`{{ toJson (toDate "2006" "2020") }}`,
		`{{ (toDate "2006" "2020").Year }}`,
		`{{ eq (toDate "2006" "2020") (toDate "2006" "2020") }}`,
		`{{ eq (toDate "2006" "2020") "2020" }}`,
		`{{ lt (toDate "2006" "2020") (toDate "2006" "2021") }}`,
		`{{ range toDate "2006" "2020" }}x{{ end }}`,
		`{{ eq (toDate "2006" "2020") nil }}`,
		`{{ ne (toDate "2006" "2020") 1 }}`,
		`{{ le (toDate "2006" "2020") 1 }}`,
		`{{ index (toDate "2006" "2020") 0 }}`,
		`{{ index (list 1) (toDate "2006" "2020") }}`,
		`{{ index . (toDate "2006" "2020") }}`,
		`{{ call (toDate "2006" "2020") }}`,
		`{{ with toDate "2006" "2020" }}{{ . }}{{ end }}`,
		`{{ $t := toDate "2006" "2020" }}{{ if $t }}{{ $t | date "2006" }}{{ end }}`,
		`{{ and (toDate "2006" "2020") 1 }}|{{ or (toDate "2006" "2020") 1 }}`,
		`{{ $t := toDate "2006" "2020" }}{{ printf "%s|%v|%+v|%10.4s|%-8q|%+q|%08s" $t $t $t $t $t $t $t }}`,
		`{{ toDate "2006" "2020" | upper }}`,
		// toDate's zero time, and its type errors.
		`{{ toDate "2006-01-02" "not a date" }}`,
		`{{ toDate "2006-01-02" "not a date" | unixEpoch }}`,
		`{{ toDate 2006 "2020" }}`,
		`{{ toDate "2006" }}`,
		`{{ mustToDate "2006-01-02" "2020-13-01" }}`,
		// unixEpoch.
		`{{ toDate "2006-01-02" "2020-03-04" | unixEpoch }}|{{ toDate "2006-01-02" "1900-03-04" | unixEpoch }}`,
		`{{ toDate "2006-01-02" "2020-03-04" | dateModify "-1ns" | unixEpoch }}`,
		`{{ unixEpoch 0 }}`,
		`{{ unixEpoch "2020" }}`,
		`{{ unixEpoch nil }}`,
		`{{ dateModify "1h" "2020" }}`,
		`{{ dateModify "1h" 0 }}`,
		`{{ dateModify 1 (toDate "2006" "2020") }}`,
		`{{ mustDateModify "1h" nil }}`,
	}
	for _, c := range fixed {
		handCases = append(handCases, tcase{"date", c, "default"})
	}

	parses := [][2]string{
		{"2006-01-02", "2020-01-01"}, {"2006-01-02", "2020-02-29"}, {"2006-01-02", "2021-02-29"},
		{"2006-01-02", "2020-1-02"}, {"2006-1-2", "2020-1-2"}, {"2006-1-2", "2020-12-31"},
		{"2006-01-02", "2020-01-01 "}, {"2006-01-02", " 2020-01-01"}, {"2006-01-02", "0000-01-01"},
		{"2006-01-02", "9999-12-31"}, {"2006-01-02", "20-01-01"}, {"2006-01-02", "+020-01-01"},
		{"2006", "12-3"}, {"2006", "1234"}, {"06", "69"}, {"06", "68"}, {"06", "-1"}, {"06", "+5"},
		{"06", "7"}, {"", ""}, {"", "x"}, {"x", ""}, {"abc", "abc"}, {"a  b", "a b"},
		{"a b", "a      b"}, {"a b", "ab"}, {"a ", "a"},
		{time.RFC3339, "2020-01-01T10:00:00Z"}, {time.RFC3339, "2020-01-01T10:00:00+01:00"},
		{time.RFC3339, "2020-01-01T10:00:00-00:00"}, {time.RFC3339, "2020-01-01T10:00:00.5+05:30"},
		{time.RFC3339, "2020-01-01T24:00:00Z"}, {time.RFC3339, "2020-01-01T10:00:00+24:00"},
		{time.RFC3339, "2020-01-01T10:00:00+23:59"}, {time.RFC3339, "2020-01-01T10:00:00.123456789123Z"},
		{time.RFC3339, "2020-01-01t10:00:00z"}, {time.RFC3339Nano, "2020-01-01T10:00:00.000000001Z"},
		{time.RFC3339Nano, "2020-01-01T10:00:00Z"}, {time.RFC3339, "2020-01-01T10:00:00,5Z"},
		{"2006-01-02 15:04:05 -0700 MST", "2020-06-01 12:00:00 +0200 CEST"},
		{"2006-01-02 15:04:05 -0700 MST", "2020-06-01 12:00:00 +0000 UTC"},
		{"2006-01-02 15:04:05 -0700 MST", "2020-06-01 12:00:00 +0000 GMT"},
		{"2006-01-02 15:04:05 -0700 MST", "2020-06-01 12:00:00 -0000 XYZ"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 EST"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 GMT+3"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 GMT-11"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 GMT+24"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 GMT"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 UTC"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 ChST"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 WITA"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 ABCDT"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 ABCDE"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 AB"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 +05"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 -23"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 -24"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 ABCDEFG"}, {"2006-01-02 15:04 MST", "2020-06-01 12:00 ESTX"},
		{"2006-01-02 15:04 MST", "2020-06-01 12:00 UTCX"}, {"MST 2006", "PDT 2020"}, {"MST", "GMT+1x"},
		{time.RFC1123, "Mon, 02 Jan 2006 15:04:05 MST"}, {time.RFC1123, "mon, 02 jan 2006 15:04:05 PST"},
		{time.RFC1123, "Fri, 02 Jan 2006 15:04:05 MST"}, {time.RFC850, "Monday, 02-Jan-06 15:04:05 MST"},
		{time.RFC850, "MONDAY, 02-JANUARY-06 15:04:05 MST"}, {time.ANSIC, "Mon Jan  2 15:04:05 2006"},
		{time.ANSIC, "Mon Jan 2 15:04:05 2006"}, {time.ANSIC, "Mon Jan 12 15:04:05 2006"},
		{"January 2", "june 9"}, {"Jan 2", "Sept 9"}, {"Jan 2", "Sep 9"},
		{"2006 002", "2020 060"}, {"2006 002", "2021 060"}, {"2006 002", "2020 366"},
		{"2006 002", "2021 366"}, {"2006 002", "2020 000"}, {"2006 002", "2020 60"},
		{"2006 __2", "2020   5"}, {"2006 __2", "2020  45"}, {"2006 __2", "2020 5"},
		{"2006-01 002", "2020-03 060"}, {"2006-01 002", "2020-02 060"}, {"2006-01-02 002", "2020-02-29 060"},
		{"2006-01-02 002", "2020-02-28 060"}, {"002 2006", "060 2020"},
		{"3:04PM", "12:30AM"}, {"3:04PM", "12:30PM"}, {"3:04PM", "13:00PM"}, {"3:04PM", "0:00AM"},
		{"3:04PM", "1:00XM"}, {"3:04pm", "1:00pm"}, {"3:04pm", "1:00PM"}, {"03:04PM", "1:00PM"},
		{"15:04", "24:00"}, {"15:04", "23:60"}, {"15:04", "9:5"}, {"15:04:05", "10:11:12.123"},
		{"15:04:05", "10:11:12,123"}, {"15:04:05", "10:11:60"}, {"15:04:05", "10:11:12."},
		{"15:04:05.000", "10:11:12.123"}, {"15:04:05.000", "10:11:12.12"}, {"15:04:05.000", "10:11:12.1234"},
		{"15:04:05.999", "10:11:12"}, {"15:04:05.999", "10:11:12.5"}, {"15:04:05.999", "10:11:12.123456789999"},
		{"15:04:05.000", "10:11:12.+12"}, {"15:04:05.000", "10:11:12.-12"}, {"15:04:05,000", "10:11:12.123"},
		{"15:04:05 .000", "10:11:12 .123"}, {"05.000000000000", "01.123456789012"},
		{"Z07:00:00", "+01:00:30"}, {"Z07:00:00", "-01:00:30"}, {"-07:00:00", "Z"}, {"Z07:00", "Z"},
		{"Z0700", "Z"}, {"Z07", "Z"}, {"Z070000", "Z"}, {"-0700", "+2500"}, {"-0700", "+0060"},
		{"-0700", "+0061"}, {"-0700", "-0000"}, {"-0700", "+0000"}, {"-0700", "*0100"}, {"-0700", "+01"},
		{"-07", "+01"}, {"-07", "-12"}, {"-070000", "+010203"}, {"-070000", "-000030"}, {"-07:00", "+01-00"},
		{"-07:00", "+1:00"}, {"Z07", "x05"}, {"-07:00:00", "+01:02:61"}, {"2006 -0700", "2020 +0130"},
		{"Monday", "Mon"}, {"Mon", "Monday"}, {"Mon 2006", "Monday 2006"}, {"01/02", "13/01"}, {"01/02", "00/01"},
		{"01/02", "02/30"}, {"1/2", "2/3"}, {"02", "31"}, {"2", "32"}, {"_2", " 3"}, {"_2", "3"}, {"_2", "  3"},
		{"Jan _2", "Feb  3"}, {"-070000", "-000001"}, {"Z070000 1", "-000001 2"}, {"-070000 MST", "-000001 EST"}, {"2006-01-02", "2020-01-01é"}, {"2006-01-02", "2020-01-01\x00"},
	}
	for _, p := range parses {
		handCases = append(handCases,
			tcase{"date", fmt.Sprintf("{{ toDate %q %q }}", p[0], p[1]), "empty"},
			tcase{"date", fmt.Sprintf("{{ mustToDate %q %q }}", p[0], p[1]), "empty"})
	}

	durations := []string{"0", "1", "59", "60", "61", "3599", "3600", "3661", "86400", "-1", "-3661",
		"99999999999", "9223372036", "9223372037", "9223372036854775807", "-9223372036854775808",
		"99999999999999999999", "-99999999999999999999", "abc", "+5", " 5", "5 ", "", "1_000", "0x10", "1.5"}
	for _, d := range durations {
		handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ duration %q }}", d), "empty"})
		if n, err := strconv.ParseInt(d, 10, 64); err == nil {
			handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ duration (int64 %d) }}", n), "empty"})
		}
	}
	for _, c := range []string{`{{ duration 60 }}`, `{{ duration 1.5 }}`, `{{ duration nil }}`, `{{ duration (toDate "2006" "2020") }}`, `{{ duration true }}`} {
		handCases = append(handCases, tcase{"date", c, "empty"})
	}
	rounds := []string{"0", "", "x", "1ns", "1s", "1.5s", "2s", "59s", "61s", "1h", "1h1ns", "90m", "24h",
		"24h1ns", "48h", "720h", "720h1ns", "721h", "8760h", "8760h1ns", "87600h", "-3h", "-8761h",
		"2562047h47m16.854775807s", "-2562047h47m16.854775808s", "1e3s", "5d"}
	for _, d := range rounds {
		handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ durationRound %q }}", d), "empty"})
	}
	for _, c := range []string{`{{ durationRound 3600 }}`, `{{ durationRound (int64 3600000000001) }}`,
		`{{ durationRound (int64 -9223372036854775808) }}`, `{{ durationRound nil }}`, `{{ durationRound 1.5 }}`} {
		handCases = append(handCases, tcase{"date", c, "empty"})
	}
	modifies := []string{"1h", "-24h", "1.5h", "1h30m", "90m", "1µs", "1μs", "1us", "300ms", "1ns", "-1ns",
		"bad", "", "0", "-0", "+0", ".5s", "5.s", ".s", "1e3s", "1", "1h 1m", "1H", "1.0000000000000000001s",
		"0.1ns", "100000000000000000000ns", "9223372036854775807ns", "9223372036854775808ns",
		"-9223372036854775808ns", "2562047h", "2562048h", "1.999999999999999999999s", "00001s", "1m1m",
		"3.14159265358979323846264338327950288h", "18446744073709551615ns",
		"9223372036854775808ns9223372036854775808ns", "-9223372036854775808ns9223372036854775808ns", "9223372036854775808ns1ns"}
	for _, m := range modifies {
		handCases = append(handCases,
			tcase{"date", fmt.Sprintf("{{ toDate \"2006-01-02 15:04:05\" \"2020-03-04 05:06:07\" | dateModify %q }}", m), "empty"},
			tcase{"date", fmt.Sprintf("{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2020-03-04T05:06:07+05:30\" | date_modify %q }}", m), "empty"},
			tcase{"date", fmt.Sprintf("{{ toDate \"2006-01-02 15:04:05\" \"2020-03-04 05:06:07\" | mustDateModify %q }}", m), "empty"},
			tcase{"date", fmt.Sprintf("{{ toDate \"2006-01-02 15:04:05\" \"2020-03-04 05:06:07\" | must_date_modify %q | unixEpoch }}", m), "empty"})
	}
	// Durations and times at their ranges' ends.
	for _, c := range []string{
		`{{ toDate "2006" "0000" | dateModify "-2562047h" }}`,
		`{{ toDate "2006" "9999" | dateModify "2562047h" | date "2006-01-02 15:04:05.999999999" }}`,
		`{{ toDate "2006" "0000" | dateModify "-1ns" | date "2006-01-02 15:04:05.999999999 002 Mon" }}`,
		`{{ toDate "2006" "0000" | dateModify "-1ns" }}`,
		`{{ toDate "2006" "9999" | dateModify "8784h" }}`,
	} {
		handCases = append(handCases, tcase{"date", c, "empty"})
	}
}

// Pseudo-random date cases (fixed seed): layouts built from Go's elements, values that
// Go formatted with them in fixed zones, some altered, for toDate; and duration strings.
func init() {
	r := rand.New(rand.NewPCG(2026, 12))
	tokens := []string{"2006", "06", "01", "1", "Jan", "January", "02", "2", "_2", "__2", "002",
		"15", "03", "3", "04", "4", "05", "5", "PM", "pm", "MST", "Z07:00", "Z0700", "Z07", "-0700",
		"-07:00", "-07", "-07:00:00", ".000", ".999", ",000", ".0", " ", " ", "-", ":", "T", "x",
		"Mon", "Monday", "/", "."}
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -5*3600-1800),
		time.FixedZone("EST", -5*3600), time.FixedZone("CEST", 2*3600), time.FixedZone("GMT+3", 3*3600),
		time.FixedZone("", 45), time.FixedZone("", -30), time.FixedZone("ChST", 10*3600)}
	for i := 0; i < 600; i++ {
		var layout string
		for n := 1 + r.IntN(7); n > 0; n-- {
			layout += tokens[r.IntN(len(tokens))]
		}
		t := time.Unix(r.Int64N(5e9)-1e9, r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		value := []byte(t.Format(layout))
		switch r.IntN(4) {
		case 0:
			if len(value) > 0 {
				j := r.IntN(len(value))
				value = append(value[:j], value[j+1:]...)
			}
		case 1:
			if len(value) > 0 {
				value[r.IntN(len(value))] = "0123456789 +-:.AMPZ"[r.IntN(19)]
			}
		}
		f := "toDate"
		if i%3 == 0 {
			f = "mustToDate"
		}
		handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ %s %q %q }}", f, layout, value), "empty"})
	}
	parts := []string{"0", "1", "9", "12", "000", "99999999999", ".", ".5", "ns", "us", "µs", "ms",
		"s", "m", "h", "x", "-", "+", "2562047", "854775807", " "}
	for i := 0; i < 300; i++ {
		var d string
		for n := 1 + r.IntN(5); n > 0; n-- {
			d += parts[r.IntN(len(parts))]
		}
		f := "dateModify"
		if i%2 == 0 {
			f = "mustDateModify"
		}
		handCases = append(handCases,
			tcase{"date", fmt.Sprintf("{{ toDate \"2006-01-02 15:04:05.000\" \"2020-03-04 05:06:07.890\" | %s %q }}", f, d), "empty"},
			tcase{"date", fmt.Sprintf("{{ durationRound %q }}|{{ duration %q }}", d, d), "empty"})
	}
}

// IANA zones (Go's, from the system's tz database or its own), at instants from 1970 to
// 2099 and a few outside, where the renderer refuses them.
func init() {
	r := rand.New(rand.NewPCG(1970, 2099))
	zones := []string{"America/New_York", "Europe/London", "Europe/Dublin", "Asia/Kolkata",
		"Asia/Kathmandu", "Australia/Lord_Howe", "Asia/Dubai", "America/Sao_Paulo",
		"Pacific/Chatham", "America/St_Johns", "Europe/Moscow", "Asia/Tokyo",
		"US/Eastern", "EST", "EST5EDT", "Etc/GMT+5", "Etc/GMT-14", "GMT", "Antarctica/Troll",
		"America/Argentina/Buenos_Aires", "Pacific/Kiritimati", "Africa/Monrovia", "Europe/Lisbon",
		"America/Mexico_City", "Europe/Kyiv", "Europe/Kiev",
		"Europe/Paris", "Australia/Sydney", "America/Los_Angeles", "Asia/Shanghai", "Etc/UTC",
		"Asia/Gaza", "Asia/Hebron", "America/Asuncion", "America/Nuuk", "Asia/Almaty",
		"America/Ciudad_Juarez", "Africa/Cairo", "Pacific/Apia", "Asia/Pyongyang", "Europe/Volgograd"}
	// Names the renderer refuses: not in its database as spelt (Go's lookup is by file
	// name), whose rules differ between tz database versions, or instants out of its range.
	for _, z := range []string{"america/new_york", "Nowhere/Zone", "Europe/Paris/", "Europe//Paris",
		"posixrules", "Africa/Casablanca", "America/Vancouver", "America/Havana", "Asia/Tehran"} {
		handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ dateInZone \"15:04 MST\" 1136239445 %q }}", z), "empty"})
	}
	for _, t := range []int64{-1, 4102444800, -1e12, 1e12} {
		handCases = append(handCases, tcase{"date", fmt.Sprintf("{{ dateInZone \"2006-01-02 15:04 MST\" %d \"Europe/Paris\" }}", t), "empty"})
	}
	instants := []int64{0, 1, 4102444799, 1136239445, 1710054000, 1710054001,
		1710053999, 1730613600, 1730613599, 1698541200, 1698537600, 2147483647, 2147483648}
	for _, z := range zones {
		list := append([]int64{}, instants...)
		for i := 0; i < 12; i++ {
			list = append(list, r.Int64N(4102444800))
		}
		for _, t := range list {
			handCases = append(handCases, tcase{"date",
				fmt.Sprintf("{{ dateInZone \"2006-01-02 15:04:05 MST -07:00:00 Z07 Mon 002\" %d %q }}", t, z), "empty"})
		}
		handCases = append(handCases,
			tcase{"date", fmt.Sprintf("{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2021-07-01T12:00:00.5+02:00\" | htmlDateInZone %q }}", z), "empty"},
			tcase{"date", fmt.Sprintf("{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2021-07-01T12:00:00.5+02:00\" | dateInZone \"15:04:05.000 MST\" %q }}", z), "empty"})
	}
}
