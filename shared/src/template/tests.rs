//! Rust-only tests of the renderer: refusals, errors, limits and budgets, and properties.
//! What Go renders is checked in `shared/tests/template_go.rs`, against data made by Go.

use super::value::Data;
use super::*;
use proptest::prelude::*;

fn data_of(items: &[(&str, &[u8])]) -> Data {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect()
}

fn data() -> Data {
    data_of(&[
        ("a", b"x"),
        ("b", b"y"),
        ("foo", b"bar"),
        ("password", b"hunter2'\"="),
        ("html", b"<a href=\"x\">&amp;</a>"),
        ("bin", b"\xff\x00\xc3("),
        ("uni", "héllo wörld ǆ ß".as_bytes()),
        ("ws", b"  \t hi there \n "),
        ("b64", b"aGVsbG8gd29ybGQ="),
        ("num", b"42"),
        ("empty", b""),
        ("nl", b"line1\nline2"),
        ("key-with-dash", b"dashed"),
    ])
}

fn ok(template: &str) -> Vec<u8> {
    render(template, &data()).unwrap_or_else(|e| panic!("{template:?} failed: {e}"))
}

fn err(template: &str) -> TemplateError {
    match render(template, &data()) {
        Ok(out) => panic!("{template:?} rendered {:?}", String::from_utf8_lossy(&out)),
        Err(e) => e,
    }
}

fn check_table(table: &[(&str, &[u8])], data: &Data) {
    for (template, want) in table {
        match render(template, data) {
            Ok(got) => assert_eq!(
                got,
                *want,
                "{template:?}: got {:?}, want {:?}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want)
            ),
            Err(e) => panic!("{template:?} failed: {e}"),
        }
    }
}

