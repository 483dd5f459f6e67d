package main

import "fmt"

// More item sets: lists of values the enumerations run over.
func init() {
	dataSets["nums"] = map[string]string{"one": "1", "two": "2", "ten": "10", "neg": "-3", "f": "2.5", "hex": "0x1F", "oct": "017", "zero": "0", "word": "abc"}
	dataSets["yaml"] = map[string]string{
		"user":     "admin",
		"password": "s3cr3t",
		"host":     "db.example.com",
		"port":     "5432",
		"json":     `{"a":1,"b":[true,null,"x"],"c":{"d":2.5}}`,
		"csv":      "a,b,,c",
	}
}

// namedCases run under a template name other than "value".
var namedCases = []ncase{
	{"template", `{{define "k"}}defined{{end}}`, "default", "k"},
	{"template", `{{define "k"}}defined{{end}}body`, "default", "k"},
	{"template", `{{define "other"}}x{{end}}{{template "other"}}`, "default", "k"},
	{"template", `{{if .}}{{template "k" 0}}{{else}}end{{end}}`, "small", "k"},
	{"template", `{{define "k"}}a{{end}}{{define "k"}}b{{end}}`, "default", "k"},
}

// handCases: written for each construct and function.
var handCases = []tcase{
	// if / else / else if / with / range.
	{"control", `{{if .a}}yes{{end}}`, "default"},
	{"control", `{{if .missing}}yes{{else}}no{{end}}`, "default"},
	{"control", `{{if .empty}}1{{else if .a}}2{{else}}3{{end}}`, "default"},
	{"control", `{{if .missing}}1{{else if .empty}}2{{else if eq .a "x"}}3{{else}}4{{end}}`, "default"},
	{"control", `{{with .a}}[{{.}}]{{end}}|{{with .missing}}x{{else}}none{{end}}`, "default"},
	{"control", `{{with .missing}}1{{else with .a}}2:{{.}}{{else}}3{{end}}`, "default"},
	{"control", `{{with $x := .a}}{{$x}}{{.}}{{end}}`, "default"},
	{"control", `{{range .}}<{{.}}>{{end}}`, "small"},
	{"control", `{{range $k, $v := .}}{{$k}}={{$v}};{{end}}`, "small"},
	{"control", `{{range $v := .}}{{$v}}{{end}}`, "small"},
	{"control", `{{range .}}x{{else}}empty{{end}}`, "empty"},
	{"control", `{{range 3}}{{.}}{{end}}|{{range $i := 4}}{{$i}}{{end}}|{{range 0}}x{{else}}none{{end}}`, "default"},
	{"control", `{{range $i, $v := list "a" "b" "c"}}{{$i}}{{$v}}{{end}}`, "default"},
	{"control", `{{range list 1 2 3 4 5}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}`, "default"},
	{"control", `{{range $i, $e := until 3}}{{range $j, $f := until 2}}{{$i}}{{$j}} {{end}}{{end}}`, "default"},
	{"control", `{{range $k, $v := dict "b" 2 "a" 1 "c" 3}}{{$k}}{{$v}}{{end}}`, "default"},
	{"control", `{{range $k, $v := split "," "x,y,z"}}{{$k}}={{$v}} {{end}}`, "default"},
	{"control", `{{range $.a}}x{{end}}`, "default"},
	{"control", `{{range 2.5}}x{{end}}`, "default"},
	{"control", `{{range $i, $v := 3}}x{{end}}`, "default"},
	{"control", `{{range nil}}x{{else}}nil{{end}}`, "default"},
	{"control", `{{- range $k, $v := . }}
{{ $k }}: {{ $v | quote }}
{{- end }}`, "small"},
	{"control", `{{if and .a .b}}both{{end}}{{if or .missing .b}}either{{end}}{{if not .missing}}neither{{end}}`, "default"},
	// Variables and scope.
	{"vars", `{{$x := "a"}}{{$x}}{{$x = "b"}}{{$x}}`, "default"},
	{"vars", `{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{$y}}{{end}}{{$x}}`, "default"},
	{"vars", `{{$x := 1}}{{range list 1 2}}{{$x = .}}{{end}}{{$x}}`, "default"},
	{"vars", `{{$x := 1}}{{with $x := 2}}{{$x}}{{end}}{{$x}}`, "default"},
	{"vars", `{{range $i, $v := list 1 2}}{{end}}{{$i}}`, "default"},
	{"vars", `{{if true}}{{$y := 1}}{{end}}{{$y}}`, "default"},
	{"vars", `{{$y = 1}}`, "default"},
	{"vars", `{{ $ }}|{{ $.a }}|{{ with .a }}{{ $.b }}{{ end }}`, "default"},
	{"vars", `{{$d := dict "a" 1}}{{$_ := set $d "b" 2}}{{$d}}`, "default"},
	{"vars", `{{$d := dict "a" (dict "b" "c")}}{{$d.a.b}}|{{$d.a.x}}|{{$d.x.y}}`, "default"},
	{"vars", `{{$d := dict "a" nil}}{{$d.a}}|{{print $d.a}}`, "default"},
	{"vars", `{{$d := dict "a" nil}}{{$d.a.b}}`, "default"},
	{"vars", `{{$x := .a | upper}}{{$x}}{{$x | lower}}`, "default"},
	{"vars", `{{$l := list}}{{range until 5}}{{$l = append $l .}}{{end}}{{$l}}`, "default"},
	{"vars", `{{ $a, $b := 1, 2 }}`, "default"},
	// define / template / block.
	{"template", `{{define "T"}}[{{.}}]{{end}}{{template "T" "x"}}{{template "T" .a}}{{template "T"}}`, "default"},
	{"template", `{{define "T"}}{{$}}{{end}}{{template "T" 5}}`, "default"},
	{"template", `{{block "B" .a}}<{{.}}>{{end}}`, "default"},
	{"template", `{{define "B"}}override{{end}}{{block "B" .a}}<{{.}}>{{end}}`, "default"},
	{"template", `{{template "nope"}}`, "default"},
	{"template", `{{define "rec"}}{{if .}}{{len .}}{{template "rec" (rest .)}}{{end}}{{end}}{{template "rec" (list 1 2 3)}}`, "default"},
	{"template", `{{define "T"}}{{$x}}{{end}}{{$x := 1}}{{template "T"}}`, "default"},
	{"template", `{{define "T"}}{{break}}{{end}}`, "default"},
	{"template", `{{if true}}{{define "T"}}{{end}}{{end}}`, "default"},
	// Comparisons.
	{"compare", `{{eq 1 1}}{{eq 1 2}}{{eq "a" "a"}}{{eq .a "x"}}{{eq 1 2 3 1}}{{ne 1 2}}`, "default"},
	{"compare", `{{lt 1 2}}{{le 2 2}}{{gt "b" "a"}}{{ge 1.5 2.5}}{{lt (len .a) 5}}`, "default"},
	{"compare", `{{eq 1 "a"}}`, "default"},
	{"compare", `{{lt true false}}`, "default"},
	{"compare", `{{eq .missing nil}}{{eq nil .missing}}{{eq .a nil}}`, "default"},
	{"compare", `{{lt nil 1}}`, "default"},
	{"compare", `{{eq (list 1) (list 1)}}`, "default"},
	{"compare", `{{eq 1}}`, "default"},
	{"compare", `{{eq (index "a" 0) 97}}{{lt (index "a" 0) 98}}{{eq (add 1 1) 2}}`, "default"},
	{"compare", `{{eq 1.0 1}}`, "default"},
	{"compare", `{{and 1 0 "x"}}|{{or 0 "" "y"}}|{{and}}`, "default"},
	{"compare", `{{and 1 "a"}}|{{or 0 ""}}|{{not 0}}|{{"x" | and 1}}|{{0 | or ""}}`, "default"},
	{"compare", `{{or 1 (fail "not evaluated")}}{{and 0 (fail "not evaluated")}}`, "default"},
	// Builtins.
	{"builtins", `{{html "<a href='x'>&\"</a>\x00"}}|{{html 1 2 "a"}}`, "default"},
	{"builtins", `{{js "a'b\"c<d>&=\\ é\u2028\x01"}}`, "default"},
	{"builtins", `{{urlquery "a b&c=d/é~"}}|{{urlquery 1 "x"}}`, "default"},
	{"builtins", `{{slice "hello" 1 3}}|{{slice "hello" 2}}|{{slice (list 1 2 3 4) 1 3}}|{{slice (list 1 2 3) 0 1 2}}`, "default"},
	{"builtins", `{{slice "abc" 2 1}}`, "default"},
	{"builtins", `{{slice "abc" 0 9}}`, "default"},
	{"builtins", `{{index (list 1 2 3) 1}}|{{index (list (list 1 2) (list 3 4)) 1 0}}|{{index (dict "a" 1) "a"}}|{{index (dict "a" 1) "b"}}`, "default"},
	{"builtins", `{{index (list 1 2) 5}}`, "default"},
	{"builtins", `{{index (list 1 2) -1}}`, "default"},
	{"builtins", `{{len (list 1 2)}}{{len (dict)}}{{len (dict "a" 1)}}`, "default"},
	{"builtins", `{{call .a}}`, "default"},
	{"builtins", `{{call nil}}`, "default"},
	{"builtins", `{{print 1 2 "a" "b" 3 nil 1.5 true (list 1 "x") (dict "k" "v")}}`, "default"},
	{"builtins", `{{println}}|{{println 1 "a"}}|{{print}}`, "default"},
	// Numbers and floats.
	{"numbers", `{{1.5}}|{{1e3}}|{{1.0}}|{{0x10}}|{{'a'}}|{{'\n'}}|{{1_000}}|{{-2.5e-3}}|{{1e21}}|{{1e20}}|{{123456789.0}}|{{0.000001}}|{{0.0000001}}`, "default"},
	{"numbers", `{{printf "%v %.2f %e %g %8.3f %-8.2f| %05d %+d %x %.3s %5.1q" 3.14159 3.14159 314.159 0.000012345 2.5 2.5 42 7 255 "abcdef" "xyz"}}`, "default"},
	{"numbers", `{{printf "%.0f %.1f %.3g %g %G %E %v %v" 2.5 0.05 1234.5678 100000.0 1e-7 1234.5 1e6 1e-5}}`, "default"},
	{"numbers", `{{repeat 2.0 "x"}}`, "default"},
	{"numbers", `{{repeat 2.5 "x"}}`, "default"},
	{"numbers", `{{99999999999999999999}}`, "default"},
	{"numbers", `{{18446744073709551615}}`, "default"},
	{"numbers", `{{'ab'}}`, "default"},
	{"numbers", `{{1+2i}}`, "default"},
	// sprig strings.
	{"strings", `{{abbrev 5 "hello world"}}|{{abbrev 3 "hello"}}|{{abbrev 20 "short"}}|{{abbrevboth 5 10 "1234 5678 9123"}}|{{abbrevboth 0 10 "1234 5678 9123"}}`, "default"},
	{"strings", `{{untitle "Hello World"}}|{{initials "first try  here"}}|{{initials ""}}`, "default"},
	{"strings", `{{wrap 5 "Hello World and more"}}|{{wrap 3 "abcdefgh ij"}}|{{wrapWith 5 "\t" "Hello World"}}|{{wrapWith 3 "-" "abcdefgh"}}`, "default"},
	{"strings", `{{plural "one" "many" 1}}|{{plural "one" "many" 2}}|{{plural "one" "many" 0}}`, "default"},
	{"strings", `{{swapcase "Hello World aBC"}}|{{camelcase "http_server"}}|{{camelcase "foo-bar baz"}}|{{camelcase "_a__b"}}|{{camelcase "HTTPServer"}}`, "default"},
	{"strings", `{{sha1sum "abc"}}|{{sha512sum "abc"}}|{{adler32sum "Wikipedia"}}|{{sha1sum .bin}}`, "default"},
	{"strings", `{{b32enc "hello"}}|{{b32enc ""}}|{{b32enc "a"}}|{{b32dec "NBSWY3DP"}}|{{b32dec "ME======"}}|{{b32dec "bad"}}|{{b32dec "ME====="}}`, "default"},
	{"strings", `{{hello}}|{{trimAll "$" "$$5.00$"}}|{{"x" | repeat 3}}`, "default"},
	{"strings", `{{split "," "a,b,,c"}}|{{splitList "," "a,b,,c"}}|{{splitn "," 2 "a,b,c"}}|{{splitList "" "abc"}}|{{(split "$" "foo$bar").`+"_1"+`}}`, "default"},
	{"strings", `{{join "-" (list 1 "a" nil 2.5)}}|{{join "," (splitList "." "a.b.c")}}|{{toStrings (list 1 "a" nil)}}|{{join "" "abc"}}`, "default"},
	{"strings", `{{sortAlpha (list "b" "a" 3 "C")}}|{{sortAlpha "x"}}`, "default"},
	{"strings", `{{base "/a/b.txt"}}|{{dir "/a/b.txt"}}|{{ext "x.tar.gz"}}|{{clean "a//b/../c/."}}|{{isAbs "/x"}}|{{isAbs "x"}}|{{base ""}}|{{dir "x"}}|{{clean "/../a"}}|{{base "/"}}|{{ext "a.b/c"}}`, "default"},
	{"regex", `{{regexMatch "^[a-z]+$" "abc"}}|{{regexMatch "\\d" "x1"}}|{{regexMatch "^\\w+$" "héllo"}}|{{regexFind "[0-9]+" "ab123cd45"}}|{{regexFindAll "[0-9]" "a1b2c3" -1}}|{{regexFindAll "[0-9]" "a1b2c3" 2}}`, "default"},
	{"regex", `{{regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W"}}|{{regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W"}}|{{regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}"}}|{{regexReplaceAll "x*" "abc" "-"}}`, "default"},
	{"regex", `{{regexSplit "z+" "pizza" -1}}|{{regexSplit "z+" "pizza" 1}}|{{regexSplit "" "abc" -1}}|{{regexSplit "a*" "baaac" -1}}|{{regexQuoteMeta "1.5+[x]"}}|{{regexFindAll "a*" "baaab" -1}}`, "default"},
	{"regex", `{{regexMatch "(?i)HELLO" "hello"}}|{{regexReplaceAll "(?P<w>\\w+)@" "me@x" "<$w>"}}|{{regexFind "\\bfoo\\b" "a foo b"}}|{{regexMatch "\\s" "\v"}}`, "default"},
	// Lists and dicts.
	{"lists", `{{list 1 "a" nil 2.5 true}}|{{first (list 1 2)}}|{{last (list 1 2)}}|{{rest (list 1 2 3)}}|{{initial (list 1 2 3)}}|{{first (list)}}`, "default"},
	{"lists", `{{append (list 1) 2}}|{{prepend (list 1) 0}}|{{concat (list 1) (list 2 3) (list)}}|{{reverse (list 1 2 3)}}|{{uniq (list 1 1 "a" "a" 2)}}`, "default"},
	{"lists", `{{without (list 1 2 3 2) 2}}|{{has 2 (list 1 2)}}|{{has "2" (list 1 2)}}|{{compact (list 0 1 "" "a" nil false)}}|{{chunk 2 (list 1 2 3 4 5)}}|{{mustSlice (list 1 2 3) 1}}|{{mustSlice (list 1 2 3) 1 2}}`, "default"},
	{"lists", `{{until 5}}|{{until -3}}|{{untilStep 1 10 3}}|{{untilStep 10 1 -4}}|{{untilStep 1 10 -1}}|{{seq 5}}|{{seq 2 5}}|{{seq 5 2}}|{{seq 0 2 10}}|{{seq 10 -3 1}}|{{seq}}|{{seq 1 2 3 4}}`, "default"},
	{"lists", `{{toJson (list 1 "a" (dict "k" (list))) }}|{{toPrettyJson (dict "b" (list 1 2) "a" (dict))}}|{{toRawJson (list "<&>")}}`, "default"},
	{"lists", `{{append "x" 1}}`, "default"},
	{"lists", `{{first 1}}`, "default"},
	{"dicts", `{{dict "a" 1 "b"}}|{{get (dict "a" 1) "a"}}|{{get (dict) "x"}}|{{hasKey (dict "a" 1) "a"}}|{{unset (dict "a" 1 "b" 2) "a"}}|{{set (dict) "k" "v"}}`, "default"},
	{"dicts", `{{pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3)}}|{{keys (dict "b" 1 "a" 2) | sortAlpha}}|{{pick (dict "a" 1 "b" 2 "c" 3) "a" "c"}}|{{omit (dict "a" 1 "b" 2) "a"}}`, "default"},
	{"dicts", `{{merge (dict "a" 1 "b" (dict "x" 1)) (dict "b" (dict "y" 2) "c" 3 "a" 9)}}|{{mergeOverwrite (dict "a" 1 "b" "") (dict "a" 2 "b" "z" "c" 0)}}`, "default"},
	{"dicts", `{{dig "a" "b" "def" (dict "a" (dict "b" "found"))}}|{{dig "a" "x" "def" (dict "a" (dict "b" 1))}}|{{deepCopy (dict "a" (list 1 2))}}|{{values (dict "a" 1)}}`, "default"},
	{"dicts", `{{hasKey . "a"}}`, "default"},
	{"dicts", `{{set . "a" 1}}`, "default"},
	{"dicts", `{{$d := fromJson .json}}{{$d.a}}|{{$d.b}}|{{$d.c.d}}|{{typeOf $d.a}}|{{toJson $d}}`, "yaml"},
	{"dicts", `{{fromJson "[1, 2"}}|{{fromJson "\"\\u00e9\\ud83d\\ude00\""}}|{{fromJson "1e2"}}|{{fromJson "null"}}`, "default"},
	{"dicts", `{{mustFromJson "{"}}`, "default"},
	// Defaults.
	{"defaults", `{{ternary "y" "n" true}}|{{ternary "y" "n" false}}|{{all 1 "a" true}}|{{all 1 ""}}|{{any 0 "" nil}}|{{any 0 "x"}}|{{coalesce 0 "" (list) "z"}}`, "default"},
	{"defaults", `{{ternary "y" "n" .a}}`, "default"},
	// Math and conversion.
	{"math", `{{add 1 2 3}}|{{add}}|{{sub 5 7}}|{{mul 2 3 4}}|{{div 7 2}}|{{div -7 2}}|{{mod -7 3}}|{{max 1 5 3}}|{{min 4 -2}}|{{add1 "41"}}|{{biggest 3 9}}`, "default"},
	{"math", `{{div 1 0}}`, "default"},
	{"math", `{{floor 2.7}}|{{ceil 2.1}}|{{round 3.14159 2}}|{{round 2.5 0}}|{{round -2.5 0}}|{{round 3.14159 2 0.2}}|{{maxf 1 2.5}}|{{minf 1 2.5 -0.5}}|{{floor "3.9"}}`, "default"},
	{"math", `{{atoi "42"}}|{{atoi "x"}}|{{atoi "+7"}}|{{int "0x1F"}}|{{int64 "12.000"}}|{{int 2.9}}|{{float64 "1.5"}}|{{float64 3}}|{{int "abc"}}|{{toDecimal "0777"}}|{{toDecimal 17}}|{{toDecimal "9"}}`, "default"},
	{"math", `{{typeOf (add 1 2)}}|{{typeOf 1}}|{{typeOf 1.5}}|{{typeOf (list)}}|{{typeOf (dict)}}|{{typeOf .}}|{{typeOf (until 2)}}|{{typeOf (splitList "," "")}}|{{typeOf nil}}|{{typeOf (index "a" 0)}}|{{typeOf (split "," "")}}|{{typeOf (chunk 1 (list 1))}}`, "default"},
	{"math", `{{kindOf (add 1 2)}}|{{kindOf (list)}}|{{kindOf .}}|{{kindOf nil}}|{{kindIs "slice" (list)}}|{{typeIs "int" 1}}|{{typeIsLike "int" 1}}|{{deepEqual (list 1 (dict "a" 2)) (list 1 (dict "a" 2))}}|{{deepEqual 1 (int64 1)}}`, "default"},
	{"math", `{{repeat (add 1 2) "x"}}`, "default"},
	{"math", `{{repeat (int 3) "x"}}`, "default"},
	{"math", `{{add 9223372036854775807 1}}|{{mul 4294967296 4294967296}}`, "default"},
	// fail.
	{"fail", `{{fail "stop here"}}`, "default"},
	{"fail", `{{if .missing}}{{fail "unreached"}}{{end}}ok`, "default"},
	// Parse errors of the control structures.
	{"syntax", `{{if .a}}x`, "default"},
	{"syntax", `{{end}}`, "default"},
	{"syntax", `{{else}}`, "default"},
	{"syntax", `{{range .}}{{else}}{{else}}{{end}}`, "default"},
	{"syntax", `{{break}}`, "default"},
	{"syntax", `{{if true}}{{continue}}{{end}}`, "default"},
	{"syntax", `{{$x}}`, "default"},
	{"syntax", `{{$x := }}`, "default"},
	{"syntax", `{{range $a, $b, $c := .}}{{end}}`, "default"},
	{"syntax", `{{if true}}{{else with .a}}{{end}}`, "default"},
	{"syntax", `{{define "x"}}`, "default"},
	{"syntax", `{{define x}}{{end}}`, "default"},
	{"syntax", `{{template x}}`, "default"},
	{"syntax", `{{block "x"}}{{end}}`, "default"},
	{"syntax", `{{with}}{{end}}`, "default"},
	{"syntax", `{{nosuchfunc}}`, "default"},
}

