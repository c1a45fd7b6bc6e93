//! WIT values as JSON: the schema of a WIT type, and the conversions of a
//! value each way, for plain components ([`super::plain`]).
//!
//! | WIT | JSON | JSON Schema |
//! | --- | --- | --- |
//! | `bool` | `true` | `{"type":"boolean"}` |
//! | `s8` ... `u64` | an integer | `integer` with the type's `minimum` and `maximum` |
//! | `f32`, `f64` | a number (NaN and infinities come out as `null`) | `number` |
//! | `char` | a one-character string | `string`, `minLength` = `maxLength` = 1 |
//! | `string` | a string | `string` |
//! | `list<T>` | an array | `array` of T |
//! | `tuple<A, B>` | an array | `array` with `prefixItems`, exactly that long |
//! | `record` | an object, fields in snake_case | `object`, every non-option field required |
//! | `option<T>` | T or `null`; a parameter or field may be left out | `anyOf` [T, null] |
//! | `result<T, E>` | `{"ok": T}` or `{"err": E}` | `oneOf` the two |
//! | `variant` | `{"tag": "case"}` or `{"tag": "case", "value": T}` | `oneOf`, one per case |
//! | `enum` | the case name | `string` with `enum` |
//! | `flags` | an array of the names that are set | `array` of unique names |
//!
//! Names a client writes as keys (parameters, record fields) are snake_case
//! (`max-count` is `max_count`); names that are values (enum and variant
//! cases, flags) keep their WIT spelling. Resource handles, futures,
//! streams, error contexts, maps with keys other than strings and
//! `option<option<T>>` (whose two `none`s would be one `null`) have no JSON
//! form: a function using one is refused ([`Unsupported`]). `map<K, V>` and
//! fixed-length lists are off in Corral's engine (wasmtime gates them), so a
//! component using them does not compile; they are refused here too.
//!
//! Conversion never panics on any JSON: a value that does not fit its type
//! is an error naming where it sits (`at.x: expected an integer ...`).

use serde_json::{Map, Value, json};
use wasmtime::component::{Type, Val};

/// A type with no JSON form, described for the refusal.
#[derive(Debug)]
pub struct Unsupported(pub String);

/// `max-count` as `max_count`.
pub fn snake(name: &str) -> String {
    name.replace('-', "_")
}

/// The JSON Schema of `ty`.
pub fn schema(ty: &Type) -> Result<Value, Unsupported> {
    Ok(match ty {
        Type::Bool => json!({"type": "boolean"}),
        Type::S8 => integer(i8::MIN, i8::MAX),
        Type::U8 => integer(u8::MIN, u8::MAX),
        Type::S16 => integer(i16::MIN, i16::MAX),
        Type::U16 => integer(u16::MIN, u16::MAX),
        Type::S32 => integer(i32::MIN, i32::MAX),
        Type::U32 => integer(u32::MIN, u32::MAX),
        Type::S64 => integer(i64::MIN, i64::MAX),
        Type::U64 => integer(u64::MIN, u64::MAX),
        Type::Float32 | Type::Float64 => json!({"type": "number"}),
        Type::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
        Type::String => json!({"type": "string"}),
        Type::List(list) => json!({"type": "array", "items": schema(&list.ty())?}),
        Type::Map(_) | Type::FixedLengthList(_) => {
            return Err(Unsupported(format!(
                "a {} (not enabled in Corral's engine)",
                describe(ty)
            )));
        }
        Type::Tuple(tuple) => {
            let items = tuple.types().map(|t| schema(&t)).collect::<Result<Vec<_>, _>>()?;
            let n = items.len();
            json!({"type": "array", "prefixItems": items, "minItems": n, "maxItems": n})
        }
        Type::Record(record) => object(record.fields().map(|field| (snake(field.name), field.ty)))?,
        Type::Variant(variant) => {
            let cases = variant
                .cases()
                .map(|case| {
                    let mut properties = Map::new();
                    properties.insert("tag".into(), json!({"const": case.name}));
                    let mut required = vec![json!("tag")];
                    if let Some(ty) = &case.ty {
                        properties.insert("value".into(), schema(ty)?);
                        required.push(json!("value"));
                    }
                    Ok(json!({
                        "type": "object",
                        "properties": properties,
                        "required": required,
                        "additionalProperties": false,
                    }))
                })
                .collect::<Result<Vec<_>, _>>()?;
            json!({"oneOf": cases})
        }
        Type::Enum(cases) => json!({"type": "string", "enum": cases.names().collect::<Vec<_>>()}),
        Type::Flags(flags) => json!({
            "type": "array",
            "items": {"type": "string", "enum": flags.names().collect::<Vec<_>>()},
            "uniqueItems": true,
        }),
        Type::Option(option) => {
            let inner = option.ty();
            if matches!(inner, Type::Option(_)) {
                return Err(Unsupported(
                    "option<option<T>> (its two kinds of none would both be null)".into(),
                ));
            }
            json!({"anyOf": [schema(&inner)?, {"type": "null"}]})
        }
        Type::Result(result) => {
            let side = |name: &str, ty: Option<Type>| -> Result<Value, Unsupported> {
                let value = match ty {
                    Some(ty) => schema(&ty)?,
                    None => json!({"type": "null"}),
                };
                Ok(json!({
                    "type": "object",
                    "properties": {name: value},
                    "required": [name],
                    "additionalProperties": false,
                }))
            };
            json!({"oneOf": [side("ok", result.ok())?, side("err", result.err())?]})
        }
        Type::Own(_) | Type::Borrow(_) => {
            return Err(Unsupported(
                "a resource handle (it lives in the instance, which ends with the call)".into(),
            ));
        }
        Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err(Unsupported(format!("{} (an async value)", describe(ty))));
        }
    })
}

