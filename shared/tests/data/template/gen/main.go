// Command gen makes the Go-derived expectations that shared's tests read, so that what the
// Rust renderer and shared::go must do is written by Go itself, never pasted by hand.
//
// Regenerate (or extend: add a case below, run, commit both files) with:
//
//	cd shared/tests/data/template/gen && go run . > ../cases.json
//	cd shared/tests/data/template/gen && go run . encoding > ../encoding.json
//
// cases.json: templates rendered as the reference controller renders spec.template.data:
// Go's text/template with sprig's GenericFuncMap less "env", "expandenv" and
// "getHostByName", executed with a map[string]string of the items as the dot
// (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go). Read by
// shared/tests/template_go.rs.
//
// encoding.json: Go's base64.StdEncoding (DecodeString, EncodeToString) and encoding/json
// string escaping (json.Marshal, and an Encoder with SetEscapeHTML(false) as sprig's
// toRawJson uses), on fixed and pseudo-random inputs. Read by shared/tests/go_encoding.rs.
//
// The tests need neither Go nor the network: the JSON files are committed. The output is
// deterministic (fixed seeds, sorted keys), so a regeneration that changes nothing leaves
// no diff.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
)

// The item sets templates run on, by name.
var dataSets = map[string]map[string]string{
	// The reference's own template tests (sealedsecret_test.go).
	"reference": {"foo": "bar", "password": "hunter2'\"="},
	"default": {
		"a":             "x",
		"b":             "y",
		"foo":           "bar",
		"password":      "hunter2'\"=",
		"html":          `<a href="x">&amp;</a>`,
		"bin":           "\xff\x00\xc3(",
		"uni":           "héllo wörld ǆ ß",
		"ws":            "  \t hi there \n ",
		"b64":           "aGVsbG8gd29ybGQ=",
		"num":           "42",
		"empty":         "",
		"nl":            "line1\nline2",
		"key-with-dash": "dashed",
	},
	"small": {"a": "x", "b": "<y>"},
	"empty": {},
}

type tcase struct {
	group, template, data string
}

// ncase is a case whose template has a name other than "value" (the reference names each
// template by its key, which {{template}} can call).
type ncase struct {
	group, template, data, name string
}