// enumerated builds cases systematically: every operand under every construct, every pair
// of values under every comparison and arithmetic function, every string function on
// every input.
func enumerated() []tcase {
	var out []tcase
	add := func(group, tpl string, data ...string) {
		for _, d := range data {
			out = append(out, tcase{group, tpl, d})
		}
	}
	operands := []string{".a", ".empty", ".missing", ".num", "0", "1", "-1", "true", "false", `""`, `"x"`,
		"1.5", "0.0", "(list)", "(list 1 2)", "(dict)", `(dict "k" "v")`, ".", "$", "(add 0 0)",
		"(until 0)", `(splitList "," "a,b")`, `(index "a" 0)`, "nil"}
	constructs := []string{
		`{{if %s}}T{{else}}F{{end}}`,
		`{{with %s}}[{{.}}]{{else}}E{{end}}`,
		`{{range %s}}<{{.}}>{{else}}E{{end}}`,
		`{{range $i, $v := %s}}{{$i}}={{$v}};{{else}}E{{end}}`,
		`{{not %s}}`,
		`{{and %s "y"}}`,
		`{{or %s "y"}}`,
		`{{empty %s}}`,
		`{{typeOf %s}}`,
		`{{kindOf %s}}`,
		`{{toJson %s}}`,
		`{{toPrettyJson %s}}`,
		`{{len %s}}`,
		`{{print %s}}`,
		`{{printf "%%v|%%T|%%d|%%s|%%q" %[1]s %[1]s %[1]s %[1]s %[1]s}}`,
		`{{default "d" %s}}`,
		`{{toString %s}}`,
		`{{quote %s}}`,
		`{{$x := %s}}{{$x}}`,
		`{{eq %s %[1]s}}`,
		`{{int %s}}|{{int64 %[1]s}}|{{float64 %[1]s}}`,
		`{{toStrings %s}}`,
		`{{add1 %s}}`,
	}
	for _, c := range constructs {
		for _, op := range operands {
			if c == `{{printf "%%v|%%T|%%d|%%s|%%q" %[1]s %[1]s %[1]s %[1]s %[1]s}}` || c == `{{eq %s %[1]s}}` || c == `{{int %s}}|{{int64 %[1]s}}|{{float64 %[1]s}}` {
				add("gen-construct", fmt.Sprintf(c, op), "default")
			} else {
				add("gen-construct", fmt.Sprintf(c, op), "default")
			}
		}
	}
	values := []string{"1", "2", "-3", "1.5", `"a"`, `"b"`, `"10"`, "true", "nil", "(int64 2)", `(index "a" 0)`, ".missing", ".num"}
	for _, f := range []string{"eq", "ne", "lt", "le", "gt", "ge"} {
		for _, a := range values {
			for _, b := range values {
				add("gen-compare", fmt.Sprintf("{{%s %s %s}}", f, a, b), "default")
			}
		}
	}
	nums := []string{"0", "7", "-7", "3", `"12"`, `"0x1F"`, "2.7", "-2.7", "true", "nil", ".num", ".word", ".f", ".hex", ".oct", ".neg"}
	for _, f := range []string{"add", "sub", "mul", "max", "min", "maxf", "minf", "mod", "div"} {
		for _, a := range nums {
			for _, b := range nums {
				add("gen-math", fmt.Sprintf("{{%s %s %s}}", f, a, b), "nums")
			}
		}
	}
	for _, f := range []string{"floor", "ceil", "int", "int64", "float64", "add1", "toDecimal", "atoi"} {
		for _, a := range nums {
			add("gen-math", fmt.Sprintf("{{%s %s}}", f, a), "nums")
		}
	}
	inputs := []string{".a", ".uni", ".ws", ".html", ".password", ".nl", ".empty", `"Hello World"`, `"foo_bar-baz qux"`,
		`"ABC def"`, `"  x  "`, `"a.b.c"`, `"/usr/local/bin/"`, `"x"`}
	for _, f := range []string{"upper", "lower", "title", "untitle", "trim", "nospace", "initials", "quote", "squote",
		"b64enc", "b32enc", "sha1sum", "sha256sum", "adler32sum", "toJson", "toRawJson", "len", "base", "dir",
		"clean", "ext", "isAbs", "regexQuoteMeta", "html", "js", "urlquery", "cat", "toString", "camelcase", "swapcase"} {
		for _, in := range inputs {
			add("gen-strings", fmt.Sprintf("{{%s %s}}", f, in), "default")
		}
	}
	for _, f := range []string{"trunc", "abbrev", "wrap", "indent", "nindent", "repeat"} {
		for _, n := range []string{"0", "3", "5", "-2"} {
			for _, in := range inputs[:10] {
				add("gen-strings", fmt.Sprintf("{{%s %s %s}}", f, n, in), "default")
			}
		}
	}
	for _, f := range []string{"contains", "hasPrefix", "hasSuffix", "trimPrefix", "trimSuffix", "trimAll", "splitList", "split"} {
		for _, a := range []string{`""`, `"l"`, `" "`, `"He"`, `"d"`, `"é"`} {
			for _, in := range inputs[:9] {
				add("gen-strings", fmt.Sprintf("{{%s %s %s}}", f, a, in), "default")
			}
		}
	}
	return out
}