/// The schema of an object with these named members: a record, or a
/// function's parameters. Option members may be left out.
pub fn object(members: impl Iterator<Item = (String, Type)>) -> Result<Value, Unsupported> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, ty) in members {
        if !matches!(ty, Type::Option(_)) {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema(&ty)?);
    }
    Ok(json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    }))
}

fn integer<T: Into<Value>>(min: T, max: T) -> Value {
    json!({"type": "integer", "minimum": min.into(), "maximum": max.into()})
}

/// A short name of a type, for messages.
pub fn describe(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "bool",
        Type::S8 => "s8",
        Type::U8 => "u8",
        Type::S16 => "s16",
        Type::U16 => "u16",
        Type::S32 => "s32",
        Type::U32 => "u32",
        Type::S64 => "s64",
        Type::U64 => "u64",
        Type::Float32 => "f32",
        Type::Float64 => "f64",
        Type::Char => "char",
        Type::String => "string",
        Type::List(_) => "list",
        Type::FixedLengthList(_) => "fixed-length list",
        Type::Map(_) => "map",
        Type::Record(_) => "record",
        Type::Tuple(_) => "tuple",
        Type::Variant(_) => "variant",
        Type::Enum(_) => "enum",
        Type::Option(_) => "option",
        Type::Result(_) => "result",
        Type::Flags(_) => "flags",
        Type::Own(_) => "own<resource>",
        Type::Borrow(_) => "borrow<resource>",
        Type::Future(_) => "future",
        Type::Stream(_) => "stream",
        Type::ErrorContext => "error-context",
    }
}