// The cases, by group. shared/tests/template_go.rs requires the Rust renderer to render
// what Go renders, byte for byte, and to refuse what Go refuses, with the kind of error
// that the group names (types, exec, syntax, calls; trim has both).
var cases = []tcase{
	// The reference's own template tests (TestSealRoundTripTemplateData, TestTemplateOmitEncryptedData).
	{"reference", `secret {{ index . "foo" }} !`, "reference"},
	{"reference", `{{ toJson .password }}`, "reference"},
	{"reference", `qux {{ .foo }} qux`, "reference"},
	{"reference", `no actions at all`, "reference"},
	// Go fails: wrong argument counts and types (at execution).
	{"types", `{{ upper "a" "b" }}`, "default"},
	{"types", `{{ printf }}`, "default"},
	{"types", `{{ .a | replace "x" }}`, "default"},
	{"types", `{{ upper 3 }}`, "default"},
	{"types", `{{ upper true }}`, "default"},
	{"types", `{{ upper nil }}`, "default"},
	{"types", `{{ upper . }}`, "default"},
	{"types", `{{ upper .missing }}`, "default"},
	{"types", `{{ .missing | upper }}`, "default"},
	{"types", `{{ repeat "3" "a" }}`, "default"},
	{"types", `{{ repeat .num "a" }}`, "default"},
	{"types", `{{ 3 | repeat 2 }}`, "default"},
	// Go fails: other execution errors.
	{"exec", `{{ nil }}`, "default"},
	{"exec", `{{ .a.b }}`, "default"},
	{"exec", `{{ .a "x" }}`, "default"},
	{"exec", `{{ "a" | $ }}`, "default"},
	{"exec", `{{ "a" "b" }}`, "default"},
	{"exec", `{{ (.a) .b }}`, "default"},
	{"exec", `{{ coalesce.x }}`, "default"},
	// Go fails: parse errors.
	{"syntax", `{{`, "default"},
	{"syntax", `{{ .a`, "default"},
	{"syntax", `{{ }}`, "default"},
	{"syntax", `{{ () }}`, "default"},
	{"syntax", `{{ (.a }}`, "default"},
	{"syntax", `{{ .a) }}`, "default"},
	{"syntax", `{{ .a | | upper }}`, "default"},
	{"syntax", `{{ | upper }}`, "default"},
	{"syntax", `{{ .a | "x" }}`, "default"},
	{"syntax", `{{ "unterminated }}`, "default"},
	{"syntax", "{{ `unterminated }}", "default"},
	{"syntax", `{{ "\q" }}`, "default"},
	{"syntax", `{{ "\'" }}`, "default"},
	{"syntax", "{{ \"a\nb\" }}", "default"},
	{"syntax", `{{ .a,.b }}`, "default"},
	{"syntax", `{{ 3- }}`, "default"},
	{"syntax", `{{ 09 }}`, "default"},
	{"syntax", `{{ "a".b }}`, "default"},
	// Go fails: a function returns an error or panics.
	{"calls", `{{ repeat -1 "a" }}`, "default"},
	{"calls", `{{ substr 4 2 "hello" }}`, "default"},
	{"calls", `{{ substr 10 11 "hello" }}`, "default"},
	{"calls", `{{ indent -1 "a" }}`, "default"},
	{"calls", `{{ len 3 }}`, "default"},
	{"calls", `{{ len .missing }}`, "default"},
	{"calls", `{{ index .missing "a" }}`, "default"},
	{"calls", `{{ index . 1 }}`, "default"},
	{"calls", `{{ index . .missing }}`, "default"},
	{"calls", `{{ index "abc" 3 }}`, "default"},
	{"calls", `{{ index . "a" "b" }}`, "default"},
	// printf verbs, flags and widths.
	{"printf", `{{ printf "%s|%v|%d|%q|%x|%X|%T" .a .a 7 .password .a .a .a }}`, "default"},
	{"printf", `{{ printf "%d|%v|%x|%X|%b|%o|%O|%c|%q|%U|%T" -255 -255 -255 -255 5 8 8 65 10 128512 3 }}`, "default"},
	{"printf", `{{ printf "%t|%v|%s" true false true }}`, "default"},
	{"printf", `{{ printf "%v|%s|%T" nil nil nil }}`, "default"},
	{"printf", `{{ printf "%d" .a }}`, "default"},
	{"printf", `{{ printf "%s %s" .a }}`, "default"},
	{"printf", `{{ printf "%s" .a .b 3 nil }}`, "default"},
	{"printf", `{{ printf "%5s|%-5s|%3d|%-4v|" .a .b 7 true }}`, "default"},
	{"printf", `{{ printf "100%%" }}{{ printf "%" }}{{ printf "%z" 1 }}`, "default"},
	// Operands, constants, pipelines, builtins and sprig functions.
	{"values", `{{ $ | len }}`, "default"},
	{"values", `{{ .a }}`, "default"},
	{"values", `{{ .missing }}`, "default"},
	{"values", `{{ $.foo }}`, "default"},
	{"values", `{{ index . "key-with-dash" }}`, "default"},
	{"values", `{{ index . "missing" }}`, "default"},
	{"values", `{{ index . "foo" 1 }}`, "default"},
	{"values", `{{ .bin }}`, "default"},
	{"values", "{{ \"lit\" }}{{ `raw\\n` }}{{ 42 }}{{ -0x1f }}{{ 0o17 }}{{ 010 }}{{ 0b11 }}{{ true }}", "default"},
	{"values", `{{ "a\tb\x41\101\u00e9\U0001F600" }}`, "default"},
	{"values", `{{-3}}`, "default"},
	{"values", `{{ .a | }}`, "default"},
	{"values", `{{ .a | upper }}`, "default"},
	{"values", `{{ .a | printf "%s-%s" .b }}`, "default"},
	{"values", `{{ printf "%s" (b64enc .a) }}`, "default"},
	{"values", `{{ (upper .a) }}`, "default"},
	{"values", `{{ (.).foo }}`, "default"},
	{"values", `{{ .missing.deeper }}`, "default"},
	{"values", `{{ len . }}{{ len .uni }}{{ len "" }}`, "default"},
	{"values", `{{ print .a .b 1 2 .missing nil true "c" }}`, "default"},
	{"values", `{{ println .a 1 }}`, "default"},
	{"values", `{{ toJson .password }}`, "default"},
	{"values", `{{ toJson .html }}`, "default"},
	{"values", `{{ toRawJson .html }}`, "default"},
	{"values", `{{ toJson .bin }}`, "default"},
	{"values", `{{ toJson "\u2028\u2029\x01\x7f\b\f" }}`, "default"},
	{"values", `{{ toJson 3 }}{{ toJson true }}{{ toJson .missing }}`, "default"},
	{"values", `{{ b64enc .a }}{{ b64enc "ab" }}{{ b64enc .bin }}`, "default"},
	{"values", `{{ b64dec .b64 }}`, "default"},
	{"values", `{{ b64dec "aGVs\nbG8=" }}`, "default"},
	{"values", `{{ b64dec "abc" }}`, "default"},
	{"values", `{{ b64dec "aGVsbA==x" }}`, "default"},
	{"values", `{{ quote .password }}`, "default"},
	{"values", `{{ quote .a .missing 3 true }}`, "default"},
	{"values", `{{ quote .bin }}`, "default"},
	{"values", `{{ quote .uni "\u00ad" "\x1b" }}`, "default"},
	{"values", `{{ squote .a .missing 3 }}`, "default"},
	{"values", `{{ trim .ws }}`, "default"},
	{"values", `{{ trimAll "ab" "abxyba" }}`, "default"},
	{"values", `{{ trimAll "é" "éxé" }}`, "default"},
	{"values", `{{ trimPrefix "ab" "abab" }}`, "default"},
	{"values", `{{ trimSuffix "ab" "abab" }}`, "default"},
	{"values", `{{ upper .uni }}`, "default"},
	{"values", `{{ lower "HÉLLO İ" }}`, "default"},
	{"values", `{{ title "hello wORLD foo-bar foo_bar ǆx" }}`, "default"},
	{"values", `{{ upper .bin }}`, "default"},
	{"values", `{{ replace "l" "L" "hello" }}`, "default"},
	{"values", `{{ replace "" "-" "abc" }}`, "default"},
	{"values", `{{ "banana" | replace "an" "" }}`, "default"},
	{"values", `{{ nospace .ws }}`, "default"},
	{"values", `{{ nospace "é a" }}`, "default"},
	{"values", `{{ cat .a .b .missing 3 true }}`, "default"},
	{"values", `{{ default "d" .missing }}{{ default "d" .empty }}{{ default "d" .a }}{{ .missing | default "p" }}{{ default "d" }}`, "default"},
	{"values", `{{ default 5 0 }}{{ default "d" false }}`, "default"},
	{"values", `{{ empty .a }}{{ empty .empty }}{{ empty 0 }}`, "default"},
	{"values", `{{ coalesce .missing .empty .b }}`, "default"},
	{"values", `{{ contains "ell" "hello" }}{{ hasPrefix "he" "hello" }}{{ hasSuffix "x" "hello" }}`, "default"},
	{"values", `{{ repeat 3 "ab" }}`, "default"},
	{"values", `{{ substr 1 3 "hello" }}|{{ substr -1 3 "hello" }}|{{ substr 1 -1 "hello" }}|{{ substr 1 99 "hello" }}`, "default"},
	{"values", `{{ trunc 3 "hello" }}|{{ trunc -3 "hello" }}|{{ trunc 9 "hello" }}|{{ trunc -9 "hello" }}`, "default"},
	{"values", `{{ indent 2 .nl }}`, "default"},
	{"values", `{{ nindent 2 .nl }}`, "default"},
	{"values", `{{ sha256sum .a }}`, "default"},
	{"values", `{{ toString 3 }}{{ toString .missing }}{{ toString true }}`, "default"},
	{"values", `{{ join "," .a }}{{ join "," .missing }}`, "default"},
	// The dot (the map of items) printed, encoded and passed around.
	{"dot", `{{ . }}|{{ $ }}|{{ print . }}|{{ index . }}`, "small"},
	{"dot", `{{ printf "%v|%s|%q|%x|%d|%4v" . . . . . . }}`, "small"},
	{"dot", `{{ toJson . }}|{{ toRawJson . }}|{{ len . }}`, "small"},
	{"dot", `{{ default "e" . }}|{{ toString . }}|{{ quote . }}|{{ squote . }}`, "small"},
	// Trim markers and comments.
	{"trim", `a {{- .a -}} b`, "default"},
	{"trim", `a {{- .a }} b {{ .b -}} c`, "default"},
	{"trim", "a \n\t{{- .a }}", "default"},
	{"trim", "{{ .a\n-}}\n\n z", "default"},
	{"trim", `x {{/* comment */}} y`, "default"},
	{"trim", `x {{- /* comment */ -}} y`, "default"},
	{"trim", "x {{/* multi\nline */}} y", "default"},
	{"trim", "{{ .a }}\r\n", "default"},
	{"trim", "{{ `a\r\nb` }}", "default"},
	{"trim", `{{-.a}}`, "default"},
	{"trim", `{{ .a- }}`, "default"},
	{"trim", `x {{ /* c */ }}`, "default"},
	{"trim", `x {{/* c */ }}`, "default"},
	{"trim", `x {{/* unclosed`, "default"},
	// Values that are not UTF-8.
	{"bytes", `<{{ .bin | trunc 2 }}>`, "default"},
	{"bytes", `{{ .bin | b64enc | b64dec }}`, "default"},
	{"bytes", `{{ printf "%s" .bin }}`, "default"},
	{"bytes", `{{ printf "%x" .bin }}`, "default"},
	// The dot with no items.
	{"dot", `{{ . }}|{{ toJson . }}`, "empty"},
	// b64dec as Go's base64.StdEncoding.DecodeString decodes, with its error text as the value.
	{"b64dec", `{{ b64dec "AB==" }}|{{ b64dec "AAB=" }}|{{ b64dec "" }}`, "default"},
	{"b64dec", `{{ b64dec "aGVs\r\nbG8=\r\n" }}|{{ b64dec "aGVsbG8=\n" | len }}`, "default"},
	{"b64dec", `{{ b64dec "aGVsbG8" }}|{{ b64dec "aGVsbA=" }}|{{ b64dec "a===" }}|{{ b64dec "é" }}`, "default"},
	{"b64dec", `{{ b64dec "AA=\nx" }}|{{ b64dec "ABC\n" }}|{{ b64dec "AA==\nA" }}|{{ b64dec "AA=\r=" }}`, "default"},
}

