//! Evaluation: Go's exec.go, on the object's [`Budget`](super::Budget).

use std::cell::{Cell, RefCell};

use super::cx::Cx;
use super::error::{MAX_RENDERED_LEN, MAX_TEMPLATE_DEPTH, TemplateError, exec_error, too_large};
use super::format::fmt_value;
use super::funcs::{Func, Ty};
use super::lexer::Num;
use super::parser::{Arg, ArgKind, Command, Control, Node, Parsed, Pipeline};
use super::value::{Bytes, Data, IntTy, ListTy, MapTy, Value, truth};

/// Executes `parsed` (named `name`, if it has a name) with `data` as the dot.
pub(super) fn execute<'a>(
    src: &'a str,
    parsed: &'a Parsed,
    name: Option<&str>,
    data: &'a Data,
    cx: &Cx<'a>,
) -> Result<Vec<u8>, TemplateError> {
    let root = match (&parsed.root, name) {
        (Some(root), _) => root,
        (None, Some(name)) => parsed
            .trees
            .get(name)
            .ok_or_else(|| exec_error(0, format!("template {name:?} not defined")))?,
        (None, None) => return Err(exec_error(0, "no template")),
    };
    let dot = Value::Items(data);
    let exec = Exec {
        src: src.as_bytes(),
        parsed,
        cx,
        vars: RefCell::new(vec![("$".into(), dot.clone())]),
        depth: Cell::new(0),
        data_len: data.iter().map(|(k, v)| k.len() + v.len() + 2).sum(),
    };
    let mut out = Vec::new();
    exec.walk(&dot, root, &mut out)?;
    Ok(out)
}

enum Flow {
    Normal,
    Break,
    Continue,
}

struct Exec<'a, 'c> {
    src: &'a [u8],
    parsed: &'a Parsed,
    cx: &'c Cx<'a>,
    vars: RefCell<Vec<(String, Value<'a>)>>,
    depth: Cell<usize>,
    /// What printing the dot costs, for the size check before a call.
    data_len: usize,
}

impl<'a> Exec<'a, '_> {
    fn write(&self, out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), TemplateError> {
        if out.len() + bytes.len() > MAX_RENDERED_LEN {
            return Err(too_large());
        }
        self.cx.spend_bytes(bytes.len())?;
        out.extend_from_slice(bytes);
        Ok(())
    }

