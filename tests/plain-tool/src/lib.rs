//! A plain component (`corral-test:plain/plain`, `wit/plain.wit`): typed
//! exports and no `corral:mcp` interface. The host serves each function as
//! a tool with a schema derived from its WIT types; the functions echo what
//! they are given so that the host's tests can check every type's round
//! trip, an `err` result, and the refusal of a function that deals in
//! resource handles.

mod bindings {
    // Generated code: its items carry the WIT doc comments, not ours.
    #![allow(missing_docs, clippy::all)]

    wit_bindgen::generate!({
        path: "wit",
        world: "plain",
    });
}

use std::cell::Cell;

use bindings::exports::corral_test::plain::handles::{self, Counter, GuestCounter};
use bindings::exports::corral_test::plain::kinds::{self, Color, Perms, Point, Shape};

/// Implements the world and both interfaces.
pub struct Plain;

impl bindings::Guest for Plain {
    fn add(a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }

    fn greet(who: String, shout: Option<bool>) -> String {
        let greeting = format!("hello, {who}");
        if shout == Some(true) { greeting.to_uppercase() } else { greeting }
    }
}

type Scalars = (bool, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, char, String);
type Compound = (Vec<String>, Option<u32>, (String, u8), Point, Shape, Color, Perms);

impl kinds::Guest for Plain {
    #[allow(clippy::too_many_arguments)]
    fn scalars(
        b: bool,
        i8v: i8,
        u8v: u8,
        i16v: i16,
        u16v: u16,
        i32v: i32,
        u32v: u32,
        i64v: i64,
        u64v: u64,
        f32v: f32,
        f64v: f64,
        c: char,
        s: String,
    ) -> Scalars {
        (b, i8v, u8v, i16v, u16v, i32v, u32v, i64v, u64v, f32v, f64v, c, s)
    }

    fn compound(
        items: Vec<String>,
        maybe: Option<u32>,
        pair: (String, u8),
        at: Point,
        shape: Shape,
        color: Color,
        perms: Perms,
    ) -> Compound {
        (items, maybe, pair, at, shape, color, perms)
    }

    fn move_point(at: Point, dx: i32, dy: i32) -> Point {
        Point { x: at.x.wrapping_add(dx), y: at.y.wrapping_add(dy) }
    }

    fn divide(a: f64, b: f64) -> Result<f64, String> {
        if b == 0.0 { Err(format!("cannot divide {a} by zero")) } else { Ok(a / b) }
    }

    fn check_name(name: String) -> Result<(), Shape> {
        match name.len() {
            0 => Err(Shape::Dot),
            n if n > 8 => Err(Shape::Circle(n as f64)),
            _ => Ok(()),
        }
    }

    fn nothing() {}

    fn pass_result(r: Result<u32, String>) -> Result<u32, String> {
        r
    }
}

/// The guest side of `counter`.
pub struct GuestSideCounter(Cell<u32>);

impl GuestCounter for GuestSideCounter {
    fn new(start: u32) -> Self {
        Self(Cell::new(start))
    }

    fn next(&self) -> u32 {
        let value = self.0.get();
        self.0.set(value.wrapping_add(1));
        value
    }
}

impl handles::Guest for Plain {
    type Counter = GuestSideCounter;

    fn make_counter(start: u32) -> Counter {
        Counter::new(GuestSideCounter::new(start))
    }

    fn count_to(n: u32) -> Vec<u32> {
        (1..=n.min(10_000)).collect()
    }
}

bindings::export!(Plain with_types_in bindings);