type caseOut struct {
	Group    string `json:"group"`
	Template string `json:"template"`
	Data     string `json:"data"`
	// Name is the template's name (the reference names it by its key); "value" if absent.
	Name string `json:"name,omitempty"`
	// Output is base64 of the rendered bytes; Text the same when it is UTF-8, for reading.
	Output *string `json:"output,omitempty"`
	Text   *string `json:"text,omitempty"`
	// Error is the phase Go fails in, "parse" or "exec"; GoError Go's message.
	Error   string `json:"error,omitempty"`
	GoError string `json:"go_error,omitempty"`
}

func funcMap() template.FuncMap {
	m := sprig.GenericFuncMap()
	delete(m, "env")
	delete(m, "expandenv")
	delete(m, "getHostByName")
	return m
}

func render(funcs template.FuncMap, name, text string, data map[string]string) (out []byte, phase string, err error) {
	t, err := template.New(name).Funcs(funcs).Parse(text)
	if err != nil {
		return nil, "parse", err
	}
	var buf bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			out, phase, err = nil, "exec", fmt.Errorf("panic: %v", p)
		}
	}()
	if err := t.Execute(&buf, data); err != nil {
		return nil, "exec", err
	}
	return buf.Bytes(), "", nil
}

func sprigVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/Masterminds/sprig/v3" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