    fn walk(
        &self,
        dot: &Value<'a>,
        list: &'a [Node],
        out: &mut Vec<u8>,
    ) -> Result<Flow, TemplateError> {
        for node in list {
            match node {
                Node::Text(range) => {
                    self.write(out, self.src.get(range.clone()).unwrap_or_default())?
                }
                Node::Action(pipe) => {
                    let value = self.pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        let mut printed = Vec::new();
                        match value {
                            Value::Nil => printed.extend_from_slice(b"<no value>"),
                            value => fmt_value(&value, &mut printed)
                                .map_err(|e| e.at("print", pipe.pos))?,
                        }
                        self.write(out, &printed)?;
                    }
                }
                Node::If(ctl) => match self.if_or_with(dot, ctl, false, out)? {
                    Flow::Normal => {}
                    flow => return Ok(flow),
                },
                Node::With(ctl) => match self.if_or_with(dot, ctl, true, out)? {
                    Flow::Normal => {}
                    flow => return Ok(flow),
                },
                Node::Range(ctl) => self.range(dot, ctl, out)?,
                Node::Template { pos, name, pipe } => {
                    self.template(dot, *pos, name, pipe.as_ref(), out)?
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn if_or_with(
        &self,
        dot: &Value<'a>,
        ctl: &'a Control,
        with: bool,
        out: &mut Vec<u8>,
    ) -> Result<Flow, TemplateError> {
        let mark = self.vars.borrow().len();
        let result = (|| {
            let value = self.pipeline(dot, &ctl.pipe)?;
            if truth(&value) {
                let dot = if with { &value } else { dot };
                self.walk(dot, &ctl.list, out)
            } else if let Some(else_list) = &ctl.else_list {
                self.walk(dot, else_list, out)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.borrow_mut().truncate(mark);
        result
    }

    fn range(
        &self,
        dot: &Value<'a>,
        ctl: &'a Control,
        out: &mut Vec<u8>,
    ) -> Result<(), TemplateError> {
        let mark = self.vars.borrow().len();
        let result = self.range_inner(dot, ctl, out);
        self.vars.borrow_mut().truncate(mark);
        result
    }

    fn range_inner(
        &self,
        dot: &Value<'a>,
        ctl: &'a Control,
        out: &mut Vec<u8>,
    ) -> Result<(), TemplateError> {
        let pipe = &ctl.pipe;
        let value = self.pipeline(dot, pipe)?;
        let mark = self.vars.borrow().len();
        // Returns whether the loop is to stop.
        let mut iteration = |index: Value<'a>, elem: Value<'a>| -> Result<bool, TemplateError> {
            self.cx.spend_steps(1)?;
            if !pipe.decl.is_empty() {
                if pipe.is_assign {
                    let first = if pipe.decl.len() > 1 {
                        index.clone()
                    } else {
                        elem.clone()
                    };
                    self.set_var(&pipe.decl[0], first, pipe.pos)?;
                } else {
                    self.set_top_var(1, elem.clone());
                }
            }
            if pipe.decl.len() > 1 {
                if pipe.is_assign {
                    self.set_var(&pipe.decl[1], elem.clone(), pipe.pos)?;
                } else {
                    self.set_top_var(2, index);
                }
            }
            let flow = self.walk(&elem, &ctl.list, out);
            self.vars.borrow_mut().truncate(mark);
            Ok(matches!(flow?, Flow::Break))
        };
        let ran = match &value {
            Value::Int(n, ty) => {
                if pipe.decl.len() > 1 {
                    return Err(exec_error(
                        ctl.pos,
                        "can't use an integer to iterate over more than one variable",
                    ));
                }
                let n = if *ty == IntTy::Uint8 {
                    (*n as u8).into()
                } else {
                    *n
                };
                for i in 0..n.max(0) {
                    if iteration(Value::Nil, Value::Int(i, *ty))? {
                        break;
                    }
                }
                n > 0
            }
            Value::List(list) => {
                for (i, elem) in list.items.iter().enumerate() {
                    if iteration(Value::int(i as i64), elem.clone())? {
                        break;
                    }
                }
                !list.items.is_empty()
            }
            Value::Items(_) | Value::Dict(_) => {
                let entries = value.map_entries();
                for (k, v) in &entries {
                    if iteration(Value::Str(k.clone()), v.clone())? {
                        break;
                    }
                }
                !entries.is_empty()
            }
            Value::Nil => false,
            other => {
                return Err(exec_error(
                    ctl.pos,
                    format!(
                        "range can't iterate over a value of type {}",
                        other.type_name()
                    ),
                ));
            }
        };
        if !ran && let Some(else_list) = &ctl.else_list {
            self.walk(dot, else_list, out)?;
        }
        Ok(())
    }

    fn template(
        &self,
        dot: &Value<'a>,
        pos: usize,
        name: &str,
        pipe: Option<&'a Pipeline>,
        out: &mut Vec<u8>,
    ) -> Result<(), TemplateError> {
        let Some(tree) = self.parsed.trees.get(name) else {
            return Err(exec_error(pos, format!("template {name:?} not defined")));
        };
        if self.depth.get() >= MAX_TEMPLATE_DEPTH {
            return Err(TemplateError::TooDeepCalls {
                limit: MAX_TEMPLATE_DEPTH,
                offset: pos,
            });
        }
        self.cx.spend_steps(1)?;
        let dot = match pipe {
            Some(pipe) => self.pipeline(dot, pipe)?,
            None => Value::Nil,
        };
        let saved = std::mem::replace(
            &mut *self.vars.borrow_mut(),
            vec![("$".into(), dot.clone())],
        );
        self.depth.set(self.depth.get() + 1);
        let result = self.walk(&dot, tree, out);
        self.depth.set(self.depth.get() - 1);
        *self.vars.borrow_mut() = saved;
        result.map(|_| ())
    }

    fn set_var(&self, name: &str, value: Value<'a>, pos: usize) -> Result<(), TemplateError> {
        let mut vars = self.vars.borrow_mut();
        match vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(exec_error(pos, format!("undefined variable: {name}"))),
        }
    }

    fn set_top_var(&self, n: usize, value: Value<'a>) {
        let mut vars = self.vars.borrow_mut();
        let len = vars.len();
        if let Some(slot) = vars.get_mut(len.wrapping_sub(n)) {
            slot.1 = value;
        }
    }

    fn var_value(&self, name: &str, pos: usize) -> Result<Value<'a>, TemplateError> {
        self.vars
            .borrow()
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| exec_error(pos, format!("undefined variable: {name}")))
    }

    fn pipeline(&self, dot: &Value<'a>, pipe: &'a Pipeline) -> Result<Value<'a>, TemplateError> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone(), pipe.pos)?;
            } else {
                self.vars.borrow_mut().push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn command(
        &self,
        dot: &Value<'a>,
        cmd: &'a Command,
        fin: Option<Value<'a>>,
    ) -> Result<Value<'a>, TemplateError> {
        self.cx.spend_steps(1)?;
        let Some(first) = cmd.args.first() else {
            return Err(exec_error(0, "empty command"));
        };
        let has_args = cmd.args.len() > 1 || fin.is_some();
        let not_a_function = || {
            if has_args {
                Err(exec_error(first.pos, "can't give argument to non-function"))
            } else {
                Ok(())
            }
        };
        match &first.kind {
            ArgKind::Func(f) => self.call(dot, f, &cmd.args[1..], fin, first.pos),
            ArgKind::Field(names) => self.fields(dot.clone(), names, has_args, first.pos),
            ArgKind::Var(name, names) => {
                let value = self.var_value(name, first.pos)?;
                if names.is_empty() {
                    not_a_function()?;
                    Ok(value)
                } else {
                    self.fields(value, names, has_args, first.pos)
                }
            }
            ArgKind::Chain(inner, names) => {
                let receiver = self.chain_receiver(dot, inner)?;
                self.fields(receiver, names, has_args, first.pos)
            }
            ArgKind::Pipe(pipe) => {
                not_a_function()?;
                self.pipeline(dot, pipe)
            }
            ArgKind::Nil => {
                not_a_function()?;
                Err(exec_error(first.pos, "nil is not a command"))
            }
            ArgKind::Dot | ArgKind::Bool(_) | ArgKind::Number(_) | ArgKind::Str(_) => {
                not_a_function()?;
                self.untyped(dot, first)
            }
        }
    }

    /// Field lookups (Go's evalFieldChain): on a map, a missing key is Go's invalid value;
    /// on an invalid value the result stays invalid; through a present nil it is an error.
    fn fields(
        &self,
        mut receiver: Value<'a>,
        names: &[String],
        has_args: bool,
        pos: usize,
    ) -> Result<Value<'a>, TemplateError> {
        let mut present_nil = false;
        for (i, name) in names.iter().enumerate() {
            if present_nil {
                return Err(exec_error(
                    pos,
                    format!("nil pointer evaluating interface {{}}.{name}"),
                ));
            }
            receiver = match receiver {
                Value::Nil => return Ok(Value::Nil),
                Value::Items(_) | Value::Dict(_) => {
                    if has_args && i + 1 == names.len() {
                        let reason = format!("{name} is not a method but has arguments");
                        return Err(exec_error(pos, reason));
                    }
                    match receiver.map_get(name.as_bytes()) {
                        Some(v) => {
                            present_nil = matches!(v, Value::Nil);
                            v
                        }
                        None => Value::Nil,
                    }
                }
                Value::Cert(c) if !has_args || i + 1 < names.len() => match name.as_str() {
                    "Cert" => Value::Str(Bytes::Shared(c.cert.as_slice().into())),
                    "Key" => Value::Str(Bytes::Shared(c.key.as_slice().into())),
                    _ => {
                        let reason =
                            format!("can't evaluate field {name} in type sprig.certificate");
                        return Err(exec_error(pos, reason));
                    }
                },
                Value::Time(_) => {
                    // Go calls time.Time's methods (.Year, .Unix, ...); not reproduced.
                    return Err(super::error::unsupported(
                        pos,
                        format!("method {name} of time.Time"),
                    ));
                }
                other => {
                    let reason =
                        format!("can't evaluate field {name} in type {}", other.type_name());
                    return Err(exec_error(pos, reason));
                }
            };
        }
        Ok(receiver)
    }

    fn chain_receiver(&self, dot: &Value<'a>, inner: &'a Arg) -> Result<Value<'a>, TemplateError> {
        match &inner.kind {
            // Go calls the function and gets an interface value that it does not unwrap;
            // a nil one cannot have fields.
            ArgKind::Func(f) => match self.call(dot, f, &[], None, inner.pos)? {
                Value::Nil => Err(exec_error(inner.pos, "nil pointer evaluating field")),
                value => Ok(value),
            },
            _ => self.untyped(dot, inner),
        }
    }

