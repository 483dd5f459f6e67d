package main

import "strings"

// sprig's snakecase and kebabcase (xstrings.ToSnakeCase, ToKebabCase), on ASCII words of
// every shape xstrings tells apart: capitals, runs of capitals, digits, connectors,
// punctuation and symbols.
func init() {
	words := []string{
		"", "a", "A", "HTTPStatus", "HTTP2xx", "Bld4Floor", "firstName", "FirstName", "first_name",
		"first-name", "first name", "  lead", "trail  ", "a__b", "a--b", "a_-_b", "ID", "userID",
		"userIDs", "IDCard", "x1", "1x", "12abc", "abc12", "ABC12", "ABC12def", "a1B2c3", "99Bottles",
		"foo.bar", "foo..Bar", "Foo.Bar", "a$b", "A$B", "a+b=c", "a!B?c", "(Hello)World", "[A]", "{x}",
		"a/b\\c", "__init__", "--flag", "A-B_C D", "snake_Case", "kebab-Case", "MixedCase_With-All of It",
		"ABCdef", "aBC", "aBCd", "a1", "A1", "A1b", "1A", "1a", "#tag", "a#b", "\ttab\nnl", "a~b`c^d|e",
		"XMLHttpRequest", "getHTTPResponseCode", "version1.2.3", "v1.2.3-rc1", "HelloWorld123Foo",
		"a 1 b", "A 1 B", "1 2 3", "a.1.b", "_", "-", " ", "...", "a...", "...a", "1...2", "A.", ".A",
	}
	var b strings.Builder
	for _, w := range words {
		b.WriteString(`{{snakecase "` + strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, `"`, `\"`).Replace(w) + `"}}|`)
	}
	snake := b.String()
	handCases = append(handCases,
		tcase{"strings", snake, "default"},
		tcase{"strings", strings.ReplaceAll(snake, "snakecase", "kebabcase"), "default"},
		tcase{"strings", `{{snakecase .uni}}`, "default"},
		tcase{"strings", `{{kebabcase .html}}|{{snakecase .password}}|{{kebabcase .ws}}|{{snakecase .nl}}|{{kebabcase .b64}}`, "default"},
		tcase{"types", `{{snakecase 1}}`, "default"},
	)
}
