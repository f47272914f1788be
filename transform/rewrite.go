package transform

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/token"
	"github.com/dop251/goja/unistring"
)

// rewrite prepares a condition's syntax tree for the sandbox, in place:
//
//   - a + b becomes __hookflow_add(a, b), x += v becomes x = __hookflow_add(x, v) (or
//     __hookflow_addp(obj, key, v) for a property), and an untagged template literal
//     becomes one tagged with __hookflow_tpl. goja concatenates strings in a single step
//     with no size limit, so `s += s` in a loop would otherwise double the memory it
//     holds every iteration until the time limit, hundreds of megabytes on a fast
//     machine; the helpers (sandbox/0_base.js) refuse results above Limits.MaxStringLength.
//   - identifiers starting with __hookflow are refused, so that a condition cannot
//     shadow or call the helpers;
//   - BigInt literals are refused: goja computes 10n ** 10n ** 7n in one step that the
//     time limit cannot interrupt.
//
// The tree is walked by reflection over goja's ast types, so that every kind of node,
// present and future, is visited without listing them here.
func rewrite(root *ast.Expression) error {
	w := rewriter{seen: make(map[seenNode]bool)}
	w.visit(reflect.ValueOf(root).Elem())
	return w.err
}

type rewriter struct {
	// seen holds the nodes visited already: goja shares some between the tree and
	// a function's declaration list.
	seen map[seenNode]bool
	err  error
}

type seenNode struct {
	t reflect.Type
	p uintptr
}

var (
	astPkg         = reflect.TypeOf(ast.Identifier{}).PkgPath()
	identifierType = reflect.TypeOf(ast.Identifier{})
	bigIntType     = reflect.TypeOf((*big.Int)(nil))
)

func (w *rewriter) visit(v reflect.Value) {
	if w.err != nil {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		key := seenNode{v.Type(), v.Pointer()}
		if v.IsNil() || w.seen[key] {
			return
		}
		w.seen[key] = true
		w.visit(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		w.visit(v.Elem())
		if w.err != nil || !v.CanSet() {
			return
		}
		if repl := w.replacement(v.Elem().Interface()); repl != nil {
			rv := reflect.ValueOf(repl)
			if !rv.Type().AssignableTo(v.Type()) {
				// Fail closed rather than leave an unguarded + behind.
				w.err = fmt.Errorf("unsupported syntax around %T", v.Elem().Interface())
				return
			}
			v.Set(rv)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			w.visit(v.Index(i))
		}
	case reflect.Struct:
		if v.Type().PkgPath() != astPkg {
			return // file.File and other bookkeeping
		}
		if v.Type() == identifierType {
			w.checkName(v.Interface().(ast.Identifier).Name)
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				w.visit(v.Field(i))
			}
		}
	}
}

func (w *rewriter) checkName(name unistring.String) {
	if strings.HasPrefix(string(name), reservedPrefix) {
		w.err = fmt.Errorf("identifiers starting with %s are reserved", reservedPrefix)
	}
}

// replacement returns what node becomes, or nil to keep it. Its children are already
// rewritten.
func (w *rewriter) replacement(node any) ast.Expression {
	switch n := node.(type) {
	case *ast.NumberLiteral:
		if reflect.TypeOf(n.Value) == bigIntType {
			w.err = errors.New("BigInt values are not supported in conditions")
		}
	case *ast.BinaryExpression:
		if n.Operator == token.PLUS {
			return call(helperAdd, n.Idx0(), n.Idx1(), n.Left, n.Right)
		}
	case *ast.AssignExpression:
		if n.Operator == token.PLUS {
			return w.compoundAdd(n)
		}
	case *ast.RegExpLiteral:
		// goja compiles literals when the condition is compiled, before any time limit.
		if regexpSize(n.Pattern, maxRegexpSize) > maxRegexpSize {
			w.err = errRegexpTooLarge
		}
	case *ast.TemplateLiteral:
		if n.Tag == nil {
			n.Tag = &ast.Identifier{Name: helperTpl, Idx: n.OpenQuote}
		}
	}
	return nil
}

// compoundAdd rewrites target += value so that the target is evaluated once, as the
// compound assignment evaluates it.
func (w *rewriter) compoundAdd(n *ast.AssignExpression) ast.Expression {
	refused := errors.New("+= on this target is not supported in conditions; write a = a + b")
	switch t := n.Left.(type) {
	case *ast.Identifier:
		again := *t
		return &ast.AssignExpression{Operator: token.ASSIGN, Left: t,
			Right: call(helperAdd, n.Idx0(), n.Idx1(), &again, n.Right)}
	case *ast.DotExpression:
		if _, ok := t.Left.(*ast.SuperExpression); ok {
			w.err = refused
			return nil
		}
		key := &ast.StringLiteral{Idx: t.Identifier.Idx, Literal: strconv.Quote(string(t.Identifier.Name)),
			Value: t.Identifier.Name}
		return call(helperAddp, n.Idx0(), n.Idx1(), t.Left, key, n.Right)
	case *ast.BracketExpression:
		if _, ok := t.Left.(*ast.SuperExpression); ok {
			w.err = refused
			return nil
		}
		return call(helperAddp, n.Idx0(), n.Idx1(), t.Left, t.Member, n.Right)
	case *ast.PrivateDotExpression:
		// A private name cannot travel as a key; re-evaluating the object is harmless
		// only when it is this or a variable.
		switch obj := t.Left.(type) {
		case *ast.ThisExpression, *ast.Identifier:
			again := *t
			if id, ok := obj.(*ast.Identifier); ok {
				idCopy := *id
				again.Left = &idCopy
			}
			return &ast.AssignExpression{Operator: token.ASSIGN, Left: t,
				Right: call(helperAdd, n.Idx0(), n.Idx1(), &again, n.Right)}
		}
	}
	w.err = refused
	return nil
}

func call(helper string, from, to file.Idx, args ...ast.Expression) *ast.CallExpression {
	return &ast.CallExpression{
		Callee:           &ast.Identifier{Name: unistring.String(helper), Idx: from},
		LeftParenthesis:  from,
		ArgumentList:     args,
		RightParenthesis: to - 1,
	}
}