    /// Go's idealConstant: a number in a context without a type.
    fn ideal(&self, num: &Num, pos: usize) -> Result<Value<'a>, TemplateError> {
        let text = &num.text;
        let hex_int = {
            let t = text.trim_start_matches(['+', '-']);
            t.len() > 2 && (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P'])
        };
        let rune = text.starts_with('\'');
        if let Some(f) = num.float
            && !hex_int
            && !rune
            && text.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Value::Float(f));
        }
        if let Some(i) = num.int {
            return Ok(Value::int(i));
        }
        Err(exec_error(pos, format!("{text} overflows int")))
    }

    /// The value of an operand, untyped (Go's evalArg for `interface{}`).
    fn untyped(&self, dot: &Value<'a>, node: &'a Arg) -> Result<Value<'a>, TemplateError> {
        Ok(match &node.kind {
            ArgKind::Dot => dot.clone(),
            ArgKind::Nil => Value::Nil,
            ArgKind::Bool(b) => Value::Bool(*b),
            ArgKind::Number(n) => self.ideal(n, node.pos)?,
            ArgKind::Str(s) => Value::Str(Bytes::Borrowed(s)),
            ArgKind::Field(names) => self.fields(dot.clone(), names, false, node.pos)?,
            ArgKind::Var(name, names) => {
                let value = self.var_value(name, node.pos)?;
                if names.is_empty() {
                    value
                } else {
                    self.fields(value, names, false, node.pos)?
                }
            }
            ArgKind::Func(f) => self.call(dot, f, &[], None, node.pos)?,
            ArgKind::Pipe(pipe) => self.pipeline(dot, pipe)?,
            ArgKind::Chain(inner, names) => {
                let receiver = self.chain_receiver(dot, inner)?;
                self.fields(receiver, names, false, node.pos)?
            }
        })
    }

    /// An argument converted to a parameter type, failing where Go's evalArg fails.
    fn arg(
        &self,
        dot: &Value<'a>,
        node: &'a Arg,
        ty: Ty,
        function: &str,
    ) -> Result<Value<'a>, TemplateError> {
        let wrong = |got: &str| TemplateError::WrongArgType {
            function: function.into(),
            expected: ty.name().into(),
            got: got.into(),
            offset: node.pos,
        };
        match (&node.kind, ty) {
            (ArgKind::Nil, _) if ty.can_be_nil() => return Ok(Value::Nil),
            (ArgKind::Nil, _) => return Err(wrong("nil")),
            (ArgKind::Bool(b), Ty::Bool) => return Ok(Value::Bool(*b)),
            (ArgKind::Number(n), Ty::Int) => {
                return n
                    .int
                    .map(Value::int)
                    .ok_or_else(|| wrong("a non-integer number"));
            }
            // Go's evalUnsignedInteger: reflect's SetUint truncates to 32 bits.
            (ArgKind::Number(n), Ty::Uint32) => {
                return n
                    .uint
                    .map(|u| Value::int(i64::from(u as u32)))
                    .ok_or_else(|| wrong("a number that is not an unsigned integer"));
            }
            (ArgKind::Number(n), Ty::Float) => {
                return n.float.map(Value::Float).ok_or_else(|| wrong("number"));
            }
            (ArgKind::Str(s), Ty::Str) => return Ok(Value::Str(Bytes::Borrowed(s))),
            (ArgKind::Bool(_), Ty::Any)
            | (ArgKind::Number(_), Ty::Any)
            | (ArgKind::Str(_), Ty::Any) => {
                return self.untyped(dot, node);
            }
            (ArgKind::Bool(_), _) => return Err(wrong("bool constant")),
            (ArgKind::Number(_), _) => return Err(wrong("number constant")),
            (ArgKind::Str(_), _) => return Err(wrong("string constant")),
            _ => {}
        }
        let value = self.untyped(dot, node)?;
        check_type(value, ty, function, node.pos)
    }

    fn call(
        &self,
        dot: &Value<'a>,
        f: &'static Func,
        args: &'a [Arg],
        fin: Option<Value<'a>>,
        pos: usize,
    ) -> Result<Value<'a>, TemplateError> {
        let num_in = args.len() + usize::from(fin.is_some());
        let fixed = f.params.len();
        let arity_ok = if f.variadic.is_some() {
            num_in >= fixed
        } else {
            num_in == fixed
        };
        if !arity_ok {
            let want = if f.variadic.is_some() {
                format!("at least {fixed}")
            } else {
                fixed.to_string()
            };
            return Err(TemplateError::WrongArgCount {
                function: f.name.into(),
                want,
                got: num_in,
                offset: pos,
            });
        }
        let param = |i: usize| f.params.get(i).copied().or(f.variadic).unwrap_or(Ty::Any);
        if f.name == "and" || f.name == "or" {
            // Short-circuit: the deciding value is the result.
            let mut last = Value::Nil;
            for node in args {
                let v = self.arg(dot, node, Ty::Any, f.name)?;
                if truth(&v) == (f.name == "or") {
                    return Ok(v);
                }
                last = v;
            }
            return Ok(fin.unwrap_or(last));
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, node) in args.iter().enumerate() {
            argv.push(self.arg(dot, node, param(i), f.name)?);
        }
        if let Some(value) = fin {
            argv.push(check_type(value, param(num_in - 1), f.name, pos)?);
        }
        // sprig's certificate struct reaches only the functions whose handling of a struct
        // is implemented; anything else might differ from Go.
        if argv.iter().any(|v| matches!(v, Value::Cert(_))) && !CERT_FUNCS.contains(&f.name) {
            return Err(super::error::unsupported(
                pos,
                format!("sprig.certificate argument to {}", f.name),
            ));
        }
        if super::funcs::refuses_time(f, &argv) {
            let what = format!("time.Time argument to {}", f.name);
            return Err(super::error::unsupported(pos, what));
        }
        let weight: u64 = argv.iter().map(scan_weight).sum();
        self.cx.spend_steps(1 + weight)?;
        // Every function's output is bounded by the value cap (checked as it is built);
        // refusing oversized input here bounds the work of each call. The dot itself may
        // be passed once (`index . "key"`) whatever its size.
        let input: usize = argv.iter().map(|v| self.printed_len(v)).sum();
        if input > MAX_RENDERED_LEN + self.data_len {
            return Err(too_large());
        }
        let value = (f.imp)(self.cx, argv).map_err(|e| match e {
            super::error::FnError::Fail(message) => {
                // The message is shown only when it is the template's own text.
                let literal = matches!(args.first().map(|a| &a.kind), Some(ArgKind::Str(_)));
                TemplateError::Fail {
                    message: if literal {
                        message
                    } else {
                        "(message not shown: it is computed and may hold item values)".into()
                    },
                    offset: pos,
                }
            }
            e => e.at(f.name, pos),
        })?;
        if let Value::Str(Bytes::Shared(s)) = &value {
            self.cx.spend_bytes(s.len())?;
        }
        Ok(value)
    }

    /// An upper bound of the bytes a value prints as (shallow for lists and maps, whose
    /// printing checks the cap as it goes).
    fn printed_len(&self, value: &Value<'_>) -> usize {
        match value {
            Value::Str(s) => s.len(),
            Value::Items(_) => self.data_len + 5,
            _ => 20,
        }
    }
}

