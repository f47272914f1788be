package transform

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// condition is a compiled condition. It is immutable; every evaluation instantiates
// it afresh (see vm.function).
type condition struct {
	src  string
	prog *goja.Program
	// stateless is set when the source is an arrow function literal: such a function
	// has no state that outlives a call (no name to reach itself by, no arguments
	// object, no this of its own, and the globals are frozen), so one instance per
	// runtime may serve every evaluation. Anything else, such as a function
	// expression or a call returning a closure, is instantiated for each evaluation.
	stateless bool
}

// The condition's source is compiled inside an arrow function whose parameters carry
// the helpers of the sandbox prelude (sandbox.go). Being parameters rather than
// globals, the helpers are not visible on globalThis; an arrow has no arguments object
// through which a condition could reach them; and the names are reserved, so a
// condition cannot shadow them.
const (
	reservedPrefix = "__hookflow"
	helperAdd      = "__hookflow_add"
	helperTpl      = "__hookflow_tpl"
	helperAddp     = "__hookflow_addp"
	wrapperHead    = "((" + helperAdd + ", " + helperTpl + ", " + helperAddp + ") => (\n"
	wrapperTail    = "\n))"
)

// compileCondition checks and compiles the source of a condition. Its errors are
// messages for a ConfigError. Whether the source evaluates to a function is checked
// later, by running it (Engine.instantiate), since an expression such as an immediately
// invoked function can only be judged by running it.
func compileCondition(src string, maxBytes int) (*condition, error) {
	if len(src) > maxBytes {
		return nil, fmt.Errorf("condition is longer than %d bytes", maxBytes)
	}
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("condition is empty; write a function such as (x) => x > 10")
	}
	// Alone, in parentheses so that "function (x) {…}" reads as an expression, the
	// source must be one expression: this catches syntax errors with positions in the
	// user's own text, and source that would close the wrapper's parentheses.
	lines := countLines(src)
	alone, err := parse("(\n"+src+"\n)", lines)
	if err != nil {
		return nil, err
	}
	expr, ok := onlyExpression(alone)
	if !ok {
		return nil, errors.New("the condition must be a single expression, such as (x) => x > 10")
	}
	if err := checkShape(expr); err != nil {
		return nil, err
	}

	prg, err := parse(wrapperHead+src+wrapperTail, lines)
	if err != nil {
		return nil, err
	}
	outer, ok := onlyExpression(prg)
	arrow, isArrow := outer.(*ast.ArrowFunctionLiteral)
	if !ok || !isArrow {
		return nil, errors.New("the condition must be a single expression")
	}
	body, ok := arrow.Body.(*ast.ExpressionBody)
	if !ok {
		return nil, errors.New("the condition must be a single expression")
	}
	if err := rewrite(&body.Expression); err != nil {
		return nil, err
	}
	prog, err := goja.CompileAST(prg, false)
	if err != nil {
		return nil, fmt.Errorf("invalid JavaScript: %s", clip(err.Error(), 200))
	}
	_, arrowLiteral := expr.(*ast.ArrowFunctionLiteral)
	return &condition{src: src, prog: prog, stateless: arrowLiteral}, nil
}

// parse parses a program whose line 1 is a wrapper's opening and whose lines 2 to
// lines+1 are the condition. Source maps are disabled: a //# sourceMappingURL comment
// would otherwise make the parser read a file named by the condition.
func parse(src string, lines int) (*ast.Program, error) {
	prg, err := parser.ParseFile(nil, "condition", src, 0, parser.WithDisableSourceMaps)
	if err == nil {
		return prg, nil
	}
	var list parser.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return nil, fmt.Errorf("JavaScript syntax error: %s", clip(err.Error(), 200))
	}
	pos := list[0].Position
	if pos.Line-1 > lines {
		return nil, errors.New("JavaScript syntax error: unexpected end of the condition")
	}
	line, col := pos.Line-1, pos.Column
	if line < 1 {
		line, col = 1, 1
	}
	return nil, fmt.Errorf("JavaScript syntax error at line %d, column %d: %s", line, col, clip(list[0].Message, 200))
}

// countLines counts the lines of src as JavaScript does: \n, \r, \r\n, U+2028 and
// U+2029 end a line.
func countLines(src string) int {
	n := 1
	for i, r := range src {
		switch r {
		case '\n', '\u2028', '\u2029':
			n++
		case '\r':
			if i+1 == len(src) || src[i+1] != '\n' {
				n++
			}
		}
	}
	return n
}

// onlyExpression returns the expression of a program that is exactly one expression
// statement.
func onlyExpression(prg *ast.Program) (ast.Expression, bool) {
	if len(prg.Body) != 1 {
		return nil, false
	}
	st, ok := prg.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return nil, false
	}
	return st.Expression, true
}

// checkShape refuses, before anything runs, sources whose value is plainly not a
// synchronous function. Other expressions (a call returning a function, say) are judged
// by running them.
func checkShape(expr ast.Expression) error {
	switch e := expr.(type) {
	case *ast.ArrowFunctionLiteral:
		if e.Async {
			return errors.New("the condition must be a synchronous function; async functions return a Promise, which is not awaited")
		}
	case *ast.FunctionLiteral:
		if e.Async {
			return errors.New("the condition must be a synchronous function; async functions return a Promise, which is not awaited")
		}
		if e.Generator {
			return errors.New("the condition must be a plain function, not a generator")
		}
	case *ast.ClassLiteral:
		return errors.New("the condition must be a function, not a class")
	case *ast.NumberLiteral, *ast.StringLiteral, *ast.BooleanLiteral, *ast.NullLiteral,
		*ast.ObjectLiteral, *ast.ArrayLiteral, *ast.RegExpLiteral, *ast.TemplateLiteral:
		return errNotFunction
	}
	return nil
}
