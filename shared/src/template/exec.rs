//! Evaluation: Go's exec.go with the dot fixed to the map of items, on a [`Budget`].

use std::borrow::Cow;

use super::error::{
    MAX_BUILT_PER_OBJECT, MAX_RENDERED_LEN, MAX_STEPS_PER_OBJECT, TemplateError, exec_error,
    too_large,
};
use super::format::fmt_value;
use super::funcs::{Func, Ty};
use super::parser::{Command, Item, Node, NodeKind, Pipeline};
use super::value::{Data, Value, borrowed, owned};

/// What the templates of one object may still spend. One budget is shared by every
/// `spec.template.data` value of an object, so many small values cannot add up to a large cost.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    bytes_left: usize,
    steps_left: u64,
}

impl Budget {
    /// The budget of one object: [`MAX_BUILT_PER_OBJECT`] bytes, [`MAX_STEPS_PER_OBJECT`] steps.
    pub fn per_object() -> Budget {
        Budget {
            bytes_left: MAX_BUILT_PER_OBJECT,
            steps_left: MAX_STEPS_PER_OBJECT,
        }
    }

    fn spend_bytes(&mut self, n: usize) -> Result<(), TemplateError> {
        self.bytes_left = self
            .bytes_left
            .checked_sub(n)
            .ok_or(TemplateError::TooMuchOutput {
                limit: MAX_BUILT_PER_OBJECT,
            })?;
        Ok(())
    }

    fn spend_step(&mut self) -> Result<(), TemplateError> {
        self.steps_left = self
            .steps_left
            .checked_sub(1)
            .ok_or(TemplateError::TooManySteps {
                limit: MAX_STEPS_PER_OBJECT,
            })?;
        Ok(())
    }
}

/// Executes the parsed `items` of `template` with `data` as the dot, spending from `budget`.
pub(super) fn execute(
    template: &str,
    items: &[Item],
    data: &Data,
    budget: &mut Budget,
) -> Result<Vec<u8>, TemplateError> {
    let exec = Exec {
        data,
        data_len: data.iter().map(|(k, v)| k.len() + v.len() + 2).sum(),
        budget: std::cell::Cell::new(*budget),
    };
    let src = template.as_bytes();
    let mut out = Vec::new();
    let result = (|| {
        for item in items {
            let before = out.len();
            match item {
                Item::Text(range) => {
                    out.extend_from_slice(src.get(range.clone()).unwrap_or_default())
                }
                Item::Action(pipe) => match exec.pipeline(pipe)? {
                    Value::Nil => out.extend_from_slice(b"<no value>"),
                    value => fmt_value(&value, &mut out),
                },
            }
            if out.len() > MAX_RENDERED_LEN {
                return Err(too_large());
            }
            exec.spend_bytes(out.len() - before)?;
        }
        Ok(())
    })();
    *budget = exec.budget.get();
    result.map(|()| out)
}

struct Exec<'a> {
    data: &'a Data,
    /// What printing the dot costs, for the size check before a call.
    data_len: usize,
    budget: std::cell::Cell<Budget>,
}

impl<'a> Exec<'a> {
    fn spend_bytes(&self, n: usize) -> Result<(), TemplateError> {
        let mut budget = self.budget.get();
        let spent = budget.spend_bytes(n);
        self.budget.set(budget);
        spent
    }

    fn spend_step(&self) -> Result<(), TemplateError> {
        let mut budget = self.budget.get();
        let spent = budget.spend_step();
        self.budget.set(budget);
        spent
    }

    /// An upper bound of the bytes a value prints as.
    fn printed_len(&self, value: &Value<'_>) -> usize {
        match value {
            Value::Str(s) => s.len(),
            Value::Map(_) => self.data_len + 5,
            _ => 20,
        }
    }