/// The functions that accept sprig's certificate struct.
const CERT_FUNCS: &[&str] = &[
    "print",
    "println",
    "toString",
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "genSignedCert",
    "genSignedCertWithKey",
];

/// Extra evaluation steps a call costs for its input: one per KiB of string, one per 16
/// list or map elements.
fn scan_weight(value: &Value<'_>) -> u64 {
    match value {
        Value::Str(s) => (s.len() / 1024) as u64,
        Value::List(l) => (l.items.len() / 16) as u64,
        Value::Dict(d) => (d.borrow().entries.len() / 16) as u64,
        _ => 0,
    }
}

/// Go's validateType: whether a computed value may be passed as `ty`.
pub(super) fn check_type<'a>(
    value: Value<'a>,
    ty: Ty,
    function: &str,
    offset: usize,
) -> Result<Value<'a>, TemplateError> {
    let ok = match (ty, &value) {
        (Ty::Any, _) => true,
        (_, Value::Nil) => ty.can_be_nil(),
        (Ty::Str, Value::Str(_))
        | (Ty::Int, Value::Int(_, IntTy::Int))
        | (Ty::Float, Value::Float(_))
        | (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Dict, Value::Dict(d)) => d.borrow().ty == MapTy::Any,
        (Ty::List, Value::List(l)) => l.ty == ListTy::Any,
        (Ty::Cert, Value::Cert(_)) => true,
        (Ty::Time, Value::Time(_)) => true,
        _ => false,
    };
    if ok {
        return Ok(value);
    }
    Err(TemplateError::WrongArgType {
        function: function.into(),
        expected: ty.name().into(),
        got: if let Value::Nil = value {
            "no value"
        } else {
            value.type_name()
        }
        .into(),
        offset,
    })
}