/// Converts the JSON at `path` to a value of `ty`; the error names `path`.
pub fn to_val(ty: &Type, json: &Value, path: &str) -> Result<Val, String> {
    let mismatch =
        |expected: &str| format!("{}: expected {expected}, got {}", show(path), kind(json));
    Ok(match ty {
        Type::Bool => Val::Bool(json.as_bool().ok_or_else(|| mismatch("a boolean"))?),
        Type::S8 => Val::S8(int(json, path, i8::MIN, i8::MAX)?),
        Type::U8 => Val::U8(int(json, path, u8::MIN, u8::MAX)?),
        Type::S16 => Val::S16(int(json, path, i16::MIN, i16::MAX)?),
        Type::U16 => Val::U16(int(json, path, u16::MIN, u16::MAX)?),
        Type::S32 => Val::S32(int(json, path, i32::MIN, i32::MAX)?),
        Type::U32 => Val::U32(int(json, path, u32::MIN, u32::MAX)?),
        Type::S64 => Val::S64(int(json, path, i64::MIN, i64::MAX)?),
        Type::U64 => Val::U64(int(json, path, u64::MIN, u64::MAX)?),
        Type::Float32 => Val::Float32(json.as_f64().ok_or_else(|| mismatch("a number"))? as f32),
        Type::Float64 => Val::Float64(json.as_f64().ok_or_else(|| mismatch("a number"))?),
        Type::Char => {
            let text = json.as_str().ok_or_else(|| mismatch("a one-character string"))?;
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => {
                    return Err(format!(
                        "{}: expected exactly one character, got {} characters",
                        show(path),
                        text.chars().count()
                    ));
                }
            }
        }
        Type::String => Val::String(json.as_str().ok_or_else(|| mismatch("a string"))?.to_owned()),
        Type::List(list) => {
            let items = json.as_array().ok_or_else(|| mismatch("an array"))?;
            Val::List(elements(&list.ty(), items, path)?)
        }
        Type::Tuple(tuple) => {
            let items = json.as_array().ok_or_else(|| mismatch("an array"))?;
            if items.len() != tuple.types().len() {
                return Err(mismatch(&format!(
                    "an array of exactly {} items",
                    tuple.types().len()
                )));
            }
            let values = tuple
                .types()
                .zip(items)
                .enumerate()
                .map(|(i, (ty, item))| to_val(&ty, item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?;
            Val::Tuple(values)
        }
        Type::Record(record) => {
            let object = json.as_object().ok_or_else(|| mismatch("an object"))?;
            let fields: Vec<(String, Type)> =
                record.fields().map(|f| (f.name.to_owned(), f.ty)).collect();
            Val::Record(members(&fields, object, path)?)
        }
        Type::Variant(variant) => {
            let object = json.as_object().ok_or_else(|| mismatch("an object with a \"tag\""))?;
            let tag = object.get("tag").and_then(Value::as_str).ok_or_else(|| {
                format!("{}: expected an object with a \"tag\" naming the case", show(path))
            })?;
            let case = variant.cases().find(|case| case.name == tag).ok_or_else(|| {
                let names: Vec<&str> = variant.cases().map(|c| c.name).collect();
                format!("{}: unknown case {tag:?} (one of {})", show(path), names.join(", "))
            })?;
            if let Some(extra) = object.keys().find(|k| *k != "tag" && *k != "value") {
                return Err(format!("{}: unexpected member {extra:?}", show(path)));
            }
            let payload = match (&case.ty, object.get("value")) {
                (Some(ty), Some(value)) => {
                    Some(Box::new(to_val(ty, value, &member(path, "value"))?))
                }
                (Some(_), None) => {
                    return Err(format!("{}: case {tag:?} needs a \"value\"", show(path)));
                }
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(format!("{}: case {tag:?} takes no \"value\"", show(path)));
                }
            };
            Val::Variant(tag.to_owned(), payload)
        }
        Type::Enum(cases) => {
            let name = json.as_str().ok_or_else(|| mismatch("a string"))?;
            if !cases.names().any(|n| n == name) {
                let names: Vec<&str> = cases.names().collect();
                return Err(format!(
                    "{}: unknown case {name:?} (one of {})",
                    show(path),
                    names.join(", ")
                ));
            }
            Val::Enum(name.to_owned())
        }
        Type::Flags(flags) => {
            let items = json.as_array().ok_or_else(|| mismatch("an array of flag names"))?;
            let mut set = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let name =
                    item.as_str().filter(|n| flags.names().any(|f| f == *n)).ok_or_else(|| {
                        let names: Vec<&str> = flags.names().collect();
                        format!(
                            "{path}[{i}]: expected one of {}, got {}",
                            names.join(", "),
                            kind(item)
                        )
                    })?;
                if set.iter().any(|s: &String| s == name) {
                    return Err(format!("{path}[{i}]: flag {name:?} given twice"));
                }
                set.push(name.to_owned());
            }
            Val::Flags(set)
        }
        Type::Option(option) => match json {
            Value::Null => Val::Option(None),
            some => Val::Option(Some(Box::new(to_val(&option.ty(), some, path)?))),
        },
        Type::Result(result) => {
            let object = json
                .as_object()
                .filter(|o| o.len() == 1)
                .ok_or_else(|| mismatch("an object with exactly one of \"ok\" or \"err\""))?;
            let side = |ty: Option<Type>, value: &Value, name: &str| match ty {
                Some(ty) => Ok(Some(Box::new(to_val(&ty, value, &member(path, name))?))),
                None if value.is_null() => Ok(None),
                None => Err(format!("{}: {name} carries no value here; give null", show(path))),
            };
            match object.iter().next() {
                Some((k, v)) if k == "ok" => Val::Result(Ok(side(result.ok(), v, "ok")?)),
                Some((k, v)) if k == "err" => Val::Result(Err(side(result.err(), v, "err")?)),
                _ => return Err(mismatch("an object with exactly one of \"ok\" or \"err\"")),
            }
        }
        Type::Own(_)
        | Type::Borrow(_)
        | Type::Future(_)
        | Type::Stream(_)
        | Type::ErrorContext
        | Type::Map(_)
        | Type::FixedLengthList(_) => {
            return Err(format!("{}: a {} has no JSON form", show(path), describe(ty)));
        }
    })
}