/// The reference's own template test (sealedsecret_test.go, TestSealRoundTripTemplateData
/// and TestTemplateOmitEncryptedData).
#[test]
fn reference_test_cases() {
    let items = data_of(&[("foo", b"bar"), ("password", b"hunter2'\"=")]);
    assert_eq!(
        render(r#"secret {{ index . "foo" }} !"#, &items).unwrap(),
        b"secret bar !"
    );
    assert_eq!(
        render("{{ toJson .password }}", &items).unwrap(),
        br#""hunter2'\"=""#
    );
    assert_eq!(
        render("qux {{ .foo }} qux", &items).unwrap(),
        b"qux bar qux"
    );
    assert_eq!(
        render("no actions at all", &items).unwrap(),
        b"no actions at all"
    );
}

/// Expected outputs below were produced by Go 1.26 text/template with sprig v3.3.0 and
/// the reference's function map, on the same data.
#[test]
fn renders_like_go() {
    let table: &[(&str, &[u8])] = &[
        ("{{ .a }}", b"x"),
        ("{{ .missing }}", b"<no value>"),
        ("{{ $.foo }}", b"bar"),
        (r#"{{ index . "key-with-dash" }}"#, b"dashed"),
        (r#"{{ index . "missing" }}"#, b""),
        (r#"{{ index . "foo" 1 }}"#, b"97"),
        ("{{ .bin }}", b"\xff\x00\xc3("),
        (
            r#"{{ "lit" }}{{ `raw\n` }}{{ 42 }}{{ -0x1f }}{{ 0o17 }}{{ 010 }}{{ 0b11 }}{{ true }}"#,
            b"litraw\\n42-311583true",
        ),
        (
            r#"{{ "a\tb\x41\101\u00e9\U0001F600" }}"#,
            b"a\tbAA\xc3\xa9\xf0\x9f\x98\x80",
        ),
        ("{{-3}}", b"-3"),
        ("{{ .a | }}", b"x"),
        ("{{ .a | upper }}", b"X"),
        (r#"{{ .a | printf "%s-%s" .b }}"#, b"y-x"),
        (r#"{{ printf "%s" (b64enc .a) }}"#, b"eA=="),
        ("{{ (upper .a) }}", b"X"),
        ("{{ (.).foo }}", b"bar"),
        ("{{ .missing.deeper }}", b"<no value>"),
        (r#"{{ len . }}{{ len .uni }}{{ len "" }}"#, b"13190"),
        (
            r#"{{ print .a .b 1 2 .missing nil true "c" }}"#,
            b"xy1 2 <nil> <nil> truec",
        ),
        ("{{ println .a 1 }}", b"x 1\n"),
        ("{{ toJson .password }}", b"\"hunter2'\\\"=\""),
        (
            "{{ toJson .html }}",
            b"\"\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e\"",
        ),
        ("{{ toRawJson .html }}", b"\"<a href=\\\"x\\\">&amp;</a>\""),
        ("{{ toJson .bin }}", b"\"\\ufffd\\u0000\\ufffd(\""),
        (
            r#"{{ toJson "\u2028\u2029\x01\x7f\b\f" }}"#,
            b"\"\\u2028\\u2029\\u0001\x7f\\b\\f\"",
        ),
        (
            "{{ toJson 3 }}{{ toJson true }}{{ toJson .missing }}",
            b"3truenull",
        ),
        (
            r#"{{ b64enc .a }}{{ b64enc "ab" }}{{ b64enc .bin }}"#,
            b"eA==YWI=/wDDKA==",
        ),
        ("{{ b64dec .b64 }}", b"hello world"),
        (r#"{{ b64dec "aGVs\nbG8=" }}"#, b"hello"),
        (
            r#"{{ b64dec "abc" }}"#,
            b"illegal base64 data at input byte 0",
        ),
        (
            r#"{{ b64dec "aGVsbA==x" }}"#,
            b"illegal base64 data at input byte 8",
        ),
        ("{{ quote .password }}", b"\"hunter2'\\\"=\""),
        ("{{ quote .a .missing 3 true }}", b"\"x\" \"3\" \"true\""),
        ("{{ quote .bin }}", b"\"\\xff\\x00\\xc3(\""),
        (
            r#"{{ quote .uni "\u00ad" "\x1b" }}"#,
            b"\"h\xc3\xa9llo w\xc3\xb6rld \xc7\x86 \xc3\x9f\" \"\\u00ad\" \"\\x1b\"",
        ),
        ("{{ squote .a .missing 3 }}", b"'x' '3'"),
        ("{{ trim .ws }}", b"hi there"),
        (r#"{{ trimAll "ab" "abxyba" }}"#, b"xy"),
        (r#"{{ trimAll "é" "éxé" }}"#, b"x"),
        (r#"{{ trimPrefix "ab" "abab" }}"#, b"ab"),
        (r#"{{ trimSuffix "ab" "abab" }}"#, b"ab"),
        (
            "{{ upper .uni }}",
            b"H\xc3\x89LLO W\xc3\x96RLD \xc7\x84 \xc3\x9f",
        ),
        (r#"{{ lower "HÉLLO İ" }}"#, b"h\xc3\xa9llo i"),
        (
            r#"{{ title "hello wORLD foo-bar foo_bar ǆx" }}"#,
            b"Hello WORLD Foo-Bar Foo_bar \xc7\x85x",
        ),
        ("{{ upper .bin }}", b"\xef\xbf\xbd\x00\xef\xbf\xbd("),
        (r#"{{ replace "l" "L" "hello" }}"#, b"heLLo"),
        (r#"{{ replace "" "-" "abc" }}"#, b"-a-b-c-"),
        (r#"{{ "banana" | replace "an" "" }}"#, b"ba"),
        ("{{ nospace .ws }}", b"hithere"),
        (r#"{{ nospace "é a" }}"#, b"\xc3\x83\xc2\xa9a"),
        ("{{ cat .a .b .missing 3 true }}", b"x y 3 true"),
        (
            r#"{{ default "d" .missing }}{{ default "d" .empty }}{{ default "d" .a }}{{ .missing | default "p" }}{{ default "d" }}"#,
            b"ddxpd",
        ),
        (r#"{{ default 5 0 }}{{ default "d" false }}"#, b"5d"),
        (
            "{{ empty .a }}{{ empty .empty }}{{ empty 0 }}",
            b"falsetruetrue",
        ),
        ("{{ coalesce .missing .empty .b }}", b"y"),
        (
            r#"{{ contains "ell" "hello" }}{{ hasPrefix "he" "hello" }}{{ hasSuffix "x" "hello" }}"#,
            b"truetruefalse",
        ),
        (r#"{{ repeat 3 "ab" }}"#, b"ababab"),
        (
            r#"{{ substr 1 3 "hello" }}|{{ substr -1 3 "hello" }}|{{ substr 1 -1 "hello" }}|{{ substr 1 99 "hello" }}"#,
            b"el|hel|ello|ello",
        ),
        (
            r#"{{ trunc 3 "hello" }}|{{ trunc -3 "hello" }}|{{ trunc 9 "hello" }}|{{ trunc -9 "hello" }}"#,
            b"hel|llo|hello|hello",
        ),
        ("{{ indent 2 .nl }}", b"  line1\n  line2"),
        ("{{ nindent 2 .nl }}", b"\n  line1\n  line2"),
        (
            "{{ sha256sum .a }}",
            b"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
        ),
        (
            "{{ toString 3 }}{{ toString .missing }}{{ toString true }}",
            b"3<nil>true",
        ),
        (r#"{{ join "," .a }}{{ join "," .missing }}"#, b"x"),
    ];
    check_table(table, &data());
}

#[test]
fn printf_like_go() {
    let table: &[(&str, &[u8])] = &[
        (
            r#"{{ printf "%s|%v|%d|%q|%x|%X|%T" .a .a 7 .password .a .a .a }}"#,
            b"x|x|7|\"hunter2'\\\"=\"|78|78|string",
        ),
        (
            r#"{{ printf "%d|%v|%x|%X|%b|%o|%O|%c|%q|%U|%T" -255 -255 -255 -255 5 8 8 65 10 128512 3 }}"#,
            b"-255|-255|-ff|-FF|101|10|0o10|A|'\\n'|U+1F600|int",
        ),
        (
            r#"{{ printf "%t|%v|%s" true false true }}"#,
            b"true|false|%!s(bool=true)",
        ),
        (
            r#"{{ printf "%v|%s|%T" nil nil nil }}"#,
            b"<nil>|%!s(<nil>)|<nil>",
        ),
        (r#"{{ printf "%d" .a }}"#, b"%!d(string=x)"),
        (r#"{{ printf "%s %s" .a }}"#, b"x %!s(MISSING)"),
        (
            r#"{{ printf "%s" .a .b 3 nil }}"#,
            b"x%!(EXTRA string=y, int=3, <nil>)",
        ),
        (
            r#"{{ printf "%5s|%-5s|%3d|%-4v|" .a .b 7 true }}"#,
            b"    x|y    |  7|true|",
        ),
        (
            r#"{{ printf "100%%" }}{{ printf "%" }}{{ printf "%z" 1 }}"#,
            b"100%%!(NOVERB)%!z(int=1)",
        ),
    ];
    check_table(table, &data());
}

#[test]
fn the_dot_prints_like_a_go_map() {
    let small = data_of(&[("a", b"x"), ("b", b"<y>")]);
    let table: &[(&str, &[u8])] = &[
        (
            "{{ . }}|{{ $ }}|{{ print . }}|{{ index . }}",
            b"map[a:x b:<y>]|map[a:x b:<y>]|map[a:x b:<y>]|map[a:x b:<y>]",
        ),
        (
            r#"{{ printf "%v|%s|%q|%x|%d|%4v" . . . . . . }}"#,
            b"map[a:x b:<y>]|map[a:x b:<y>]|map[\"a\":\"x\" \"b\":\"<y>\"]|map[61:78 62:3c793e]|map[%!d(string=a):%!d(string=x) %!d(string=b):%!d(string=<y>)]|map[   a:   x    b: <y>]",
        ),
        (
            "{{ toJson . }}|{{ toRawJson . }}|{{ len . }}",
            b"{\"a\":\"x\",\"b\":\"\\u003cy\\u003e\"}|{\"a\":\"x\",\"b\":\"<y>\"}|2",
        ),
        (
            r#"{{ default "e" . }}|{{ toString . }}|{{ quote . }}|{{ squote . }}"#,
            b"map[a:x b:<y>]|map[a:x b:<y>]|\"map[a:x b:<y>]\"|'map[a:x b:<y>]'",
        ),
    ];
    check_table(table, &small);
    assert_eq!(
        render("{{ . }}|{{ toJson . }}", &Data::new()).unwrap(),
        b"map[]|{}"
    );
}

#[test]
fn trim_markers_and_comments() {
    assert_eq!(ok("a {{- .a -}} b"), b"axb");
    assert_eq!(ok("a {{- .a }} b {{ .b -}} c"), b"ax b yc");
    assert_eq!(ok("a \n\t{{- .a }}"), b"ax");
    assert_eq!(ok("{{ .a\n-}}\n\n z"), b"xz");
    assert_eq!(ok("x {{/* comment */}} y"), b"x  y");
    assert_eq!(ok("x {{- /* comment */ -}} y"), b"xy");
    assert_eq!(ok("x {{/* multi\nline */}} y"), b"x  y");
    assert_eq!(ok("{{ .a }}\r\n"), b"x\r\n");
    assert_eq!(ok("{{ `a\r\nb` }}"), b"a\nb");
    // A dash without a space next to it is a number sign, not a trim marker.
    assert_eq!(ok("{{-3}}"), b"-3");
    assert!(matches!(err("{{-.a}}"), TemplateError::Syntax { .. }));
    assert!(matches!(err("{{ .a- }}"), TemplateError::Syntax { .. }));
    assert!(matches!(
        err("x {{ /* c */ }}"),
        TemplateError::Syntax { .. }
    ));
    assert!(matches!(
        err("x {{/* c */ }}"),
        TemplateError::Syntax { .. }
    ));
    assert!(matches!(
        err("x {{/* unclosed"),
        TemplateError::Syntax { .. }
    ));
}

#[test]
fn values_that_are_not_utf8_pass_through() {
    assert_eq!(ok("{{ .bin }}"), b"\xff\x00\xc3(");
    assert_eq!(ok("<{{ .bin | trunc 2 }}>"), b"<\xff\x00>");
    assert_eq!(ok("{{ .bin | b64enc | b64dec }}"), b"\xff\x00\xc3(");
    assert_eq!(ok(r#"{{ printf "%s" .bin }}"#), b"\xff\x00\xc3(");
    assert_eq!(ok(r#"{{ printf "%x" .bin }}"#), b"ff00c328");
}

#[test]
fn refuses_control_actions() {
    for (template, keyword, offset) in [
        ("{{ if .a }}x{{ end }}", "if", 3),
        ("ab{{range .}}x{{end}}", "range", 4),
        ("{{- with .a }}x{{ end }}", "with", 4),
        (r#"{{ define "x" }}{{ end }}"#, "define", 3),
        (r#"{{ template "x" }}"#, "template", 3),
        (r#"{{ block "x" . }}{{ end }}"#, "block", 3),
        ("{{ end }}", "end", 3),
        ("{{ else }}", "else", 3),
        ("{{ break }}", "break", 3),
        ("{{ continue }}", "continue", 3),
    ] {
        let e = err(template);
        assert_eq!(
            e,
            TemplateError::UnsupportedAction {
                keyword: keyword.into(),
                offset
            },
            "{template}"
        );
    }
    assert_eq!(
        err("{{ if .a }}x{{ end }}").to_string(),
        r#"unsupported action "if" at offset 3"#
    );
    assert_eq!(
        err("0123456789{{ range . }}{{ end }}").to_string(),
        r#"unsupported action "range" at offset 13"#
    );
}

#[test]
fn refuses_variables() {
    assert_eq!(
        err("{{ $x }}"),
        TemplateError::UnsupportedVariable {
            name: "$x".into(),
            offset: 3
        }
    );
    assert!(matches!(
        err("{{ $x := .a }}"),
        TemplateError::UnsupportedVariable { .. }
    ));
    assert!(matches!(
        err("{{ $ := .a }}"),
        TemplateError::Unsupported { .. }
    ));
    assert!(matches!(
        err("{{ .a = 1 }}"),
        TemplateError::Unsupported { .. }
    ));
    assert_eq!(ok("{{ $ | len }}"), b"13");
}

#[test]
fn refuses_functions_it_does_not_have() {
    for name in ["env", "expandenv", "getHostByName", "nosuchfunc"] {
        let template = format!("{{{{ {name} \"HOME\" }}}}");
        assert_eq!(
            err(&template),
            TemplateError::UnknownFunction {
                name: name.into(),
                offset: 3
            }
        );
    }
    assert_eq!(
        err(r#"{{ env "HOME" }}"#).to_string(),
        r#"unknown function "env" at offset 3"#
    );
    for name in [
        "eq",
        "and",
        "regexMatch",
        "now",
        "randAlphaNum",
        "fail",
        "sha1sum",
        "list",
    ] {
        let template = format!("{{{{ {name} }}}}");
        assert_eq!(
            err(&template),
            TemplateError::UnsupportedFunction {
                name: name.into(),
                offset: 3
            }
        );
    }
}

#[test]
fn refuses_constants_it_cannot_represent() {
    for template in [
        "{{ 1.5 }}",
        "{{ 1e3 }}",
        "{{ 1_000 }}",
        "{{ 1i }}",
        "{{ 'a' }}",
        "{{ 0x1p4 }}",
        "{{ .é }}",
    ] {
        assert!(
            matches!(err(template), TemplateError::Unsupported { .. }),
            "{template}"
        );
    }
}

#[test]
fn arity_and_type_errors() {
    assert_eq!(
        err(r#"{{ upper "a" "b" }}"#),
        TemplateError::WrongArgCount {
            function: "upper".into(),
            want: "1".into(),
            got: 2,
            offset: 3
        }
    );
    assert_eq!(
        err("{{ printf }}"),
        TemplateError::WrongArgCount {
            function: "printf".into(),
            want: "at least 1".into(),
            got: 0,
            offset: 3
        }
    );
    assert!(matches!(
        err("{{ .a | replace \"x\" }}"),
        TemplateError::WrongArgCount { got: 2, .. }
    ));
    for template in [
        "{{ upper 3 }}",
        "{{ upper true }}",
        "{{ upper nil }}",
        "{{ upper . }}",
        "{{ upper .missing }}",
        "{{ .missing | upper }}",
        r#"{{ repeat "3" "a" }}"#,
        r#"{{ repeat .num "a" }}"#,
        "{{ 3 | repeat 2 }}",
    ] {
        assert!(
            matches!(err(template), TemplateError::WrongArgType { .. }),
            "{template}"
        );
    }
    assert_eq!(
        err("{{ upper .missing }}").to_string(),
        "wrong type for argument of upper at offset 9: expected string, got no value"
    );
}

#[test]
fn failing_calls_are_errors() {
    for template in [
        r#"{{ repeat -1 "a" }}"#,
        r#"{{ substr 4 2 "hello" }}"#,
        r#"{{ substr 10 11 "hello" }}"#,
        r#"{{ indent -1 "a" }}"#,
        "{{ len 3 }}",
        "{{ len .missing }}",
        r#"{{ index .missing "a" }}"#,
        "{{ index . 1 }}",
        "{{ index . .missing }}",
        r#"{{ index "abc" 3 }}"#,
        r#"{{ index . "a" "b" }}"#,
    ] {
        assert!(
            matches!(err(template), TemplateError::CallFailed { .. }),
            "{template}"
        );
    }
}

#[test]
fn execution_and_syntax_errors() {
    for template in [
        "{{ nil }}",
        "{{ .a.b }}",
        r#"{{ .a "x" }}"#,
        r#"{{ "a" | $ }}"#,
        r#"{{ "a" "b" }}"#,
        "{{ (.a) .b }}",
        "{{ coalesce.x }}",
    ] {
        assert!(
            matches!(err(template), TemplateError::Exec { .. }),
            "{template}"
        );
    }
    for template in [
        "{{",
        "{{ .a",
        "{{ }}",
        "{{ () }}",
        "{{ (.a }}",
        "{{ .a) }}",
        "{{ .a | | upper }}",
        "{{ | upper }}",
        "{{ .a | \"x\" }}",
        "{{ \"unterminated }}",
        "{{ `unterminated }}",
        r#"{{ "\q" }}"#,
        r#"{{ "\'" }}"#,
        r#"{{ "a
b" }}"#,
        "{{ .a,.b }}",
        "{{ 3- }}",
        "{{ 09 }}",
        "{{ \"a\".b }}",
    ] {
        assert!(
            matches!(err(template), TemplateError::Syntax { .. }),
            "{template}"
        );
    }
}

#[test]
fn limits() {
    let deep = format!(
        "{{{{ {}.a{} }}}}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert_eq!(ok(&deep), b"x");
    let deeper = format!(
        "{{{{ {}.a{} }}}}",
        "(".repeat(MAX_NESTING + 1),
        ")".repeat(MAX_NESTING + 1)
    );
    assert!(matches!(err(&deeper), TemplateError::TooDeep { .. }));
    assert!(matches!(
        err(r#"{{ repeat 20000000 "a" }}"#),
        TemplateError::TooLarge { .. }
    ));
    assert!(matches!(
        err(r#"{{ repeat 9223372036854775807 "ab" }}"#),
        TemplateError::TooLarge { .. }
    ));
    assert_eq!(ok(r#"{{ repeat 100000 "abcdefgh" | trunc 3 }}"#), b"abc");
    assert!(matches!(
        err(r#"{{ repeat 200000 "abcdefgh" | trunc 3 }}"#),
        TemplateError::TooLarge { .. }
    ));
    assert_eq!(ok(r#"{{ repeat 9223372036854775807 "" }}"#), b"");
    let big = data_of(&[("v", &vec![b'a'; 3 << 20])]);
    let many = "{{ .v }}".repeat(6);
    assert!(matches!(
        render(&many, &big),
        Err(TemplateError::TooLarge { .. })
    ));
}

/// Finding: a ~1 KB object with a few dozen `repeat 16000000` values took 869 MiB. One
/// budget per object bounds the sum, and each call's input is bounded too.
#[test]
fn one_budget_bounds_all_values_of_an_object() {
    let data = data();
    let mut budget = Budget::per_object();
    let value = r#"{{ repeat 1000000 "x" }}"#;
    let mut rendered = 0;
    let failure = loop {
        match render_within(value, &data, &mut budget) {
            Ok(out) => rendered += out.len(),
            Err(e) => break e,
        }
        assert!(rendered <= MAX_BUILT_PER_OBJECT, "budget not enforced");
    };
    assert!(
        matches!(failure, TemplateError::TooMuchOutput { .. }),
        "{failure}"
    );
    // Intermediates count: each value builds 1 MB twice (repeat, then the output).
    assert!(rendered >= MAX_BUILT_PER_OBJECT / 3, "{rendered}");
    // A fresh budget renders again.
    assert!(render(value, &data).is_ok());

    let steps = "{{ len . }}".repeat(MAX_STEPS_PER_OBJECT as usize / 2 + 1);
    assert!(matches!(
        render(&steps, &data),
        Err(TemplateError::TooManySteps { .. })
    ));
    // printf widths and many arguments cannot amplify past the value cap.
    let wide = format!(
        "{{{{ printf \"{}\"{} }}}}",
        "%999999d".repeat(50),
        " 1".repeat(50)
    );
    assert!(matches!(err(&wide), TemplateError::TooLarge { .. }));
    let big = data_of(&[("v", &vec![b'a'; 600_000])]);
    assert!(matches!(
        render("{{ print .v .v .v }}", &big),
        Err(TemplateError::TooLarge { .. })
    ));
    assert!(matches!(
        render("{{ print . . . }}", &big),
        Err(TemplateError::TooLarge { .. })
    ));
    assert_eq!(
        render(r#"{{ index . "v" | len }}"#, &big).unwrap(),
        b"600000"
    );
}

#[test]
fn errors_never_contain_item_values() {
    let secret = "s3cr3t-VALUE";
    let items = data_of(&[("pw", secret.as_bytes()), ("n", b"12")]);
    for template in [
        "{{ upper (len .pw) }}",
        "{{ .pw.x }}",
        r#"{{ .pw "arg" }}"#,
        "{{ index .pw 99 }}",
        "{{ index .n .pw }}",
        "{{ substr 50 60 .pw }}",
        "{{ repeat .n .pw }}",
        "{{ len (upper .pw | lt 3) }}",
        "{{ .pw | printf \"%d\" | upper 3 }}",
        "{{ .n | index .pw }}",
        "{{ .pw | trunc 1 | nindent }}",
        r#"{{ .pw | b64dec | upper | repeat -1 }}"#,
    ] {
        let e = render(template, &items).expect_err(template);
        let text = format!("{e} {e:?}");
        assert!(!text.contains("s3cr3t"), "{template}: {text}");
    }
}

fn fragment() -> impl Strategy<Value = String> {
    let pieces = [
        "{{",
        "}}",
        "{{- ",
        " -}}",
        "{{/*",
        "*/}}",
        " ",
        "\n",
        "(",
        ")",
        "|",
        ".",
        "$",
        ".a",
        ".bin",
        ".missing",
        "\"%s\"",
        "\"%5d|%-q\"",
        "\"\\xff\"",
        "`r`",
        "\"",
        "`",
        "'",
        "0x1f",
        "-3",
        "1.5",
        "9999999999999999999",
        "true",
        "nil",
        "upper",
        "title",
        "quote",
        "toJson",
        "b64dec",
        "printf",
        "index",
        "len",
        "repeat",
        "substr",
        "trunc",
        "indent",
        "replace",
        "default",
        "cat",
        "trimAll",
        "nospace",
        "range",
        "if",
        "end",
        "env",
        "$x",
        ":=",
        "=",
        ",",
        "é",
        "\u{2028}",
    ];
    prop::collection::vec(prop::sample::select(pieces.to_vec()), 0..24).prop_map(|v| v.concat())
}

fn items() -> impl Strategy<Value = Data> {
    prop::collection::btree_map(
        "[a-c]|bin|missing",
        prop::collection::vec(any::<u8>(), 0..12),
        0..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(template in any::<String>(), data in items()) {
        let _ = render(&template, &data);
    }

    #[test]
    fn never_panics_on_template_like_text(template in fragment(), data in items()) {
        let _ = render(&template, &data);
    }

    #[test]
    fn text_without_delimiters_is_copied(text in "[^{]*") {
        prop_assert_eq!(render(&text, &Data::new()).unwrap(), text.as_bytes());
    }
}