    fn pipeline(&self, pipe: &Pipeline) -> Result<Value<'a>, TemplateError> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(cmd, value)?);
        }
        Ok(value.unwrap_or(Value::Nil))
    }

    fn command(&self, cmd: &Command, fin: Option<Value<'a>>) -> Result<Value<'a>, TemplateError> {
        self.spend_step()?;
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
            NodeKind::Func(f) => self.call(f, &cmd.args[1..], fin, first.pos),
            NodeKind::Field(names) => {
                self.fields(Value::Map(self.data), names, has_args, first.pos)
            }
            NodeKind::Root(names) if names.is_empty() => {
                not_a_function()?;
                Ok(Value::Map(self.data))
            }
            NodeKind::Root(names) => self.fields(Value::Map(self.data), names, has_args, first.pos),
            NodeKind::Chain(inner, names) => {
                let receiver = self.chain_receiver(inner)?;
                self.fields(receiver, names, has_args, first.pos)
            }
            NodeKind::Pipe(pipe) => {
                not_a_function()?;
                self.pipeline(pipe)
            }
            NodeKind::Nil => {
                not_a_function()?;
                Err(exec_error(first.pos, "nil is not a command"))
            }
            NodeKind::Dot | NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Str(_) => {
                not_a_function()?;
                self.value(first)
            }
        }
    }

    /// Field lookups: on the map, a missing key is Go's invalid value; on an invalid value
    /// the result stays invalid (Go returns its zero `reflect.Value` without complaint).
    fn fields(
        &self,
        mut receiver: Value<'a>,
        names: &[String],
        has_args: bool,
        pos: usize,
    ) -> Result<Value<'a>, TemplateError> {
        for (i, name) in names.iter().enumerate() {
            receiver = match receiver {
                Value::Nil => return Ok(Value::Nil),
                Value::Map(map) => {
                    if has_args && i + 1 == names.len() {
                        let reason = format!("{name} is not a method but has arguments");
                        return Err(exec_error(pos, reason));
                    }
                    map.get(name.as_str()).map_or(Value::Nil, |v| borrowed(v))
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

    fn chain_receiver(&self, inner: &Node) -> Result<Value<'a>, TemplateError> {
        match &inner.kind {
            // Go calls the function and gets an interface value that it does not unwrap;
            // a nil one cannot have fields.
            NodeKind::Func(f) => match self.call(f, &[], None, inner.pos)? {
                Value::Nil => Err(exec_error(inner.pos, "nil pointer evaluating field")),
                value => Ok(value),
            },
            _ => self.value(inner),
        }
    }

    /// The value of an operand, untyped (Go's evalArg for `interface{}`).
    fn value(&self, node: &Node) -> Result<Value<'a>, TemplateError> {
        Ok(match &node.kind {
            NodeKind::Dot => Value::Map(self.data),
            NodeKind::Nil => Value::Nil,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::Int(*i),
            NodeKind::Str(s) => {
                self.spend_bytes(s.len())?;
                owned(s.clone())
            }
            NodeKind::Field(names) => self.fields(Value::Map(self.data), names, false, node.pos)?,
            NodeKind::Root(names) => self.fields(Value::Map(self.data), names, false, node.pos)?,
            NodeKind::Func(f) => self.call(f, &[], None, node.pos)?,
            NodeKind::Pipe(pipe) => self.pipeline(pipe)?,
            NodeKind::Chain(inner, names) => {
                let receiver = self.chain_receiver(inner)?;
                self.fields(receiver, names, false, node.pos)?
            }
        })
    }

    /// An argument converted to a parameter type, failing where Go's evalArg fails.
    fn arg(&self, node: &Node, ty: Ty, function: &str) -> Result<Value<'a>, TemplateError> {
        let literal = match (&node.kind, ty) {
            (NodeKind::Nil, Ty::Any) => return Ok(Value::Nil),
            (NodeKind::Nil, _) => Some("nil"),
            (NodeKind::Bool(_), Ty::Str | Ty::Int) => Some("bool constant"),
            (NodeKind::Int(_), Ty::Str) => Some("number constant"),
            (NodeKind::Str(_), Ty::Int) => Some("string constant"),
            _ => None,
        };
        if let Some(got) = literal {
            return Err(TemplateError::WrongArgType {
                function: function.into(),
                expected: ty.name().into(),
                got: got.into(),
                offset: node.pos,
            });
        }
        let value = self.value(node)?;
        check_type(value, ty, function, node.pos)
    }

    fn call(
        &self,
        f: &'static Func,
        args: &[Node],
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
        let mut argv = Vec::with_capacity(num_in);
        for (i, node) in args.iter().enumerate() {
            argv.push(self.arg(node, param(i), f.name)?);
        }
        if let Some(value) = fin {
            argv.push(check_type(value, param(num_in - 1), f.name, pos)?);
        }
        self.spend_step()?;
        // Every function's output is a bounded multiple of its input (or checked by the
        // function itself, as `repeat` is): refusing oversized input here bounds each call.
        // The dot itself may be passed once (`index . "key"`) whatever its size.
        let input: usize = argv.iter().map(|v| self.printed_len(v)).sum();
        if input > MAX_RENDERED_LEN + self.data_len {
            return Err(too_large());
        }
        let value = (f.imp)(argv).map_err(|e| e.at(f.name, pos))?;
        if let Value::Str(Cow::Owned(s)) = &value {
            self.spend_bytes(s.len())?;
        }
        Ok(value)
    }
}

fn check_type<'a>(
    value: Value<'a>,
    ty: Ty,
    function: &str,
    offset: usize,
) -> Result<Value<'a>, TemplateError> {
    match (ty, &value) {
        (Ty::Any, _) | (Ty::Str, Value::Str(_)) | (Ty::Int, Value::Int(_)) => Ok(value),
        _ => Err(TemplateError::WrongArgType {
            function: function.into(),
            expected: ty.name().into(),
            got: if let Value::Nil = value {
                "no value"
            } else {
                value.type_name()
            }
            .into(),
            offset,
        }),
    }
}