/// The named members of a record or of a function's parameters, from a
/// JSON object keyed by their snake_case names; option members may be
/// missing, unknown keys are refused.
pub fn members(
    members: &[(String, Type)],
    object: &Map<String, Value>,
    path: &str,
) -> Result<Vec<(String, Val)>, String> {
    if let Some(unknown) = object.keys().find(|k| !members.iter().any(|(n, _)| snake(n) == **k)) {
        let known: Vec<String> = members.iter().map(|(n, _)| snake(n)).collect();
        return Err(format!(
            "{}: unknown member {unknown:?} (expected {})",
            show(path),
            if known.is_empty() { "none".into() } else { known.join(", ") }
        ));
    }
    members
        .iter()
        .map(|(name, ty)| {
            let key = snake(name);
            let value = match (object.get(&key), ty) {
                (Some(value), _) => to_val(ty, value, &member(path, &key))?,
                (None, Type::Option(_)) => Val::Option(None),
                (None, _) => return Err(format!("{}: missing", show(&member(path, &key)))),
            };
            Ok((name.clone(), value))
        })
        .collect()
}

fn elements(ty: &Type, items: &[Value], path: &str) -> Result<Vec<Val>, String> {
    items.iter().enumerate().map(|(i, item)| to_val(ty, item, &format!("{path}[{i}]"))).collect()
}

/// An integer from `min` to `max` from a JSON number (an integral float
/// like `3.0` counts, as in JSON Schema).
fn int<T: Copy + Into<i128> + TryFrom<i128>>(
    json: &Value,
    path: &str,
    min: T,
    max: T,
) -> Result<T, String> {
    let out_of_range = || {
        format!(
            "{}: expected an integer from {} to {}, got {}",
            show(path),
            min.into(),
            max.into(),
            kind(json)
        )
    };
    let Value::Number(n) = json else { return Err(out_of_range()) };
    let wide: i128 = match (n.as_u64(), n.as_i64(), n.as_f64()) {
        (Some(v), _, _) => v.into(),
        (None, Some(v), _) => v.into(),
        // Within ±2^64 the cast is exact for an integral float.
        (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 2f64.powi(64) => f as i128,
        _ => return Err(out_of_range()),
    };
    T::try_from(wide).map_err(|_| out_of_range())
}

fn member(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn show(path: &str) -> &str {
    if path.is_empty() { "arguments" } else { path }
}

/// What a JSON value is, for messages: short values as they are, long ones
/// by kind.
fn kind(json: &Value) -> String {
    match json {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() <= 40 => format!("{s:?}"),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

/// A value as JSON, as [`schema`] describes it.
pub fn from_val(val: &Val) -> Value {
    match val {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(v) => (*v).into(),
        Val::U8(v) => (*v).into(),
        Val::S16(v) => (*v).into(),
        Val::U16(v) => (*v).into(),
        Val::S32(v) => (*v).into(),
        Val::U32(v) => (*v).into(),
        Val::S64(v) => (*v).into(),
        Val::U64(v) => (*v).into(),
        // The shortest decimal that reads back as the same f32 (0.1, not
        // 0.10000000149011612).
        Val::Float32(v) => v.to_string().parse::<f64>().ok().map_or(Value::Null, Value::from),
        Val::Float64(v) => serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) => Value::Array(items.iter().map(from_val).collect()),
        Val::Record(fields) => {
            Value::Object(fields.iter().map(|(name, v)| (snake(name), from_val(v))).collect())
        }
        Val::Variant(tag, payload) => {
            let mut object = Map::new();
            object.insert("tag".into(), Value::String(tag.clone()));
            if let Some(payload) = payload {
                object.insert("value".into(), from_val(payload));
            }
            Value::Object(object)
        }
        Val::Enum(name) => Value::String(name.clone()),
        Val::Flags(names) => Value::Array(names.iter().cloned().map(Value::String).collect()),
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => from_val(v),
        Val::Result(result) => {
            let (side, payload) = match result {
                Ok(v) => ("ok", v),
                Err(v) => ("err", v),
            };
            let mut object = Map::new();
            object.insert(side.into(), payload.as_deref().map_or(Value::Null, from_val));
            Value::Object(object)
        }
        // Refused at load: a served function never returns one.
        Val::Resource(_)
        | Val::Future(_)
        | Val::Stream(_)
        | Val::ErrorContext(_)
        | Val::Map(_)
        | Val::FixedLengthList(_) => Value::Null,
    }
}
