//! sprig's float arithmetic (`add1f`, `addf`, `subf`, `mulf`, `divf`): each argument becomes
//! shopspring/decimal's `NewFromFloat` of `cast.ToFloat64` (the shortest decimal that reads back
//! as the same float64), the operation is exact in decimal (division rounds to 16 places), and
//! the result is the nearest float64. So `addf 0.1 0.2` is 0.3, not 0.30000000000000004.

use num_bigint::{BigInt, Sign};

use super::cx::Cx;
use super::error::{FnError, failed};
use super::funcs::R;
use super::sprig::to_f64;
use super::value::Value;

/// shopspring/decimal's `DivisionPrecision`: places after the point of a quotient.
const DIVISION_PRECISION: i64 = 16;

/// value × 10^exp.
struct Decimal {
    value: BigInt,
    exp: i64,
}

impl Decimal {
    fn from_f64(x: f64) -> Result<Decimal, FnError> {
        if !x.is_finite() {
            return Err(failed(&format!(
                "Cannot create a Decimal from {}",
                if x.is_nan() {
                    "NaN"
                } else if x > 0.0 {
                    "+Inf"
                } else {
                    "-Inf"
                }
            )));
        }
        if x == 0.0 {
            return Ok(Decimal {
                value: BigInt::default(),
                exp: 0,
            });
        }
        // `{:e}` is Rust's shortest round-trip form (d.ddde±x), as Go's roundShortest.
        let text = format!("{x:e}");
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let fraction = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i64;
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let value: BigInt = digits.parse().map_err(|_| failed("bad float"))?;
        Ok(Decimal {
            value,
            exp: exp - fraction,
        })
    }

    /// The nearest float64 (big.Rat's Float64: correctly rounded, ±Inf when too large).
    fn to_f64(&self) -> f64 {
        format!("{}e{}", self.value, self.exp)
            .parse()
            .unwrap_or(0.0)
    }

    fn scaled_to(&self, exp: i64) -> Result<BigInt, FnError> {
        Ok(&self.value * pow10(self.exp - exp)?)
    }

    fn add(&self, other: &Decimal) -> Result<Decimal, FnError> {
        let exp = self.exp.min(other.exp);
        Ok(Decimal {
            value: self.scaled_to(exp)? + other.scaled_to(exp)?,
            exp,
        })
    }

    fn sub(&self, other: &Decimal) -> Result<Decimal, FnError> {
        let exp = self.exp.min(other.exp);
        Ok(Decimal {
            value: self.scaled_to(exp)? - other.scaled_to(exp)?,
            exp,
        })
    }

    fn mul(&self, other: &Decimal) -> Decimal {
        Decimal {
            value: &self.value * &other.value,
            exp: self.exp + other.exp,
        }
    }

    /// shopspring's `DivRound(d2, 16)`: the quotient truncated to 16 places, then one unit
    /// away from zero when twice the remainder is at least the divisor.
    fn div(&self, other: &Decimal) -> Result<Decimal, FnError> {
        if other.value.sign() == Sign::NoSign {
            return Err(failed("decimal division by 0"));
        }
        let scale = -DIVISION_PRECISION;
        let e = self.exp - other.exp - scale;
        let (a, b, rest_exp) = if e < 0 {
            (self.value.clone(), &other.value * pow10(-e)?, self.exp)
        } else {
            (
                &self.value * pow10(e)?,
                other.value.clone(),
                scale + other.exp,
            )
        };
        let (q, r) = (&a / &b, &a % &b);
        let twice_r = Decimal {
            value: r.magnitude().clone().into(),
            exp: rest_exp + DIVISION_PRECISION,
        };
        let twice_r = Decimal {
            value: twice_r.value * 2,
            exp: twice_r.exp,
        };
        let divisor = Decimal {
            value: other.value.magnitude().clone().into(),
            exp: other.exp,
        };
        let q = Decimal {
            value: q,
            exp: scale,
        };
        if twice_r.sub(&divisor)?.value.sign() == Sign::Minus {
            return Ok(q);
        }
        let unit = Decimal {
            value: BigInt::from(1),
            exp: scale,
        };
        // Go: d.value.Sign() * d2.value.Sign() < 0.
        let negative = matches!(
            (self.value.sign(), other.value.sign()),
            (Sign::Minus, Sign::Plus) | (Sign::Plus, Sign::Minus)
        );
        if negative { q.sub(&unit) } else { q.add(&unit) }
    }
}

/// 10^n. Float exponents stay within a few hundred, so n is bounded by the arguments'
/// count; a larger one is refused rather than computed.
fn pow10(n: i64) -> Result<BigInt, FnError> {
    let n = u32::try_from(n)
        .ok()
        .filter(|n| *n <= 100_000)
        .ok_or_else(|| FnError::Unsupported("a decimal exponent this large".into()))?;
    Ok(BigInt::from(10).pow(n))
}

type Op = fn(&Decimal, &Decimal) -> Result<Decimal, FnError>;

/// sprig's execDecimalOp: fold `rest` into `first`.
fn fold<'a>(cx: &Cx<'a>, first: f64, rest: &[Value<'a>], op: Op) -> R<'a> {
    cx.spend_steps(rest.len() as u64)?;
    let mut acc = Decimal::from_f64(first)?;
    for v in rest {
        acc = op(&acc, &Decimal::from_f64(to_f64(v))?)?;
    }
    Ok(Value::Float(acc.to_f64()))
}

fn add(a: &Decimal, b: &Decimal) -> Result<Decimal, FnError> {
    a.add(b)
}

fn sub(a: &Decimal, b: &Decimal) -> Result<Decimal, FnError> {
    a.sub(b)
}

fn mul(a: &Decimal, b: &Decimal) -> Result<Decimal, FnError> {
    Ok(a.mul(b))
}

fn div(a: &Decimal, b: &Decimal) -> Result<Decimal, FnError> {
    a.div(b)
}

pub(super) fn add1f<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let first = argv.first().map_or(0.0, to_f64);
    fold(cx, first, &[Value::int(1)], add)
}

pub(super) fn addf<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    fold(cx, 0.0, &argv, add)
}

fn first_and_rest<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>, op: Op) -> R<'a> {
    let (first, rest) = argv
        .split_first()
        .map_or((0.0, &[][..]), |(f, r)| (to_f64(f), r));
    fold(cx, first, rest, op)
}

pub(super) fn subf<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    first_and_rest(cx, argv, sub)
}

pub(super) fn mulf<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    first_and_rest(cx, argv, mul)
}

pub(super) fn divf<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    first_and_rest(cx, argv, div)
}
