// Command gitops-health gives the verdicts of the two GitOps tools users run on a SealedSecret:
//
//   - Flux's kstatus: sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute (what Flux's `wait` and
//     health checks read; Flux builds with its fork github.com/fluxcd/cli-utils, whose status
//     package is the same code under another import path);
//   - Argo CD's built-in health check for bitnami.com/SealedSecret: the health.lua that Argo CD
//     ships in resource_customizations/, run under github.com/yuin/gopher-lua the way Argo CD's
//     util/lua runs a built-in health script (standard libraries open, the object as the global
//     table `obj`, a one-second limit, the returned table read as {status, message}).
//
// The Lua script is not part of this repository: tests/gitops/build.sh copies it, with Argo CD's
// own test cases, from the Argo CD Go module (pinned there) into the cache next to the binary.
//
// Usage:
//
//	gitops-health verdict [-argo-dir DIR] < object.json   one JSON line {"kstatus":{..},"argocd":{..}}
//	gitops-health argo-testdata [-argo-dir DIR]           runs Argo CD's own cases; exit 1 on a mismatch
//	gitops-health versions                                the pinned versions, as JSON
//
// DIR defaults to ../share/argo-cd/SealedSecret next to the binary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// Verdict is one tool's reading of an object.
type Verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// Verdicts is what `verdict` prints.
type Verdicts struct {
	Kstatus Verdict `json:"kstatus"`
	ArgoCD  Verdict `json:"argocd"`
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	argoDir := fs.String("argo-dir", defaultArgoDir(), "directory of Argo CD's SealedSecret health.lua, health_test.yaml and testdata/")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "verdict":
		err = verdictCmd(*argoDir, os.Stdin, os.Stdout)
	case "argo-testdata":
		err = argoTestdataCmd(*argoDir, os.Stdout)
	case "versions":
		err = versionsCmd(*argoDir, os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gitops-health %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gitops-health verdict|argo-testdata|versions [-argo-dir DIR]")
	os.Exit(2)
}

func defaultArgoDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(exe), "..", "share", "argo-cd", "SealedSecret")
}

// decode reads one object as client-go does (integers as int64), so both tools see what they
// see in a controller reading from the API server.
func decode(data []byte) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

func verdictCmd(argoDir string, in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	u, err := decode(data)
	if err != nil {
		return fmt.Errorf("decoding the object on stdin: %w", err)
	}
	script, err := os.ReadFile(filepath.Join(argoDir, "health.lua"))
	if err != nil {
		return err
	}
	k, err := kstatus(u)
	if err != nil {
		return fmt.Errorf("kstatus: %w", err)
	}
	a, err := argoHealth(u.Object, string(script))
	if err != nil {
		return fmt.Errorf("argo cd health.lua: %w", err)
	}
	return json.NewEncoder(out).Encode(Verdicts{Kstatus: k, ArgoCD: a})
}

func kstatus(u *unstructured.Unstructured) (Verdict, error) {
	res, err := status.Compute(u)
	if err != nil {
		return Verdict{}, err
	}
	return Verdict{Status: res.Status.String(), Message: res.Message}, nil
}

// The health codes Argo CD accepts from a script (gitops-engine's HealthStatusCode values);
// anything else reads as Unknown.
var argoHealthCodes = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true,
	"Healthy": true, "Degraded": true, "Missing": true,
}

