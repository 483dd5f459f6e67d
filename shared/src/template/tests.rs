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

/// The items of the "default" set in `shared/tests/data/template/cases.json`.
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

fn env() -> Context<rand::rngs::StdRng> {
    use rand::SeedableRng as _;
    Context {
        now: time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        rng: rand::rngs::StdRng::seed_from_u64(7),
    }
}

fn with_env(template: &str) -> Result<Vec<u8>, TemplateError> {
    render_with(
        "k",
        template,
        &data(),
        &mut Budget::per_object(),
        &mut env(),
    )
}

#[test]
fn template_names_and_definitions() {
    // The template is named by its key: it can call itself, and a definition of that name
    // replaces an empty body.
    let mut budget = Budget::per_object();
    let run = |t: &str, b: &mut Budget| render_with("k", t, &data(), b, &mut Hermetic);
    assert_eq!(run(r#"{{define "k"}}d{{end}}"#, &mut budget).unwrap(), b"d");
    // Without the name (render_within), that case is refused, never rendered otherwise.
    assert!(matches!(
        err(r#"{{define "k"}}d{{end}}"#),
        TemplateError::Unsupported { .. }
    ));
    assert!(matches!(
        err(r#"{{template "value"}}"#),
        TemplateError::Exec { .. }
    ));
    assert_eq!(
        ok(r#"{{define "T"}}<{{.}}>{{end}}{{template "T" .a}}"#),
        b"<x>"
    );
}

#[test]
fn recursion_and_loops_are_bounded() {
    // Infinite recursion through a template: refused at the depth limit.
    let e = with_env(r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#).unwrap_err();
    assert!(matches!(e, TemplateError::TooDeepCalls { .. }), "{e}");
    // Self-recursion by key name.
    let e = with_env(r#"x{{template "k" .}}"#).unwrap_err();
    assert!(matches!(e, TemplateError::TooDeepCalls { .. }), "{e}");
    // Wide recursion (each level calls twice): the step budget stops it long before 2^32.
    let e = with_env(
        r#"{{define "w"}}{{if lt (len .) 32}}{{template "w" (append . 1)}}{{template "w" (append . 1)}}{{end}}{{end}}{{template "w" (list)}}"#,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TemplateError::TooManySteps { .. } | TemplateError::TooDeepCalls { .. }
        ),
        "{e}"
    );
    // Huge lists are refused before they are built.
    for t in [
        "{{ until 100000000 }}",
        "{{ untilStep 0 9223372036854775807 1 }}",
        "{{ seq 100000000 }}",
        "{{ len (until 9223372036854775807) }}",
    ] {
        let e = with_env(t).unwrap_err();
        assert!(matches!(e, TemplateError::CallFailed { .. }), "{t}: {e}");
    }
    // Nested ranges: every iteration costs a step.
    let e = with_env("{{range until 1000}}{{range until 1000}}{{end}}{{end}}").unwrap_err();
    assert!(matches!(e, TemplateError::TooManySteps { .. }), "{e}");
    // Range over a huge integer.
    let e = with_env("{{range 9223372036854775807}}{{end}}").unwrap_err();
    assert!(matches!(e, TemplateError::TooManySteps { .. }), "{e}");
    // A map that contains itself: printing stops at the depth limit, and nothing leaks.
    let e = with_env(r#"{{$d := dict}}{{$_ := set $d "me" $d}}{{$d}}"#).unwrap_err();
    assert!(matches!(e, TemplateError::CallFailed { .. }), "{e}");
    let e = with_env(r#"{{$d := dict}}{{$_ := set $d "me" $d}}{{toJson $d}}"#);
    assert_eq!(e.unwrap(), b"", "toJson drops json's error, as sprig does");
    // Deep nesting of control structures is refused at parse time.
    let deep = format!(
        "{}x{}",
        "{{if 1}}".repeat(MAX_NESTING + 1),
        "{{end}}".repeat(MAX_NESTING + 1)
    );
    assert!(matches!(err(&deep), TemplateError::TooDeep { .. }));
    let fine = format!(
        "{}x{}",
        "{{if 1}}".repeat(MAX_NESTING),
        "{{end}}".repeat(MAX_NESTING)
    );
    assert_eq!(ok(&fine), b"x");
    // Lists doubling in a loop hit the list cap, then the byte budget.
    let e = with_env("{{$l := list 1}}{{range until 40}}{{$l = concat $l $l}}{{end}}{{len $l}}")
        .unwrap_err();
    assert!(
        matches!(
            e,
            TemplateError::CallFailed { .. } | TemplateError::TooMuchOutput { .. }
        ),
        "{e}"
    );
}

/// The deepest recursion a template can cause runs in a small (1 MiB) stack.
#[test]
fn deep_templates_fit_a_small_stack() {
    let nested_parens = format!("{}.a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    let body = format!(
        "{}{{{{ {nested_parens} }}}}{}",
        "{{if 1}}".repeat(MAX_NESTING),
        "{{end}}".repeat(MAX_NESTING)
    );
    let template = format!(
        r#"{{{{define "r"}}}}{body}{{{{template "r" .}}}}{{{{end}}}}{{{{template "r" .}}}}"#
    );
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || with_env(&template))
        .unwrap();
    let result = handle.join().expect("no stack overflow");
    assert!(result.is_err());
}

#[test]
fn random_and_time_functions_use_the_environment() {
    // Without an environment they are refused, naming the function.
    for name in [
        "randAlphaNum 8",
        "randAlpha 8",
        "randNumeric 8",
        "randAscii 8",
        "randBytes 8",
        "uuidv4",
        "shuffle \"abc\"",
        "randInt 1 9",
        "bcrypt \"x\"",
        "htpasswd \"u\" \"p\"",
        "genPrivateKey \"rsa\"",
        "genPrivateKey \"\"",
        "genPrivateKey \"ecdsa\"",
        "genPrivateKey \"ed25519\"",
        "encryptAES \"k\" \"x\"",
        "genCA \"x\" 1",
        "genSelfSignedCert \"x\" nil nil 1",
        "now",
        "date \"2006\" \"x\"",
        "dateInZone \"2006\" nil \"UTC\"",
        "htmlDate .a",
        "ago 0",
        "ago \"x\"",
        "durationRound (toDate \"2006\" \"2020\")",
    ] {
        let template = format!("{{{{ {name} }}}}");
        let e = err(&template);
        assert!(
            matches!(e, TemplateError::NoEnvironment { .. }),
            "{name}: {e}"
        );
        assert!(
            e.to_string().contains(name.split(' ').next().unwrap()),
            "{e}"
        );
    }
    // With one, the shape is Go's and a fixed environment renders the same every time.
    type Shape = fn(&[u8]) -> bool;
    let shapes: [(&str, Shape); 7] = [
        ("{{ randAlphaNum 12 }}", |o| {
            o.len() == 12 && o.iter().all(u8::is_ascii_alphanumeric)
        }),
        ("{{ randAlpha 12 }}", |o| {
            o.len() == 12 && o.iter().all(u8::is_ascii_alphabetic)
        }),
        ("{{ randNumeric 12 }}", |o| {
            o.len() == 12 && o.iter().all(u8::is_ascii_digit)
        }),
        ("{{ randAscii 12 }}", |o| {
            o.len() == 12 && o.iter().all(|c| (32..127).contains(c))
        }),
        ("{{ randBytes 12 | b64dec | len }}", |o| o == b"12"),
        ("{{ uuidv4 }}", |o| {
            let s = std::str::from_utf8(o).unwrap();
            s.len() == 36
                && s.as_bytes()[14] == b'4'
                && "89ab".contains(s.as_bytes()[19] as char)
                && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        }),
        ("{{ shuffle \"abcdef\" | len }}{{ randInt 3 4 }}", |o| {
            o == b"63"
        }),
    ];
    for (template, shape) in shapes {
        let a = with_env(template).unwrap();
        assert!(shape(&a), "{template}: {:?}", String::from_utf8_lossy(&a));
        assert_eq!(with_env(template).unwrap(), a, "{template} deterministic");
    }
    assert_ne!(
        with_env("{{ randAlphaNum 32 }}{{ randAlphaNum 32 }}").unwrap()[..32],
        with_env("{{ randAlphaNum 32 }}{{ randAlphaNum 32 }}").unwrap()[32..]
    );
    assert_eq!(with_env("{{ randAlphaNum -1 }}").unwrap(), b"");
    // The clock: 1,700,000,000 is 2023-11-14 22:13:20 UTC.
    for (template, want) in [
        (
            "{{ now | date \"2006-01-02 15:04:05 MST\" }}",
            "2023-11-14 22:13:20 UTC",
        ),
        ("{{ date \"2006-01-02\" \"not a time\" }}", "2023-11-14"),
        (
            "{{ htmlDate .a }}|{{ htmlDateInZone nil \"UTC\" }}",
            "2023-11-14|2023-11-14",
        ),
        ("{{ now | unixEpoch }}", "1700000000"),
        ("{{ now | dateModify \"-1h\" | date \"15:04\" }}", "21:13"),
        (
            "{{ ago now }}|{{ ago 1699999000 }}|{{ ago (int64 1700003600) }}",
            "0s|16m40s|-1h0m0s",
        ),
        ("{{ ago \"x\" }}|{{ ago 1.5 }}", "0s|0s"),
        ("{{ toDate \"2006\" \"2020\" | ago }}", "33934h13m20s"),
        ("{{ durationRound (toDate \"2006\" \"2020\") }}", "3y"),
        (
            "{{ typeOf now }}|{{ kindOf now }}|{{ if now }}true{{ end }}",
            "time.Time|struct|true",
        ),
    ] {
        assert_eq!(
            String::from_utf8(with_env(template).unwrap()).unwrap(),
            want,
            "{template}"
        );
    }
}

/// Go prints `time.Now()` with its monotonic reading (` m=+0.000012345`), which cannot be
/// reproduced: printing it is refused, formatting it is not.
#[test]
fn the_time_now_is_not_printed() {
    for template in [
        "{{ now }}",
        "{{ print now }}",
        "{{ printf \"%v\" now }}",
        "{{ toString now }}",
        "{{ now | dateModify \"1h\" }}",
        "{{ quote now }}",
    ] {
        let e = with_env(template).unwrap_err();
        assert!(
            matches!(e, TemplateError::Unsupported { .. }),
            "{template}: {e}"
        );
        assert!(e.to_string().contains("monotonic"), "{e}");
    }
    // dateInZone's zone conversion drops the reading, as Go's `In` does.
    assert_eq!(with_env("{{ now | date \"2006\" }}").unwrap(), b"2023");
}

#[test]
fn date_functions_refuse_what_they_cannot_match() {
    for template in [
        // IANA zones: before 1970, not spelt as in the database (Go opens a file by that
        // name), not in it, or whose rules differ between tz database versions.
        r#"{{ dateInZone "2006" -1 "Europe/Paris" }}"#,
        r#"{{ dateInZone "2006" 4102444800 "Europe/Paris" }}"#,
        r#"{{ htmlDateInZone 0 "utc" }}"#,
        r#"{{ htmlDateInZone 0 "europe/paris" }}"#,
        r#"{{ htmlDateInZone 0 "posixrules" }}"#,
        r#"{{ htmlDateInZone 0 "Europe//Paris" }}"#,
        r#"{{ htmlDateInZone 0 "America/Vancouver" }}"#,
        // Beyond the years where Go's arithmetic is exact.
        "{{ date \"2006\" 9223372036854775807 }}",
        "{{ date \"2006\" -4611686018427387905 }}",
        // time.Time's methods and struct printing.
        r#"{{ (toDate "2006" "2020").Unix }}"#,
        r#"{{ printf "%d" (toDate "2006" "2020") }}"#,
        r#"{{ eq (toDate "2006" "2020") (toDate "2006" "2020") }}"#,
        // Functions whose handling of a time.Time is not Go's here.
        r#"{{ list (toDate "2006" "2020") }}"#,
        r#"{{ dict "t" (toDate "2006" "2020") }}"#,
        r#"{{ toJson (toDate "2006" "2020") }}"#,
        r#"{{ default "x" (toDate "2006" "2020") }}"#,
        r#"{{ deepEqual (toDate "2006" "2020") 1 }}"#,
    ] {
        let e = with_env(template).unwrap_err();
        assert!(
            matches!(e, TemplateError::Unsupported { .. }),
            "{template}: {e}"
        );
    }
    assert_eq!(
        render(
            r#"{{ dateInZone "2006-01-02 15:04 MST" 1136239445 "Asia/Kolkata" }}"#,
            &data()
        )
        .unwrap(),
        b"2006-01-03 03:34 IST"
    );
    // A zone Go rejects before looking for it is UTC, as in Go.
    assert_eq!(
        render(r#"{{ dateInZone "15 MST" 0 "../x" }}"#, &data()).unwrap(),
        b"00 UTC"
    );
    // Errors are one line and name the problem, never the value.
    let e = err(r#"{{ mustToDate "2006-01-02" "secret-value" }}"#);
    assert!(matches!(e, TemplateError::CallFailed { .. }), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
    let e = err(r#"{{ toDate "2006" "2020" | mustDateModify "secret" }}"#);
    assert!(!e.to_string().contains("secret"), "{e}");
    assert!(e.to_string().contains("invalid duration"), "{e}");
}

/// A long layout is bounded by the value cap like every other output.
#[test]
fn date_output_is_bounded() {
    let t = r#"{{ date (repeat 600000 "Monday") 0 | len }}"#;
    assert_eq!(
        render(t, &data()).unwrap_err(),
        TemplateError::TooLarge {
            limit: MAX_RENDERED_LEN
        }
    );
    let t = r#"{{ date (repeat 100000 "Monday") 0 | len }}"#;
    assert_eq!(render(t, &data()).unwrap(), b"800000");
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
    for name in ["semver", "urlJoin", "semverCompare", "urlParse"] {
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
    for template in ["{{ 1i }}", "{{ 0x1p4 }}", "{{ .é }}"] {
        assert!(
            matches!(err(template), TemplateError::Unsupported { .. }),
            "{template}"
        );
    }
}

/// Every implemented name is Go's or sprig's, and the module documentation lists what is
/// refused: every known name is either implemented or named there.
#[test]
fn function_table_and_documentation_agree() {
    let implemented: Vec<&str> = super::funcs::implemented().collect();
    let doc = include_str!("mod.rs");
    for name in &implemented {
        assert!(
            super::funcs::all_known().contains(name),
            "{name} is not Go's or sprig's"
        );
    }
    for name in super::funcs::all_known() {
        if !implemented.contains(name) {
            assert!(
                doc.contains(&format!("`{name}`")),
                "{name}: neither implemented nor listed as refused"
            );
        }
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
    assert_eq!(
        err("{{ upper .missing }}").to_string(),
        "wrong type for argument of upper at offset 9: expected string, got no value"
    );
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
        "{{ fail .pw }}",
        "{{ fail (printf \"bad %s\" .pw) }}",
        "{{ if eq .pw 1 }}{{ end }}",
        "{{ range .pw }}{{ end }}",
        "{{ $x := .pw }}{{ $x.y }}",
        "{{ index (list .pw) 3 }}",
        "{{ .pw | atoi | div 1 }}",
        "{{ mustRegexMatch (printf \"%s(\" .pw) \"x\" }}",
        "{{ template \"none\" .pw }}",
        "{{ .n | index .pw }}",
        "{{ .pw | trunc 1 | nindent }}",
        "{{ decryptAES .pw .pw }}",
        "{{ decryptAES .pw (b64enc .pw) }}",
        "{{ buildCustomCert (b64enc .pw) (b64enc .pw) }}",
        "{{ buildCustomCert (b64enc (printf \"-----BEGIN CERTIFICATE-----\\n%s\\n-----END CERTIFICATE-----\\n\" .pw)) .pw }}",
        "{{ derivePassword .n \"long\" .pw .pw .pw }}",
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
        "else",
        "end",
        "with",
        "define",
        "template",
        "block",
        "break",
        "\"x\"",
        "list",
        "dict",
        "set",
        "eq",
        "and",
        "until",
        "fromJson",
        "regexReplaceAll",
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
        let _ = render_with("a", &template, &data, &mut Budget::per_object(), &mut env());
    }

    #[test]
    fn date_functions_never_panic(
        layout in "([0-9A-Za-z_.,:+ -]|Jan|Mon|MST|Z07|2006|\\.000|\\.999|__2|002|PM){0,12}",
        value in "([0-9A-Za-z_.,:+ -]|Jan|Mon|MST|GMT|UTC|Z){0,16}",
        unix in any::<i64>(),
        d in "[-+]?([0-9.]{0,22}(ns|us|µs|ms|s|m|h|x)?){0,3}",
    ) {
        let data = data_of(&[("l", layout.as_bytes()), ("v", value.as_bytes()), ("d", d.as_bytes())]);
        for template in [
            "{{ toDate .l .v }}|{{ mustToDate .l .v }}",
            "{{ toDate .l .v | date .l }}",
            "{{ toDate .l .v | dateModify .d }}|{{ toDate .l .v | mustDateModify .d }}",
            "{{ duration .d }}|{{ durationRound .d }}",
        ] {
            let _ = render(template, &data);
        }
        let _ = render(&format!("{{{{ date .l {unix} }}}}|{{{{ duration (int64 {unix}) }}}}"), &data);
        let _ = render(&format!("{{{{ toDate \"2006\" \"2020\" | dateModify \"{}ns\" }}}}", unix), &data);
        let _ = render_with("k", &format!("{{{{ ago {unix} }}}}|{{{{ durationRound (int64 {unix}) }}}}"), &data, &mut Budget::per_object(), &mut env());
    }

    #[test]
    fn text_without_delimiters_is_copied(text in "[^{]*") {
        prop_assert_eq!(render(&text, &Data::new()).unwrap(), text.as_bytes());
    }
}

/// Found by the fuzz suite: `trimAll` looked each rune up in a list, so a long value against a
/// long cutset took quadratic time (minutes). A set keeps it linear.
#[test]
fn trim_all_with_a_long_cutset_is_linear() {
    // Every rune of the value is trimmed, each found at the end of a 200,000-rune cutset.
    let t = r#"{{ trimAll (print (repeat 200000 "z") "xy") (repeat 200000 "xy") | len }}"#;
    assert_eq!(render(t, &Data::new()).unwrap(), b"0");
}

#[test]
fn crypto_refusals_and_randomness() {
    // DSA keys are refused, never generated otherwise; unknown types are sprig's value.
    assert!(matches!(
        with_env(r#"{{ genPrivateKey "dsa" }}"#),
        Err(TemplateError::Unsupported { .. })
    ));
    assert_eq!(ok(r#"{{ genPrivateKey "x" }}"#), b"Unknown type x".to_vec());
    // A seeded environment makes every random output the same twice, and distinct draws
    // differ.
    for template in [
        r#"{{ bcrypt "pw" }}"#,
        r#"{{ htpasswd "u" "pw" }}"#,
        r#"{{ encryptAES "k" "text" }}"#,
        r#"{{ genPrivateKey "ecdsa" }}"#,
        r#"{{ genPrivateKey "ed25519" }}"#,
    ] {
        let once = with_env(template).unwrap();
        assert_eq!(with_env(template).unwrap(), once, "{template}");
        let twice = with_env(&format!("{template}|{template}")).unwrap();
        let (a, b) = twice.split_at(once.len());
        assert_eq!(a, once, "{template}");
        assert_ne!(&b[1..], a, "{template}");
    }
    // derivePassword is deterministic and costs steps: the object's budget bounds the calls.
    let t = r#"{{ range until 100 }}{{ derivePassword 1 "pin" "p" "u" "s" }}{{ end }}"#;
    assert!(matches!(err(t), TemplateError::TooManySteps { .. }));
}

#[test]
fn certificate_struct_uses() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/data/template/cases.json")).unwrap();
    let items: Data = doc["data"]["crypto"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = crate::go::base64_decode(v.as_str().unwrap().as_bytes()).unwrap();
            (k.clone(), v)
        })
        .collect();
    let run = |t: &str| render(t, &items);
    let build = "buildCustomCert .ca_cert_b64 .ca_key_b64";
    let cert = &items["go_ca_cert"];
    assert_eq!(&run(&format!("{{{{ ({build}).Cert }}}}")).unwrap(), cert);
    assert_eq!(
        run(&format!(
            "{{{{ $c := {build} }}}}{{{{ typeIs \"sprig.certificate\" $c }}}}"
        ))
        .unwrap(),
        b"true"
    );
    for f in [
        "toJson",
        "quote",
        "len",
        "empty",
        "eq $c",
        "printf \"%s\"",
        "list",
    ] {
        let t = format!("{{{{ $c := {build} }}}}{{{{ {f} $c }}}}");
        assert!(
            matches!(run(&t), Err(TemplateError::Unsupported { .. })),
            "{t}"
        );
    }
    // Field errors are Go's.
    assert!(matches!(
        run(&format!("{{{{ ({build}).cert }}}}")),
        Err(TemplateError::Exec { .. })
    ));
}
