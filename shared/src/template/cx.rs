//! What evaluation spends and draws on: the object's [`Budget`], the caller's [`Env`] (clock
//! and randomness), and the maps a template creates.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use time::OffsetDateTime;

use super::error::{
    FnError, MAX_BUILT_PER_OBJECT, MAX_LIST_LEN, MAX_STEPS_PER_OBJECT, TemplateError,
};
use super::value::{Dict, MapTy, Value};

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

    fn spend_steps(&mut self, n: u64) -> Result<(), TemplateError> {
        self.steps_left = self
            .steps_left
            .checked_sub(n)
            .ok_or(TemplateError::TooManySteps {
                limit: MAX_STEPS_PER_OBJECT,
            })?;
        Ok(())
    }
}

/// The world as templates may see it: the time and randomness that `now`, `date`,
/// `randAlphaNum`, `uuidv4`, `genPrivateKey`, ... use. `shared` has neither; the caller
/// passes them: the controller the real clock and a CSPRNG, tests fixed ones.
pub trait Env {
    /// The current time, or `None` when there is no clock (functions that need it are then
    /// refused with [`TemplateError::NoEnvironment`]).
    fn now(&mut self) -> Option<OffsetDateTime>;
    /// Fills `buf` with random bytes, or returns `false` when there is no randomness
    /// (functions that need it are then refused).
    fn fill_random(&mut self, buf: &mut [u8]) -> bool;
}

/// No clock and no randomness: every function that needs one is refused, never rendered
/// with a made-up value. What [`super::render`] and [`super::render_within`] use.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hermetic;

impl Env for Hermetic {
    fn now(&mut self) -> Option<OffsetDateTime> {
        None
    }
    fn fill_random(&mut self, _: &mut [u8]) -> bool {
        false
    }
}

/// A clock reading and a random number generator: the controller passes
/// `Context { now: OffsetDateTime::now_utc(), rng: rand::rng() }` (its own CSPRNG); tests a
/// fixed time and a seeded RNG, which makes rendering deterministic. `now` is read once:
/// every `now` of one render returns the same time.
pub struct Context<R> {
    pub now: OffsetDateTime,
    pub rng: R,
}

impl<R: rand_core::CryptoRng> Env for Context<R> {
    fn now(&mut self) -> Option<OffsetDateTime> {
        Some(self.now)
    }
    fn fill_random(&mut self, buf: &mut [u8]) -> bool {
        self.rng.fill_bytes(buf);
        true
    }
}

/// Evaluation's shared state, which functions also reach.
pub(super) struct Cx<'a> {
    budget: Cell<Budget>,
    env: RefCell<&'a mut dyn Env>,
    /// Every map created, emptied when evaluation ends so that maps that contain
    /// themselves (`set $d "me" $d`) do not leak.
    dicts: RefCell<Vec<Rc<RefCell<Dict<'a>>>>>,
}

impl Drop for Cx<'_> {
    fn drop(&mut self) {
        for dict in self.dicts.get_mut().drain(..) {
            if let Ok(mut d) = dict.try_borrow_mut() {
                d.entries.clear();
            }
        }
    }
}

impl<'a> Cx<'a> {
    pub(super) fn new(budget: Budget, env: &'a mut dyn Env) -> Cx<'a> {
        Cx {
            budget: Cell::new(budget),
            env: RefCell::new(env),
            dicts: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn budget(&self) -> Budget {
        self.budget.get()
    }

    pub(super) fn spend_bytes(&self, n: usize) -> Result<(), TemplateError> {
        let mut budget = self.budget.get();
        let spent = budget.spend_bytes(n);
        self.budget.set(budget);
        spent
    }

    pub(super) fn spend_steps(&self, n: u64) -> Result<(), TemplateError> {
        let mut budget = self.budget.get();
        let spent = budget.spend_steps(n);
        self.budget.set(budget);
        spent
    }

    /// Checks and pays for a list of `n` elements.
    pub(super) fn list_len(&self, n: usize) -> Result<(), FnError> {
        if n > MAX_LIST_LEN {
            return Err(FnError::Failed(format!(
                "list longer than {MAX_LIST_LEN} elements"
            )));
        }
        self.spend_bytes(n * 16)?;
        Ok(())
    }

    /// A new map (Go maps are references: `set` changes it for every holder).
    pub(super) fn dict(&self, ty: MapTy, entries: BTreeMap<Vec<u8>, Value<'a>>) -> Value<'a> {
        let dict = Rc::new(RefCell::new(Dict { ty, entries }));
        self.dicts.borrow_mut().push(dict.clone());
        Value::Dict(dict)
    }

    pub(super) fn now(&self) -> Result<OffsetDateTime, FnError> {
        self.env.borrow_mut().now().ok_or(FnError::NoEnv("a clock"))
    }

    pub(super) fn random(&self, buf: &mut [u8]) -> Result<(), FnError> {
        if self.env.borrow_mut().fill_random(buf) {
            Ok(())
        } else {
            Err(FnError::NoEnv("randomness"))
        }
    }

    /// A uniform random integer in `0..n` (`n > 0`), without modulo bias.
    pub(super) fn random_below(&self, n: u64) -> Result<u64, FnError> {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let mut b = [0u8; 8];
            self.random(&mut b)?;
            let v = u64::from_le_bytes(b);
            if v < zone {
                return Ok(v % n);
            }
        }
    }
}