// argoHealth runs a built-in health script as Argo CD does: a fresh Lua state with the
// standard libraries (Argo CD opens them for its built-in scripts), `obj` set to the object,
// a one-second deadline; the value the script returns must be a table (or nil, meaning no
// verdict), which is encoded to JSON and read as {status, message}.
func argoHealth(obj map[string]any, script string) (Verdict, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return Verdict{}, err
	}
	ret := l.Get(-1)
	switch ret.Type() {
	case lua.LTNil:
		return Verdict{}, nil
	case lua.LTTable:
	default:
		return Verdict{}, fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
	encoded, err := luajson.Encode(ret)
	if err != nil {
		return Verdict{}, err
	}
	var v Verdict
	if err := json.Unmarshal(encoded, &v); err != nil {
		// An empty table encodes as [] and reads as an empty verdict.
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Value == "array" {
			return Verdict{}, nil
		}
		return Verdict{}, err
	}
	if !argoHealthCodes[v.Status] {
		return Verdict{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return v, nil
}

// toLua converts a decoded object into Lua values: maps to tables keyed by string, slices to
// sequences, numbers to numbers (json.Number to a string, as Argo CD does), null to nil.
func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case json.Number:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case int32:
		return lua.LNumber(x)
	case int:
		return lua.LNumber(x)
	case []any:
		t := l.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

// argoTests is the shape of Argo CD's health_test.yaml.
type argoTests struct {
	Tests []struct {
		InputPath    string  `json:"inputPath"`
		HealthStatus Verdict `json:"healthStatus"`
	} `json:"tests"`
}

// argoTestdataCmd runs every case of Argo CD's health_test.yaml against health.lua under this
// harness, and fails on any mismatch, on no cases, or on a testdata file no case uses.
func argoTestdataCmd(argoDir string, out io.Writer) error {
	script, err := os.ReadFile(filepath.Join(argoDir, "health.lua"))
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(argoDir, "health_test.yaml"))
	if err != nil {
		return err
	}
	var tests argoTests
	if err := yaml.Unmarshal(raw, &tests); err != nil {
		return fmt.Errorf("health_test.yaml: %w", err)
	}
	if len(tests.Tests) == 0 {
		return errors.New("health_test.yaml has no cases")
	}
	used := map[string]bool{}
	failed := 0
	for _, tc := range tests.Tests {
		used[filepath.Clean(tc.InputPath)] = true
		got, err := runArgoCase(argoDir, tc.InputPath, string(script))
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(out, "FAIL %s: %v\n", tc.InputPath, err)
		case got != tc.HealthStatus:
			failed++
			fmt.Fprintf(out, "FAIL %s: got %s %q, want %s %q\n", tc.InputPath, got.Status, got.Message,
				tc.HealthStatus.Status, tc.HealthStatus.Message)
		default:
			fmt.Fprintf(out, "ok   %s: %s %q\n", tc.InputPath, got.Status, got.Message)
		}
	}
	files, err := filepath.Glob(filepath.Join(argoDir, "testdata", "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		rel, _ := filepath.Rel(argoDir, f)
		if !used[rel] {
			failed++
			fmt.Fprintf(out, "FAIL %s: no case in health_test.yaml\n", rel)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d failures over %d Argo CD cases: the harness does not reproduce Argo CD", failed, len(tests.Tests))
	}
	fmt.Fprintf(out, "%d passed, 0 failed\n", len(tests.Tests))
	return nil
}

func runArgoCase(argoDir, inputPath, script string) (Verdict, error) {
	raw, err := os.ReadFile(filepath.Join(argoDir, inputPath))
	if err != nil {
		return Verdict{}, err
	}
	data, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return Verdict{}, err
	}
	u, err := decode(data)
	if err != nil {
		return Verdict{}, err
	}
	return argoHealth(u.Object, script)
}

func versionsCmd(argoDir string, out io.Writer) error {
	v := map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		v["go"] = info.GoVersion
		for _, d := range info.Deps {
			switch d.Path {
			case "sigs.k8s.io/cli-utils", "github.com/yuin/gopher-lua", "layeh.com/gopher-json", "k8s.io/apimachinery":
				v[d.Path] = d.Version
			}
		}
	}
	argo, err := os.ReadFile(filepath.Join(argoDir, "..", "VERSION"))
	if err != nil {
		return err
	}
	v["github.com/argoproj/argo-cd/v3"] = strings.TrimSpace(string(argo))
	return json.NewEncoder(out).Encode(v)
}
