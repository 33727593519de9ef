package lvmmeta

import (
	"fmt"
	"strconv"
	"strings"
)

// The LVM2 text format (backup and archive files, metadata areas, lvm.conf):
//
//	file    = { item }
//	item    = name "=" value | name "{" { item } "}"
//	value   = string | number | "[" [ scalar { "," scalar } [","] ] "]"
//	comment = "#" ... end of line
//
// Strings are double-quoted with backslash escapes, or single-quoted
// without escapes. Text stored in a metadata area ends at a NUL byte.

// Pos is a position in a text, 1-based.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// SyntaxError is a parse or model error at a position in the text.
type SyntaxError struct {
	Pos
	Msg string
}

func (e *SyntaxError) Error() string { return e.Pos.String() + ": " + e.Msg }

// ValueKind says what a Value holds.
type ValueKind int

const (
	KindString ValueKind = iota
	KindInt
	KindFloat
	KindList
)

// Value is the right-hand side of an assignment.
type Value struct {
	Kind  ValueKind
	Str   string
	Int   int64
	Float float64
	List  []Value
	Pos   Pos
}

// Field is one "name = value" assignment.
type Field struct {
	Name  string
	Pos   Pos
	Value Value
}

// Section is a "name { ... }" block; the whole file is an unnamed section.
type Section struct {
	Name     string
	Pos      Pos
	Fields   []Field
	Sections []*Section
}

// Field returns the named assignment, or nil.
func (s *Section) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Section returns the named subsection, or nil.
func (s *Section) Section(name string) *Section {
	for _, c := range s.Sections {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// maxDepth bounds nesting; real metadata nests four deep (vg, lvs, lv, segment).
const maxDepth = 32

// Parse parses text in the LVM2 text format into a tree. Parsing stops at
// a NUL byte, as LVM does for text read from a metadata area.
func Parse(text []byte) (*Section, error) {
	p := &parser{src: text, line: 1, col: 1}
	root := &Section{Pos: Pos{1, 1}}
	if err := p.items(root, 0); err != nil {
		return nil, err
	}
	return root, nil
}

type parser struct {
	src       []byte
	off       int
	line, col int
}

func (p *parser) pos() Pos { return Pos{p.line, p.col} }

func (p *parser) errorf(at Pos, format string, args ...any) error {
	return &SyntaxError{Pos: at, Msg: fmt.Sprintf(format, args...)}
}

// peek returns the next byte, or 0 at the end (NUL ends the text too).
func (p *parser) peek() byte {
	if p.off >= len(p.src) {
		return 0
	}
	return p.src[p.off]
}

func (p *parser) advance() {
	if p.src[p.off] == '\n' {
		p.line++
		p.col = 1
	} else {
		p.col++
	}
	p.off++
}

// skip passes whitespace and comments.
func (p *parser) skip() {
	for {
		switch c := p.peek(); {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.advance()
		case c == '#':
			for p.peek() != '\n' && p.peek() != 0 {
				p.advance()
			}
		default:
			return
		}
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '+' || c == '-' || c == '/' || c == '@'
}

// items parses the body of sec up to "}" (depth > 0) or the end of text.
func (p *parser) items(sec *Section, depth int) error {
	for {
		p.skip()
		at := p.pos()
		c := p.peek()
		switch {
		case c == 0:
			if depth > 0 {
				return p.errorf(at, "section %q (opened at %s) is not closed", sec.Name, sec.Pos)
			}
			return nil
		case c == '}':
			if depth == 0 {
				return p.errorf(at, "unexpected '}'")
			}
			p.advance()
			return nil
		case !isNameByte(c):
			return p.errorf(at, "expected a name, found %q", c)
		}
		start := p.off
		for isNameByte(p.peek()) {
			p.advance()
		}
		name := string(p.src[start:p.off])
		p.skip()
		switch p.peek() {
		case '{':
			if depth+1 > maxDepth {
				return p.errorf(at, "sections nested deeper than %d", maxDepth)
			}
			p.advance()
			child := &Section{Name: name, Pos: at}
			if err := p.items(child, depth+1); err != nil {
				return err
			}
			sec.Sections = append(sec.Sections, child)
		case '=':
			p.advance()
			p.skip()
			v, err := p.value(true)
			if err != nil {
				return err
			}
			sec.Fields = append(sec.Fields, Field{Name: name, Pos: at, Value: v})
		default:
			return p.errorf(p.pos(), "expected '=' or '{' after %q", name)
		}
	}
}

func (p *parser) value(listOK bool) (Value, error) {
	at := p.pos()
	switch c := p.peek(); {
	case c == '"' || c == '\'':
		s, err := p.quoted(c)
		return Value{Kind: KindString, Str: s, Pos: at}, err
	case c == '[' && listOK:
		p.advance()
		v := Value{Kind: KindList, Pos: at, List: []Value{}}
		for {
			p.skip()
			if p.peek() == ']' {
				p.advance()
				return v, nil
			}
			e, err := p.value(false)
			if err != nil {
				return v, err
			}
			v.List = append(v.List, e)
			p.skip()
			switch p.peek() {
			case ',':
				p.advance()
			case ']':
			default:
				return v, p.errorf(p.pos(), "expected ',' or ']' in the list opened at %s", at)
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		start := p.off
		// Take every name byte, so "4x" is one bad number, not 4 and x.
		for isNameByte(p.peek()) {
			p.advance()
		}
		lit := string(p.src[start:p.off])
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return Value{Kind: KindInt, Int: n, Pos: at}, nil
		}
		if f, err := strconv.ParseFloat(lit, 64); err == nil && strings.Contains(lit, ".") {
			return Value{Kind: KindFloat, Float: f, Pos: at}, nil
		}
		return Value{}, p.errorf(at, "bad number %q", lit)
	case c == 0:
		return Value{}, p.errorf(at, "expected a value, found the end of the text")
	default:
		return Value{}, p.errorf(at, "expected a value, found %q", c)
	}
}

// quoted reads a string closed by quote; in a double-quoted string a
// backslash escapes the next byte.
func (p *parser) quoted(quote byte) (string, error) {
	at := p.pos()
	p.advance()
	var b strings.Builder
	for {
		c := p.peek()
		switch {
		case c == 0:
			return "", p.errorf(at, "string is not closed")
		case c == quote:
			p.advance()
			return b.String(), nil
		case c == '\\' && quote == '"':
			p.advance()
			if p.peek() == 0 {
				return "", p.errorf(at, "string is not closed")
			}
			c = p.peek()
		}
		b.WriteByte(c)
		p.advance()
	}
}