// encode writes one JSON value without HTML escaping (templates are easier to read so).
func encode(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// field is one top-level field of an output file: a JSON value, or (entries not nil) an
// array written one entry per line, so that diffs show cases.
type field struct {
	key, value string
	entries    []string
}

func writeDoc(fields ...field) {
	var b strings.Builder
	b.WriteString("{")
	for i, f := range fields {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %s: ", encode(f.key))
		if f.entries == nil {
			b.WriteString(f.value)
			continue
		}
		b.WriteString("[\n")
		for j, e := range f.entries {
			b.WriteString("    " + e)
			if j+1 < len(f.entries) {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("  ]")
	}
	b.WriteString("\n}\n")
	os.Stdout.WriteString(b.String())
}

func generator() string {
	return encode(fmt.Sprintf("shared/tests/data/template/gen (%s, sprig %s)", runtime.Version(), sprigVersion()))
}

func templates() {
	funcs := funcMap()
	names := make([]string, 0, len(dataSets))
	for name := range dataSets {
		names = append(names, name)
	}
	sort.Strings(names)
	var sets []string
	for _, name := range names {
		items := map[string]string{}
		for k, v := range dataSets[name] {
			items[k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
		sets = append(sets, fmt.Sprintf("%s: %s", encode(name), encode(items)))
	}
	var entries []string
	var all []ncase
	for _, c := range append(append(append([]tcase{}, cases...), handCases...), enumerated()...) {
		all = append(all, ncase{c.group, c.template, c.data, ""})
	}
	seen := map[ncase]bool{}
	for _, c := range append(all, namedCases...) {
		if seen[c] {
			continue
		}
		seen[c] = true
		data, ok := dataSets[c.data]
		if !ok {
			panic("no data set " + c.data)
		}
		name := c.name
		if name == "" {
			name = "value"
		}
		out, phase, err := render(funcs, name, c.template, data)
		o := caseOut{Group: c.group, Template: c.template, Data: c.data, Name: c.name}
		if err != nil {
			o.Error, o.GoError = phase, err.Error()
		} else {
			b64 := base64.StdEncoding.EncodeToString(out)
			o.Output = &b64
			if utf8.Valid(out) {
				s := string(out)
				o.Text = &s
			}
		}
		entries = append(entries, encode(o))
	}
	writeDoc(
		field{key: "generator", value: generator()},
		field{key: "data", value: "{" + strings.Join(sets, ", ") + "}"},
		field{key: "cases", entries: entries},
	)
}

type b64Case struct {
	In string `json:"in"`
	// Out is hex of the decoded bytes; Error the text of Go's CorruptInputError.
	Out   *string `json:"out,omitempty"`
	Error string  `json:"error,omitempty"`
}

type b64EncCase struct {
	In  string `json:"in"` // hex
	Out string `json:"out"`
}

type jsonCase struct {
	In   string `json:"in"`   // hex of the string's bytes
	HTML string `json:"html"` // json.Marshal: <, >, & escaped
	Raw  string `json:"raw"`  // an Encoder with SetEscapeHTML(false), newline trimmed
}

func b64Decode(in string) b64Case {
	c := b64Case{In: in}
	out, err := base64.StdEncoding.DecodeString(in)
	if err != nil {
		if _, ok := err.(base64.CorruptInputError); !ok {
			panic(err)
		}
		c.Error = err.Error()
	} else {
		h := hex.EncodeToString(out)
		c.Out = &h
	}
	return c
}

func jsonOf(b []byte) jsonCase {
	html, err := json.Marshal(string(b))
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(string(b)); err != nil {
		panic(err)
	}
	return jsonCase{In: hex.EncodeToString(b), HTML: string(html), Raw: strings.TrimSuffix(buf.String(), "\n")}
}

func encoding() {
	rng := rand.New(rand.NewPCG(1, 2))
	var decode []string
	seen := map[string]bool{}
	add := func(in string) {
		if !seen[in] {
			seen[in] = true
			decode = append(decode, encode(b64Decode(in)))
		}
	}
	// Every string of up to 5 characters over a valid character, one with non-zero trailing
	// bits, the padding and a newline.
	var all func(prefix string, n int)
	all = func(prefix string, n int) {
		add(prefix)
		if n == 0 {
			return
		}
		for _, c := range []string{"A", "B", "=", "\n"} {
			all(prefix+c, n-1)
		}
	}
	all("", 5)
	for _, in := range []string{
		"aGVsbG8=", "aGVs\r\nbG8=\n", "aGVsbG8", "aGVsbA=", "aGVsbA=x", "aGVsbA==x", "a===", "aGVs*",
		"abc", "AB==", "AAB=", "AA=\n=", "AA=\r\n=", "AA=\nx", "AA==\n", "AA==\nA", "ABC\n", "AB\nC",
		"\n\n", "\r", "AQID", "AQ\r\nID", "AQ ID", "AQI", "AQ==AQ==", "-_-_", "AQ\tID", "é", "AA\x00A",
		"aGVsbG8gd29ybGQ=", "aGVsbG8gd29ybGQ", "aGVsbG8gd29ybGQ=\n", "aGVsbG8g\nd29ybGQ=",
		"aGVsbG8gd29ybG*=", "aGVsbG8gd29ybGQ==", "aGVsbG8gd29ybGR=", "aGVsbG8gd29ybA==AAAA",
		"/wDDKA==", "+/+/", "////////////", "AAAAAAAA\nAAAAAAAA\nAAAA", "AAAAAAA=AAAAAAAA",
	} {
		add(in)
	}
	// Encodings of random bytes with a few random edits: near-valid input, where Go's error
	// offsets matter.
	edits := []string{"\n", "\r", "=", "*", " ", "A", "B", "/", "+", "-"}
	for len(decode) < 1365+42+400 {
		raw := make([]byte, rng.IntN(20))
		for i := range raw {
			raw[i] = byte(rng.UintN(256))
		}
		s := []byte(base64.StdEncoding.EncodeToString(raw))
		for n := rng.IntN(3); n > 0; n-- {
			at := 0
			if len(s) > 0 {
				at = rng.IntN(len(s) + 1)
			}
			e := edits[rng.IntN(len(edits))]
			switch rng.IntN(3) {
			case 0: // insert
				s = append(s[:at], append([]byte(e), s[at:]...)...)
			case 1: // replace
				if at < len(s) {
					s[at] = e[0]
				}
			case 2: // delete
				if at < len(s) {
					s = append(s[:at], s[at+1:]...)
				}
			}
		}
		add(string(s))
	}

	var enc []string
	for n := 0; n <= 12; n++ {
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = byte(rng.UintN(256))
		}
		enc = append(enc, encode(b64EncCase{In: hex.EncodeToString(raw), Out: base64.StdEncoding.EncodeToString(raw)}))
	}

	var js []string
	jseen := map[string]bool{}
	addJSON := func(b []byte) {
		if k := string(b); !jseen[k] {
			jseen[k] = true
			js = append(js, encode(jsonOf(b)))
		}
	}
	for b := 0; b < 256; b++ {
		addJSON([]byte{byte(b)})
	}
	for _, s := range []string{
		"", "<a href=\"x\">&amp;</a>", "hunter2'\"=", "\u2028\u2029", "a\u2028b", "é", "€", "😀", "\uFFFD",
		"\xe2\x82", "\xe2\x82\x41", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "\xf0\x9f\x98",
		"\xff\x00\xc3(", "\x01\x7f\b\f\n\r\t", "\\\"/", "\xe2\x80\xa8\xe2\x80", "\u0085\u00a0\u200b\ufeff",
	} {
		addJSON([]byte(s))
	}
	pieces := []string{"\x00", "\x1f", " ", "\"", "\\", "<", ">", "&", "\x7f", "\x80", "\xbf", "\xc0",
		"\xc2", "\xe2", "\xa8", "\xed", "\xf0", "\xf4", "\xff", "a", "é", "\u2028", "\u2029", "😀", "\uFFFD", "\n"}
	for len(js) < 256+20+200 {
		var b []byte
		for n := rng.IntN(12); n > 0; n-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		addJSON(b)
	}

	writeDoc(
		field{key: "generator", value: generator()},
		field{key: "base64_decode", entries: decode},
		field{key: "base64_encode", entries: enc},
		field{key: "json_string", entries: js},
	)
}

func main() {
	time.Local = time.UTC // as in the controller's container; the date cases rely on it
	switch {
	case len(os.Args) == 1:
		templates()
	case len(os.Args) == 2 && os.Args[1] == "encoding":
		encoding()
	default:
		fmt.Fprintln(os.Stderr, "usage: go run . > ../cases.json | go run . encoding > ../encoding.json")
		os.Exit(2)
	}
}
